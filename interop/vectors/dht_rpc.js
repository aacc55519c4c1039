// dht-rpc 6.27 reference vectors: request/response datagrams produced by dht-rpc's own IO
// encoders (lib/io.js Request._encodeRequest / _sendReply / relay, captured from a fake socket's
// trySend), node ids (lib/peer.js), tokens with fixed secrets and their rotation, NAT sampler
// traces (nat-sampler) and routing-table closest() orders (kademlia-routing-table).
'use strict'
const IO = require('dht-rpc/lib/io.js')
const peer = require('dht-rpc/lib/peer.js')
const Table = require('kademlia-routing-table')
const NatSampler = require('nat-sampler')
const sodium = require('sodium-universal')
const b4a = require('b4a')

const hex = (b) => (b === null || b === undefined ? null : b4a.toString(b, 'hex'))
const fill = (n, len = 32) => b4a.alloc(len, n)
const H = (buf) => {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, buf)
  return out
}

function fakeSocket (sent) {
  return { trySend (buf, port, host, ttl) { sent.push({ hex: hex(buf), port, host, ttl: ttl || 0 }) } }
}

function makeIO (tableId, { persistent = false, firewalled = false } = {}) {
  const udx = { watchNetworkInterfaces () { return { on () {}, destroy () {} } } }
  const table = new Table(tableId)
  const io = new IO(table, udx, { firewalled })
  const sent = []
  io.serverSocket = fakeSocket(sent)
  io.clientSocket = fakeSocket(sent)
  io.ephemeral = !persistent
  io._secrets = [fill(0xa1), fill(0xb2)]
  return { io, table, sent }
}

function requests () {
  const out = []
  const cases = [
    { name: 'ping-ephemeral', persistent: false, tid: 0, to: { host: '127.0.0.1', port: 49737 }, token: null, internal: true, command: 0, target: null, value: null },
    { name: 'ping-persistent', persistent: true, tid: 513, to: { host: '10.0.0.1', port: 1 }, token: null, internal: true, command: 0, target: null, value: null },
    { name: 'find-node', persistent: true, tid: 65535, to: { host: '192.168.1.20', port: 65535 }, token: null, internal: true, command: 2, target: fill(7), value: null },
    { name: 'ping-nat', persistent: false, tid: 77, to: { host: '1.2.3.4', port: 5678 }, token: null, internal: true, command: 1, target: null, value: b4a.from([0x49, 0xc2]) },
    { name: 'user-token-target-value', persistent: true, tid: 4242, to: { host: '8.8.4.4', port: 53 }, token: fill(9), internal: false, command: 42, target: fill(3), value: b4a.from('hello dht') },
    { name: 'user-big-command-empty-value', persistent: false, tid: 1, to: { host: '127.0.0.1', port: 3000 }, token: null, internal: false, command: 300, target: null, value: b4a.alloc(0) },
    { name: 'user-long-value', persistent: false, tid: 9, to: { host: '127.0.0.1', port: 3001 }, token: null, internal: false, command: 70000, target: fill(5), value: b4a.alloc(300, 0x5a) }
  ]
  const tableId = peer.id('127.0.0.1', 40000)
  for (const c of cases) {
    const { io, sent } = makeIO(tableId, { persistent: c.persistent })
    io._tid = c.tid
    const req = io.createRequest({ id: null, host: c.to.host, port: c.to.port }, c.token, c.internal, c.command, c.target, c.value, null, 0)
    req.socket = io.serverSocket
    req._sendNow = function () { this.socket.trySend(this._buffer, this.to.port, this.to.host, this.ttl) }
    req.send(true)
    out.push({
      name: c.name,
      tid: c.tid,
      to: c.to,
      id: c.persistent ? hex(tableId) : null,
      token: hex(c.token),
      internal: c.internal,
      command: c.command,
      target: hex(c.target),
      value: hex(c.value),
      bytes: sent[0].hex
    })
  }
  return out
}

function responses () {
  const out = []
  const tableId = peer.id('127.0.0.1', 40000)
  const others = [['127.0.0.1', 40001], ['10.1.2.3', 49737], ['172.16.0.9', 1234], ['8.8.8.8', 53], ['127.0.0.1', 40002]]
  const cases = [
    { name: 'ok-empty', persistent: false, tid: 5, from: { host: '127.0.0.1', port: 50000 }, error: 0, value: null, token: false, closer: false, target: null },
    { name: 'ok-id-token-closer-value', persistent: true, tid: 12345, from: { host: '10.9.8.7', port: 4567 }, error: 0, value: b4a.from('value!'), token: true, closer: true, target: fill(0x42) },
    { name: 'error-unknown-command', persistent: true, tid: 65535, from: { host: '127.0.0.1', port: 1 }, error: 1, value: null, token: false, closer: true, target: fill(1) },
    { name: 'error-invalid-token-with-token', persistent: false, tid: 0, from: { host: '192.168.0.1', port: 80 }, error: 2, value: null, token: true, closer: false, target: null },
    { name: 'big-error-empty-value', persistent: false, tid: 77, from: { host: '1.1.1.1', port: 443 }, error: 300, value: b4a.alloc(0), token: false, closer: false, target: null }
  ]
  for (const c of cases) {
    const { io, table, sent } = makeIO(tableId, { persistent: c.persistent })
    for (const [host, port] of others) table.add({ id: peer.id(host, port), host, port })
    io._tid = c.tid
    const req = io.createRequest({ id: null, host: '0.0.0.0', port: 1 }, null, false, 42, c.target, null, null, 0)
    req.socket = io.serverSocket
    req._sendReply(c.error, c.value, c.token, c.closer, { host: c.from.host, port: c.from.port }, io.serverSocket)
    out.push({
      name: c.name,
      tid: c.tid,
      to: c.from,
      id: c.persistent ? hex(tableId) : null,
      token: c.token ? hex(io.token(c.from, 1)) : null,
      closer_nodes: c.target !== null && c.closer ? table.closest(c.target).map((n) => [n.host, n.port]) : null,
      error: c.error,
      value: hex(c.value),
      bytes: sent[0].hex
    })
  }
  return out
}

function relays () {
  const tableId = peer.id('127.0.0.1', 40000)
  const { io, sent } = makeIO(tableId, { persistent: true })
  io._tid = 999
  const req = io.createRequest({ id: null, host: '127.0.0.1', port: 7 }, fill(4), false, 42, fill(8), b4a.from('orig'), null, 0)
  req.socket = io.serverSocket
  req.relay(b4a.from('relayed'), { host: '10.0.0.2', port: 3456 })
  req.socket = io.clientSocket
  req.relay(null, { host: '10.0.0.3', port: 3457 })
  return { table_id: hex(tableId), tid: 999, command: 42, target: hex(fill(8)), server: sent[0], client: sent[1] }
}

function ids () {
  const addrs = [['127.0.0.1', 49737], ['0.0.0.0', 0], ['255.255.255.255', 65535], ['88.99.3.86', 49737], ['10.0.0.1', 1]]
  return addrs.map(([host, port]) => ({ host, port, id: hex(peer.id(host, port)) }))
}

function tokens () {
  const { io } = makeIO(peer.id('127.0.0.1', 40000))
  const hosts = ['127.0.0.1', '10.0.0.1', '88.99.3.86']
  const before = hosts.map((h) => [hex(io.token({ host: h }, 0)), hex(io.token({ host: h }, 1))])
  for (let i = 0; i < 10; i++) io._drain() // one rotation
  const after = hosts.map((h) => [hex(io.token({ host: h }, 0)), hex(io.token({ host: h }, 1))])
  for (let i = 0; i < 10; i++) io._drain() // a second rotation
  const after2 = hosts.map((h) => [hex(io.token({ host: h }, 0)), hex(io.token({ host: h }, 1))])
  return { secrets: [hex(fill(0xa1)), hex(fill(0xb2))], hosts, before, after, after2 }
}

function natSampler () {
  const traces = []
  const seqs = [
    [['1.2.3.4', 1000], ['1.2.3.4', 1000], ['1.2.3.4', 1000]],
    [['1.2.3.4', 1000], ['1.2.3.4', 1001], ['1.2.3.4', 1002], ['1.2.3.4', 1003]],
    [['1.2.3.4', 1000], ['5.6.7.8', 1000], ['1.2.3.4', 1000], ['1.2.3.4', 1000], ['1.2.3.4', 1000]]
  ]
  // a long pseudo-random sequence exercising the ring buffer
  let x = 12345
  const long = []
  for (let i = 0; i < 80; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    const host = ['9.9.9.9', '9.9.9.8', '9.9.9.7'][x % 3 === 2 && i % 5 === 0 ? 2 : (x >> 8) % 7 === 0 ? 1 : 0]
    const port = [4000, 4001, 4002][(x >> 4) % 5 === 0 ? (x >> 12) % 3 : 0]
    long.push([host, port])
  }
  seqs.push(long)
  for (const seq of seqs) {
    const s = new NatSampler()
    const steps = seq.map(([h, p]) => {
      const hits = s.add(h, p)
      return { hits, host: s.host, port: s.port, size: s.size }
    })
    traces.push({ input: seq, steps })
  }
  return traces
}

function routingTable () {
  const id = H(b4a.from('table'))
  const t = new Table(id, { k: 4 })
  const results = { id: hex(id), k: 4, added: [], full: [] }
  t.on('row', (row) => row.on('full', (node) => results.full.push(hex(node.id))))
  for (let i = 0; i < 200; i++) {
    const nid = H(b4a.from('node' + i))
    results.added.push({ id: hex(nid), ok: t.add({ id: nid }) })
  }
  results.size = t.size
  results.closest = []
  for (let i = 0; i < 6; i++) {
    const target = i === 0 ? id : H(b4a.from('target' + i))
    results.closest.push({ target: hex(target), k: i === 5 ? 11 : 4, ids: t.closest(target, i === 5 ? 11 : 4).map((n) => hex(n.id)) })
  }
  const removed = results.added.filter((a) => a.ok).slice(0, 5).map((a) => a.id)
  for (const r of removed) t.remove(b4a.from(r, 'hex'))
  results.removed = removed
  results.after_remove = t.closest(id, 10).map((n) => hex(n.id))
  return results
}

module.exports = async () => ({
  requests: requests(),
  responses: responses(),
  relays: relays(),
  ids: ids(),
  tokens: tokens(),
  nat_sampler: natSampler(),
  routing_table: routingTable()
})
