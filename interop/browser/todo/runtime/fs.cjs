// `fs` for the browser bundle: the page has no file system. Loading the modules that import fs
// (hypercore-storage, device-file, fd-lock) must work; the store is in memory (rocksdb-memory.cjs)
// so no file call is made on the paths the client uses. Any call that does happen fails like a
// missing file (ENOENT), never silently succeeds.
'use strict'
function enoent (name) {
  const err = new Error('ENOENT: no file system in the browser (fs.' + name + ')')
  err.code = 'ENOENT'
  return err
}
const sync = (name) => () => { throw enoent(name) }
const cb = (name) => (...args) => {
  const done = args[args.length - 1]
  if (typeof done === 'function') queueMicrotask(() => done(enoent(name)))
}
const promise = (name) => async () => { throw enoent(name) }
const NAMES = ['open', 'close', 'read', 'write', 'stat', 'fstat', 'lstat', 'readdir', 'mkdir', 'rename', 'unlink', 'rm', 'readFile', 'writeFile', 'ftruncate', 'fsync', 'access']
const fs = { existsSync: () => false, constants: {} }
fs.promises = {}
for (const n of NAMES) {
  fs[n] = cb(n)
  fs[n + 'Sync'] = sync(n)
  fs.promises[n] = promise(n)
}
module.exports = fs
