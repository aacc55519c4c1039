// A dht-rpc-like request message built from compact-encoding primitives, the same layout as
// dht-rpc 6.x io.js _encodeRequest/Request.decode: type byte, flags, tid uint16, to ipv4Address,
// then id?/token? (fixed32), command uint, target? (fixed32), value? (buffer) in flag-bit order.
// Shared by interop/vectors/encoding.js and interop/bench/encoding.js; hyperpunch's twin is
// bench/bench_encoding.py (REQUEST).
'use strict'
const c = require('compact-encoding')

const TYPE = 0x03

const request = {
  preencode (state, m) {
    state.end += 1 + 1 + 2 + 6
    if (m.id) state.end += 32
    if (m.token) state.end += 32
    c.uint.preencode(state, m.command)
    if (m.target) state.end += 32
    if (m.value) c.buffer.preencode(state, m.value)
  },
  encode (state, m) {
    state.buffer[state.start++] = TYPE
    state.buffer[state.start++] =
      (m.id ? 1 : 0) | (m.token ? 2 : 0) | (m.internal ? 4 : 0) | (m.target ? 8 : 0) | (m.value ? 16 : 0)
    c.uint16.encode(state, m.tid)
    c.ipv4Address.encode(state, m.to)
    if (m.id) c.fixed32.encode(state, m.id)
    if (m.token) c.fixed32.encode(state, m.token)
    c.uint.encode(state, m.command)
    if (m.target) c.fixed32.encode(state, m.target)
    if (m.value) c.buffer.encode(state, m.value)
  },
  decode (state) {
    const type = c.uint8.decode(state)
    if (type !== TYPE) throw new Error('Unknown message type')
    const flags = c.uint.decode(state)
    const tid = c.uint16.decode(state)
    const to = c.ipv4Address.decode(state)
    const id = flags & 1 ? c.fixed32.decode(state) : null
    const token = flags & 2 ? c.fixed32.decode(state) : null
    const internal = (flags & 4) !== 0
    const command = c.uint.decode(state)
    const target = flags & 8 ? c.fixed32.decode(state) : null
    const value = flags & 16 ? c.buffer.decode(state) : null
    return { tid, to: { host: to.host, port: to.port }, id, token, internal, command, target, value }
  }
}

// The typical message the benchmark encodes and decodes: every optional field present, ~100 byte value.
function typical () {
  const fill = (n, b) => Buffer.alloc(n, b)
  return {
    tid: 0xbeef,
    to: { host: '203.0.113.77', port: 49737 },
    id: fill(32, 1),
    token: fill(32, 2),
    internal: true,
    command: 7,
    target: fill(32, 3),
    value: Buffer.from(Array.from({ length: 100 }, (_, i) => i))
  }
}

module.exports = { request, typical, TYPE }
