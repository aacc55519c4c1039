// A hyperswarm 4.17 peer whose DHT is the pinned @hyperswarm/dht-relay 0.4.3 client over `ws`
// (a relayed node: no UDP of its own), speaking JSON lines.
// usage: node relay-swarm-peer.js <json opts>
//   opts: {url: "ws://host:port", topic: hex, custodial?: bool (default true), seed?: hex,
//          greeting?: utf8 (written on every new connection)}
// stdout:
//   {"event":"ready","publicKey":hex}                     once the WebSocket is open, before joining
//   {"event":"flushed"}                                   after join + flush (announced)
//   {"event":"connection","remotePublicKey":hex,"client":bool}
//   {"event":"data","from":hex,"data":utf8}              per message received
//   {"event":"close","remotePublicKey":hex}
// stdin: {"cmd":"exit"} destroys the swarm, then exits 0
'use strict'
const Hyperswarm = require('hyperswarm')
const DHT = require('@hyperswarm/dht-relay')
const Stream = require('@hyperswarm/dht-relay/ws')
const WebSocket = require('ws')
const readline = require('readline')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => b4a.toString(b, 'hex')

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  const ws = new WebSocket(opts.url)
  const keyPair = opts.seed ? DHT.keyPair(b4a.from(opts.seed, 'hex')) : DHT.keyPair()
  const dht = new DHT(new Stream(true, ws), { custodial: opts.custodial !== false, keyPair })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const swarm = new Hyperswarm({ dht, keyPair })

  swarm.on('connection', (conn, info) => {
    out({ event: 'connection', remotePublicKey: hex(conn.remotePublicKey), client: info.client })
    conn.on('data', (data) => out({ event: 'data', from: hex(conn.remotePublicKey), data: b4a.toString(data) }))
    conn.on('error', () => {})
    conn.on('close', () => out({ event: 'close', remotePublicKey: hex(conn.remotePublicKey) }))
    if (opts.greeting) conn.write(b4a.from(opts.greeting))
  })

  out({ event: 'ready', publicKey: hex(keyPair.publicKey) })
  const discovery = swarm.join(b4a.from(opts.topic, 'hex'), { server: true, client: true })
  discovery.flushed().then(() => swarm.flush()).then(() => out({ event: 'flushed' }), () => {})

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const msg = JSON.parse(line)
    if (msg.cmd === 'exit') break
  }
  await swarm.destroy()
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
