// A hyperdht 6.34 testnet on 127.0.0.1 for the Python record interop tests (JSON lines).
// usage: node dht-rec-testnet.js <count> [bootstrap host:port,host:port]
//   count persistent (ephemeral:false, firewalled:false) HyperDHT storage nodes; without a
//   bootstrap list node 0 is the bootstrapper. Then one ephemeral client node joins ("node": -1).
// stdout: {"event":"ready","bootstrap":[{host,port}],"nodes":[{host,port,id}],"client":{host,port}}
// stdin: one JSON command per line, each answered by {"event":"result","id":n,...}
//   (bytes are hex; "node" is the index of the node to use, -1 = the ephemeral client; key
//   pairs are given as a 32-byte "seed"):
//   {"cmd":"announce","target","seed","relayAddresses":[{host,port}],"clear"?,"bump"?}
//   {"cmd":"unannounce","target","seed"}
//   {"cmd":"lookup","target"}          -> results [{from:{host,port,id},peers:[{publicKey,relayAddresses}],bump}]
//   {"cmd":"find_peer","publicKey"}    -> results [{from, peer}]
//   {"cmd":"mutable_put","seed","value","seq"} -> {publicKey, seq, signature}
//   {"cmd":"mutable_get","publicKey","seq"?,"latest"?} -> {found, value, seq, signature, from}
//   {"cmd":"immutable_put","value"}    -> {hash}
//   {"cmd":"immutable_get","hash"}     -> {found, value, from}
//   {"cmd":"request","to":{host,port},"command","target"?,"token"?,"value"?,"retry"?} -> {error,value,token}
//   {"cmd":"stored","target"}          -> per storage node what its Persistent holds for target:
//                                         {records:[hex], router: hex|null, mutable: hex|null, immutable: hex|null}
//   {"cmd":"close"}
'use strict'
const HyperDHT = require('hyperdht')
const UDX = require('udx-native')
const readline = require('readline')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const buf = (h) => (h === null || h === undefined ? null : b4a.from(h, 'hex'))
const HOST = '127.0.0.1'
const nodes = []
let client = null

async function freePort () {
  const udx = new UDX()
  const s = udx.createSocket()
  s.bind(0, HOST)
  const port = s.address().port
  await s.close()
  return port
}

const from = (f) => ({ host: f.host, port: f.port, id: hex(f.id) })
const peerJson = (p) => ({ publicKey: hex(p.publicKey), relayAddresses: p.relayAddresses.map((a) => ({ host: a.host, port: a.port })) })
const describe = (dht) => ({ host: HOST, port: dht.io.serverSocket.address().port, id: hex(dht.id) })

async function main () {
  const count = Number(process.argv[2] || 4)
  const bootstrap = (process.argv[3] || '').split(',').filter(Boolean).map((s) => {
    const [host, port] = s.split(':')
    return { host, port: Number(port) }
  })
  for (let i = 0; i < count; i++) {
    const port = await freePort()
    const dht = new HyperDHT({ ephemeral: false, firewalled: false, bootstrap: [...bootstrap], port, host: HOST })
    await dht.fullyBootstrapped()
    if (bootstrap.length === 0) bootstrap.push({ host: HOST, port: dht.address().port })
    nodes.push(dht)
  }
  client = new HyperDHT({ ephemeral: true, bootstrap, host: HOST, port: await freePort() })
  await client.fullyBootstrapped()
  out({ event: 'ready', bootstrap, nodes: nodes.map(describe), client: { host: HOST, port: client.address().port } })

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const msg = JSON.parse(line)
    if (msg.cmd === 'close') break
    handle(msg).catch((err) => out({ event: 'result', id: msg.id, error: err.code || err.message }))
  }
  await client.destroy()
  for (let i = nodes.length - 1; i >= 0; i--) await nodes[i].destroy()
  process.exit(0)
}

async function handle (msg) {
  const dht = msg.node === -1 || msg.node === undefined ? client : nodes[msg.node]
  const kp = msg.seed ? HyperDHT.keyPair(buf(msg.seed)) : null
  const res = (obj) => out({ event: 'result', id: msg.id, ...obj })
  if (msg.cmd === 'announce') {
    const relays = (msg.relayAddresses || []).map((a) => ({ host: a.host, port: a.port }))
    await dht.announce(buf(msg.target), kp, relays, { clear: !!msg.clear, bump: msg.bump || 0 }).finished()
    res({})
  } else if (msg.cmd === 'unannounce') {
    await dht.unannounce(buf(msg.target), kp)
    res({})
  } else if (msg.cmd === 'lookup') {
    const results = []
    for await (const r of dht.lookup(buf(msg.target))) results.push({ from: from(r.from), peers: r.peers.map(peerJson), bump: r.bump })
    res({ results })
  } else if (msg.cmd === 'find_peer') {
    const results = []
    for await (const r of dht.findPeer(buf(msg.publicKey))) results.push({ from: from(r.from), peer: peerJson(r.peer) })
    res({ results })
  } else if (msg.cmd === 'mutable_put') {
    const r = await dht.mutablePut(kp, buf(msg.value), { seq: msg.seq || 0 })
    res({ publicKey: hex(r.publicKey), seq: r.seq, signature: hex(r.signature) })
  } else if (msg.cmd === 'mutable_get') {
    const r = await dht.mutableGet(buf(msg.publicKey), { seq: msg.seq || 0, latest: msg.latest !== false })
    res(r ? { found: true, value: hex(r.value), seq: r.seq, signature: hex(r.signature), from: from(r.from) } : { found: false })
  } else if (msg.cmd === 'immutable_put') {
    const r = await dht.immutablePut(buf(msg.value))
    res({ hash: hex(r.hash) })
  } else if (msg.cmd === 'immutable_get') {
    const r = await dht.immutableGet(buf(msg.hash))
    res(r ? { found: true, value: hex(r.value), from: from(r.from) } : { found: false })
  } else if (msg.cmd === 'request') {
    const r = await dht.request({ command: msg.command, target: buf(msg.target), token: buf(msg.token), value: buf(msg.value) }, msg.to, { retry: msg.retry !== false })
    res({ error: r.error, value: hex(r.value), token: hex(r.token) })
  } else if (msg.cmd === 'stored') {
    const k = msg.target
    const stored = nodes.map((n) => {
      const p = n._persistent
      if (!p) return null
      const fwd = n._router.get(k)
      return {
        records: p.records.get(k).map(hex),
        router: fwd ? hex(fwd.record) : null,
        mutable: hex(p.mutables.get(k)),
        immutable: hex(p.immutables.get(k))
      }
    })
    res({ stored })
  } else {
    res({ error: 'unknown cmd ' + msg.cmd })
  }
}

main().catch((err) => { out({ event: 'error', message: String(err && err.stack) }); process.exit(1) })
