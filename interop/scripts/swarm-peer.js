// A hyperswarm 4.17.2 peer on 127.0.0.1 for the Python swarm tests, speaking JSON lines.
// usage: node swarm-peer.js <json opts>
//   opts: {bootstrap: ["host:port"], topic: hex, seed?: hex, server?: bool, client?: bool}
// stdout:
//   {"event":"ready","publicKey":hex}                 before joining
//   {"event":"flushed"}                               after join + flush
//   {"event":"connection","remotePublicKey":hex,"client":bool,"open":n}   (n: open connections to that key)
//   {"event":"data","from":hex,"data":utf8}          per message received
//   {"event":"close","remotePublicKey":hex}
// stdin:
//   {"cmd":"send","data":utf8}          write to every open connection
//   {"cmd":"roles","server":bool,"client":bool}  refresh the topic with these roles -> {"event":"refreshed"}
//   {"cmd":"peers"} -> {"event":"peers","keys":[hex...],"counts":{hex:n}}   open connections by key
//   {"cmd":"garbage","to":hex}          write raw bytes that are not a valid frame on that connection
//   {"cmd":"exit"}                      destroy the swarm, then exit 0
'use strict'
const Hyperswarm = require('hyperswarm')
const DHT = require('hyperdht')
const readline = require('readline')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => b4a.toString(b, 'hex')

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  const dht = new DHT({ bootstrap: opts.bootstrap, host: '127.0.0.1' })
  const keyPair = opts.seed ? DHT.keyPair(b4a.from(opts.seed, 'hex')) : undefined
  const swarm = new Hyperswarm({ dht, keyPair })
  const conns = new Set()
  const count = (key) => [...conns].filter((c) => b4a.equals(c.remotePublicKey, key)).length

  swarm.on('connection', (conn, info) => {
    conns.add(conn)
    out({ event: 'connection', remotePublicKey: hex(conn.remotePublicKey), client: info.client, open: count(conn.remotePublicKey) })
    conn.on('data', (data) => out({ event: 'data', from: hex(conn.remotePublicKey), data: b4a.toString(data) }))
    conn.on('error', () => {})
    conn.on('close', () => {
      conns.delete(conn)
      out({ event: 'close', remotePublicKey: hex(conn.remotePublicKey) })
    })
  })

  out({ event: 'ready', publicKey: hex(swarm.keyPair.publicKey) })
  const topic = b4a.from(opts.topic, 'hex')
  const discovery = swarm.join(topic, { server: opts.server !== false, client: opts.client !== false })
  discovery.flushed().then(() => swarm.flush()).then(() => out({ event: 'flushed' }), () => {})

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const msg = JSON.parse(line)
    if (msg.cmd === 'send') {
      for (const c of conns) c.write(b4a.from(msg.data))
    } else if (msg.cmd === 'roles') {
      discovery.refresh({ server: msg.server !== false, client: msg.client !== false }).then(() => out({ event: 'refreshed' }), () => {})
    } else if (msg.cmd === 'peers') {
      const counts = {}
      for (const c of conns) counts[hex(c.remotePublicKey)] = (counts[hex(c.remotePublicKey)] || 0) + 1
      out({ event: 'peers', keys: Object.keys(counts).sort(), counts })
    } else if (msg.cmd === 'garbage') {
      for (const c of conns) {
        if (hex(c.remotePublicKey) === msg.to) c.rawStream.write(b4a.from('1000007a' + 'ff'.repeat(16), 'hex'))
      }
    } else if (msg.cmd === 'exit') {
      break
    }
  }
  await swarm.destroy()
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
