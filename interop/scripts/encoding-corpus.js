// Answers every case of the compact-encoding-test corpus with the pinned compact-encoding, in the
// corpus's own answer format, so hyperpunch's conformance test can tell where the corpus's
// answers.json and the reference disagree.
//
// Usage: node encoding-corpus.js <fixtures dir>
// Prints { "<codec dir>": { "<case id>": <answer> } } for every codec dir that has cases.
//   encode:  { "hex": "..." } or { "refused": true }
//   decode:  { "decodes": <value>, "read": <bytes consumed>[, "bits": <re-encoding of a NaN>] }
//            or { "rejects": true }
// Value conventions follow the corpus: bytes as hex, NaN/Infinity/-0 as strings, BigInt as "<n>n".
'use strict'
const fs = require('fs')
const path = require('path')
const c = require('compact-encoding')
const b4a = require('b4a')

const BYTES = new Set(['buffer', 'optionalBuffer', 'raw', 'uint8array', 'fixed'])

function codecOf (dir, spec) {
  if (spec) return build(spec)
  return build({ name: dir.replace(/^fixed-(\d+)$/, 'fixed'), of: /^fixed-\d+$/.test(dir) ? [Number(dir.slice(6))] : [] })
}

function build (spec) {
  const of = spec.of || []
  switch (spec.name) {
    case 'fixed': return c.fixed(of[0])
    case 'array': return c.array(build(of[0]))
    case 'frame': return c.frame(build(of[0]))
    case 'record': return c.record(build(of[0]), build(of[1]))
    default: {
      const enc = c[spec.name]
      if (!enc) throw new Error('no codec ' + spec.name)
      return enc
    }
  }
}

function kindOf (dir, spec) {
  if (spec) return spec.name
  if (/^fixed-\d+$/.test(dir) || dir === 'fixed8') return 'fixed'
  return dir
}

function toValue (kind, v) {
  if (v === null) return null
  if (BYTES.has(kind) && typeof v === 'string') return b4a.from(v, 'hex')
  if (typeof v === 'object' && v !== null && Array.isArray(v.units)) return String.fromCharCode(...v.units)
  if (v === 'NaN') return NaN
  if (v === 'Infinity') return Infinity
  if (v === '-Infinity') return -Infinity
  if (v === '-0') return -0
  return v
}

function fromValue (v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString() + 'n'
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN'
    if (v === Infinity) return 'Infinity'
    if (v === -Infinity) return '-Infinity'
    if (Object.is(v, -0)) return '-0'
    return v
  }
  if (b4a.isBuffer(v) || v instanceof Uint8Array) return b4a.toString(v, 'hex')
  if (Array.isArray(v)) return v.map(fromValue)
  if (typeof v === 'object') {
    const o = {}
    for (const k of Object.keys(v)) o[k] = fromValue(v[k])
    return o
  }
  return v
}

function answer (enc, kind, input) {
  if ('value' in input) {
    try {
      return { hex: b4a.toString(c.encode(enc, toValue(kind, input.value)), 'hex') }
    } catch {
      return { refused: true }
    }
  }
  const buf = b4a.from(input.bytes, 'hex')
  const state = c.state(0, buf.byteLength, buf)
  let v
  try {
    v = enc.decode(state)
  } catch {
    return { rejects: true }
  }
  const out = { decodes: fromValue(v), read: state.start }
  if (typeof v === 'number' && Number.isNaN(v)) out.bits = b4a.toString(c.encode(enc, v), 'hex')
  return out
}

function main () {
  const dir = process.argv[2]
  const out = {}
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name, 'cases.json')
    if (!fs.existsSync(file)) continue
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'))
    if (!doc.cases.length) continue
    const enc = codecOf(name, doc.codec)
    const kind = kindOf(name, doc.codec)
    out[name] = {}
    for (const cs of doc.cases) out[name][cs.id] = answer(enc, kind, cs.input)
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n')
}

main()
