// compact-encoding vectors: a representative set of values per codec, encoded by the pinned
// compact-encoding 3.5.2 (hex), plus decodes of chosen and seeded-random byte strings.
// Values are JSON: bytes as hex, floats that JSON cannot carry as "NaN"/"Infinity"/"-Infinity"/"-0",
// addresses as [host, port]. Codec names are the JS export names; "array(x)" / "frame(x)" compose.
'use strict'
const c = require('compact-encoding')
const b4a = require('b4a')
const { request, typical } = require('../scripts/encoding-message.js')

function rng (seed) { // mulberry32: deterministic across runs
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const BYTES = new Set(['buffer', 'optionalBuffer', 'raw', 'uint8array', 'fixed8', 'fixed16', 'fixed32', 'fixed64'])
const FLOATS = new Set(['float32', 'float64'])
const ADDRS = new Set(['ipv4Address', 'ipv6Address', 'ipAddress'])

function codec (name) {
  const m = /^(array|frame)\((.*)\)$/.exec(name)
  if (m) return c[m[1]](codec(m[2]))
  if (name === 'uint32array') return c.uint32array
  if (!c[name]) throw new Error('no codec ' + name)
  return c[name]
}

function leaf (name) {
  const m = /^(array|frame)\((.*)\)$/.exec(name)
  return m ? leaf(m[2]) : name
}

function toJS (name, v) {
  const kind = leaf(name)
  if (/^array\(/.test(name)) return v.map(x => toJS(name.slice(6, -1), x))
  if (/^frame\(/.test(name)) return toJS(name.slice(6, -1), v)
  if (name === 'uint32array') return new Uint32Array(v)
  if (v === null) return null
  if (BYTES.has(kind)) return b4a.from(v, 'hex')
  if (FLOATS.has(kind) && typeof v === 'string') return Number(v === '-0' ? '-0' : v)
  if (ADDRS.has(kind)) return { host: v[0], port: v[1] }
  return v
}

function toJSON (v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN'
    if (v === Infinity) return 'Infinity'
    if (v === -Infinity) return '-Infinity'
    if (Object.is(v, -0)) return '-0'
    return v
  }
  if (v instanceof Uint32Array) return Array.from(v)
  if (b4a.isBuffer(v) || v instanceof Uint8Array) return b4a.toString(v, 'hex')
  if (Array.isArray(v)) return v.map(toJSON)
  if (typeof v === 'object' && 'host' in v) return [v.host, v.port]
  return v
}

function randomBytes (r, n) {
  const b = b4a.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256)
  return b
}

function randomUint (r) {
  const bits = Math.floor(r() * 54)
  return Math.floor(r() * 2 ** bits)
}

function randomString (r) {
  const pool = [0x61, 0x7a, 0x20, 0xe9, 0x20ac, 0xd800, 0xdc00, 0xd83d, 0xde00, 0xfeff, 0xffff, 0x10, 0x7f, 0x80, 0x7ff, 0x800]
  const n = Math.floor(r() * 12)
  const units = []
  for (let i = 0; i < n; i++) units.push(r() < 0.7 ? pool[Math.floor(r() * pool.length)] : Math.floor(r() * 0x10000))
  return String.fromCharCode(...units)
}

function values (r) {
  const v = {}
  const uints = [0, 1, 0xfc, 0xfd, 0xfe, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, 2 ** 53 - 1]
  for (let i = 0; i < 30; i++) uints.push(randomUint(r))
  const ints = [0, -1, 1, -126, 126, -127, 127, -128, 128, 2 ** 31 - 1, -(2 ** 31), 2 ** 52 - 1, -(2 ** 52)]
  for (let i = 0; i < 30; i++) ints.push(Math.floor(r() * 2 ** 52) * (r() < 0.5 ? -1 : 1) / 2 ** Math.floor(r() * 52))
  const intsClean = ints.map(Math.trunc).map(n => Object.is(n, -0) ? 0 : n)
  v.uint = uints
  v.uint8 = [0, 1, 127, 255, 256, 257, 1000, 2 ** 53 - 1]
  v.uint16 = [0, 1, 255, 256, 0xffff, 0x10000, 0x12345, 2 ** 40 + 7]
  v.uint24 = [0, 0x123456, 0xffffff, 0x1000000, 2 ** 53 - 1]
  v.uint32 = [0, 0x12345678, 0xffffffff, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1]
  v.uint40 = [0, 2 ** 40 - 1, 2 ** 40, 2 ** 40 + 0x1234, 2 ** 53 - 1]
  v.uint48 = [0, 2 ** 48 - 1, 2 ** 48 + 99, 2 ** 53 - 1]
  v.uint56 = [0, 2 ** 53 - 1, 0x12345678abcd]
  v.uint64 = uints
  v.uint32be = [0, 0x01020304, 0xffffffff, 2 ** 32 + 1]
  v.uint64be = [0, 2 ** 32, 2 ** 53 - 1, 0x0102030405]
  v.int = intsClean
  for (const w of [8, 16, 24, 32, 40, 48, 56, 64]) v['int' + w] = intsClean
  v.bool = [true, false]
  v.float64 = [0, '-0', 1, -1, 0.1, 1e308, 5e-324, -2.5e-300, 'NaN', 'Infinity', '-Infinity', 2 ** 53 + 2]
  v.float32 = [0, '-0', 1, 0.1, 16777217, 16777219, 3.4028235677973366e38, 3.4028236e38, 4e38, -4e38, 1e-46, 1e-45, 'NaN', 'Infinity']
  for (let i = 0; i < 10; i++) { v.float64.push((r() - 0.5) * 10 ** Math.floor(r() * 40 - 20)); v.float32.push((r() - 0.5) * 10 ** Math.floor(r() * 80 - 40)) }
  v.buffer = ['', '00', '616263', b4a.toString(randomBytes(r, 252), 'hex'), b4a.toString(randomBytes(r, 253), 'hex')]
  v.uint8array = v.buffer
  v.optionalBuffer = [null, '', '00', '616263']
  v.raw = ['', '00', '616263']
  v.fixed32 = [b4a.toString(randomBytes(r, 32), 'hex')]
  v.fixed64 = [b4a.toString(randomBytes(r, 64), 'hex')]
  v.fixed16 = [b4a.toString(randomBytes(r, 16), 'hex')]
  v.fixed8 = [b4a.toString(randomBytes(r, 8), 'hex')]
  v.utf8 = ['', 'abc', 'héllo', 'a\u00e9\u20ac', '\ud83d\ude00', '\ud800', 'a\udc00b', '\ud83d', '\ude00\ud83d', '\ufeffbom', 'x'.repeat(56), 'x'.repeat(57) + 'é', 'y'.repeat(300)]
  for (let i = 0; i < 40; i++) v.utf8.push(randomString(r))
  v.string = ['same as utf8', '\u0000']
  v.uint32array = [[], [0], [1, 2, 0xffffffff], Array.from({ length: 5 }, () => Math.floor(r() * 2 ** 32))]
  v['array(uint)'] = [[], [1, 2, 3], [253, 2 ** 40]]
  v['array(utf8)'] = [[], ['a', 'bc', 'é']]
  v['array(array(uint))'] = [[[1], [], [2, 3]]]
  v['frame(uint)'] = [5, 300, 2 ** 40]
  v['frame(array(utf8))'] = [['a', 'b']]
  v['frame(buffer)'] = ['', '0102']
  v.ipv4 = ['0.0.0.0', '1.2.3.4', '255.255.255.255', '10.0.0.1', '192.168.001.010']
  v.ipv4Address = [['1.2.3.4', 49737], ['127.0.0.1', 0], ['255.255.255.255', 65535], ['8.8.8.8', 65536 + 53]]
  v['array(ipv4Address)'] = [[['1.2.3.4', 1], ['5.6.7.8', 2]]]
  const v6 = ['::', '::1', '1::', 'fe80::1', '2001:db8::ff00:42:8329', '2001:0db8:0000:0000:0000:ff00:0042:8329', 'FFFF:ffff::', '1:2:3:4:5:6:7:8', '1::8', '1:2:3::7:8', 'a:b:c:d:e:f::']
  v.ipv6 = v6
  v.ipv6Address = v6.map((h, i) => [h, i * 1000])
  v.ip = ['1.2.3.4', '::1', '2001:db8::1']
  v.ipAddress = [['1.2.3.4', 80], ['::1', 80], ['fe80::a:b', 443]]
  return v
}

function decodeInputs (r) {
  const d = {}
  const randoms = n => Array.from({ length: n }, () => b4a.toString(randomBytes(r, 1 + Math.floor(r() * 12)), 'hex'))
  d.uint = ['fd0100', 'fe01000000', 'ff0100000000000000', 'ffffffffffffff1f00', ...randoms(10)]
  d.bool = ['00', '01', '02', 'ff']
  d.float32 = ['0100c07f', '0100807f', 'ffffffff', '0000807f', '01000000']
  d.float64 = ['010000000000f87f', '010000000000f07f', 'ffffffffffffffff', '0100000000000000']
  // utf8: a length byte, then random bytes biased towards the lead/continuation bytes of UTF-8
  const biased = () => {
    const n = 1 + Math.floor(r() * 10)
    const b = b4a.alloc(n + 1)
    b[0] = n
    const pool = [0x41, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f]
    for (let i = 1; i <= n; i++) b[i] = r() < 0.8 ? pool[Math.floor(r() * pool.length)] : Math.floor(r() * 256)
    return b4a.toString(b, 'hex')
  }
  d.utf8 = ['02c328', '02c0af', '03eda080', '04f4908080', '03e18061', '03e08041', '03efbbbf', '04f09f9880', '03f09f98', ...Array.from({ length: 80 }, biased)]
  d.ipv6 = ['00000000000000000000000000000001', '20010db8000000000000ff0000428329', 'ffffffffffffffffffffffffffffffff']
  d.ip = ['0401020304', '0600000000000000000000000000000001', '0500000000000000000000000000000001']
  d.ipAddress = ['04010203045000', '0600000000000000000000000000000001bb01', '0700000000000000000000000000000001bb01']
  d.optionalBuffer = ['00', '0100', '03616263']
  d['frame(uint)'] = ['0305ffff61', '0105']
  return d
}

module.exports = async () => {
  const r = rng(0x5eed)
  const encodes = []
  for (const [name, list] of Object.entries(values(r))) {
    const enc = codec(name)
    for (const value of list) encodes.push({ codec: name, value, hex: b4a.toString(c.encode(enc, toJS(name, value)), 'hex') })
  }
  const decodes = []
  for (const [name, list] of Object.entries(decodeInputs(r))) {
    const enc = codec(name)
    for (const hex of list) {
      const buf = b4a.from(hex, 'hex')
      const state = c.state(0, buf.byteLength, buf)
      let out
      try {
        const v = enc.decode(state)
        out = { decodes: toJSON(v), read: state.start }
        if (typeof v === 'number' && Number.isNaN(v)) out.bits = b4a.toString(c.encode(enc, v), 'hex')
        if (v && typeof v === 'object' && 'family' in v) out.family = v.family
      } catch {
        out = { rejects: true }
      }
      decodes.push({ codec: name, hex, ...out })
    }
  }
  // the dht-rpc-like request of the benchmark, with each combination of optional fields
  const messages = []
  const base = typical()
  for (let mask = 0; mask < 32; mask++) {
    const m = {
      tid: Math.floor(r() * 65536),
      to: { host: [1, 2, 3, 4].map(() => Math.floor(r() * 256)).join('.'), port: Math.floor(r() * 65536) },
      id: mask & 1 ? randomBytes(r, 32) : null,
      token: mask & 2 ? randomBytes(r, 32) : null,
      internal: (mask & 4) !== 0,
      command: randomUint(r),
      target: mask & 8 ? randomBytes(r, 32) : null,
      value: mask & 16 ? randomBytes(r, Math.floor(r() * 300)) : null
    }
    messages.push({ message: messageJSON(m), hex: b4a.toString(c.encode(request, m), 'hex') })
  }
  messages.push({ message: messageJSON(base), hex: b4a.toString(c.encode(request, base), 'hex') })
  return { encodes, decodes, messages }
}

function messageJSON (m) {
  const hex = b => (b ? b4a.toString(b, 'hex') : null)
  return { tid: m.tid, to: [m.to.host, m.to.port], id: hex(m.id), token: hex(m.token), internal: m.internal, command: m.command, target: hex(m.target), value: hex(m.value) }
}
