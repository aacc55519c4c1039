// `path` for the browser bundle: POSIX join/resolve/dirname/basename/extname/normalize over
// plain strings (hypercore-storage builds paths it never opens when handed an in-memory db).
'use strict'
function normalize (p) {
  const abs = p.startsWith('/')
  const out = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop()
      else if (!abs) out.push('..')
    } else out.push(part)
  }
  const s = out.join('/')
  return abs ? '/' + s : s || '.'
}
const join = (...parts) => normalize(parts.filter((x) => x !== '').join('/'))
const resolve = (...parts) => {
  let p = ''
  for (const part of parts) p = part.startsWith('/') ? part : p + '/' + part
  return normalize(p.startsWith('/') ? p : '/' + p)
}
const dirname = (p) => {
  const n = normalize(p)
  const i = n.lastIndexOf('/')
  return i < 0 ? '.' : i === 0 ? '/' : n.slice(0, i)
}
const basename = (p, ext) => {
  const b = normalize(p).split('/').pop()
  return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b
}
const extname = (p) => {
  const b = basename(p)
  const i = b.lastIndexOf('.')
  return i <= 0 ? '' : b.slice(i)
}
module.exports = { sep: '/', delimiter: ':', normalize, join, resolve, dirname, basename, extname, isAbsolute: (p) => p.startsWith('/') }
module.exports.posix = module.exports
