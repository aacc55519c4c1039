// The pinned @hyperswarm/dht-relay 0.4.3 client in Node over `ws`, speaking JSON lines.
// usage: node relay-client.js <json opts>
//   opts: {url: "ws://host:port", custodial?: bool (default true), seed?: hex}
// stdout: {"event":"ready"} once the WebSocket is open
// stdin commands (each answered by the events listed):
//   {"cmd":"connect","publicKey":hex,"bytes":n,"seed":hex?,"paced":bool?}
//     -> {"event":"open","remotePublicKey":hex} then, after writing n random bytes (all at once,
//        or with paced: true one 64 KiB chunk at a time, waiting for 'drain') and ending,
//        {"event":"echoed","sent":sha256,"received":sha256,"bytes":n}
//     or {"event":"connect-error","message":"..."}
//   {"cmd":"listen","seed":hex,"reject":hex?} -> {"event":"listening","publicKey":hex,"host","port"}
//     per connection: {"event":"connection","remotePublicKey":hex}; it is echoed back;
//     {"event":"server-closed","bytes":n} when it closes
//   {"cmd":"unlisten"} -> {"event":"unlistened"}   (closes every server)
//   {"cmd":"lookup","topic":hex} -> {"event":"lookup","peers":[hex,...]}
//   {"cmd":"announce","topic":hex,"seed":hex} -> {"event":"announced"}
//   {"cmd":"unannounce","topic":hex,"seed":hex} -> {"event":"unannounced"}
//   {"cmd":"close"} -> {"event":"closed"}
'use strict'
const DHT = require('@hyperswarm/dht-relay')
const Stream = require('@hyperswarm/dht-relay/ws')
const WebSocket = require('ws')
const readline = require('readline')
const crypto = require('crypto')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const unhex = (s) => b4a.from(s, 'hex')

function echoTo (s, msg) {
  const sent = crypto.createHash('sha256')
  const received = crypto.createHash('sha256')
  let total = 0
  s.on('data', (d) => { total += d.byteLength; received.update(d) })
  s.on('end', () => {
    out({ event: 'echoed', sent: sent.digest('hex'), received: received.digest('hex'), bytes: total })
    s.end()
  })
  let left = msg.bytes || 0
  const writeSome = () => {
    while (left > 0) {
      const n = Math.min(left, 65536)
      const chunk = crypto.randomBytes(n)
      sent.update(chunk)
      left -= n
      if (!s.write(chunk) && msg.paced) return s.once('drain', writeSome)
    }
    s.end()
  }
  writeSome()
}

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  const ws = new WebSocket(opts.url)
  ws.on('close', (code, reason) => out({ event: 'ws-close', code, reason: String(reason) }))
  // attach the relay client at once (as a page does): the relay's first frame may arrive with
  // the upgrade response, in the same tick as 'open'
  const keyPair = opts.seed ? DHT.keyPair(unhex(opts.seed)) : undefined
  const dht = new DHT(new Stream(true, ws), { custodial: opts.custodial !== false, keyPair })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  out({ event: 'ready' })

  const servers = []
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const msg = JSON.parse(line)
    if (msg.cmd === 'connect') {
      const kp = msg.seed ? DHT.keyPair(unhex(msg.seed)) : undefined
      const s = dht.connect(unhex(msg.publicKey), kp ? { keyPair: kp } : {})
      s.on('error', (err) => out({ event: 'connect-error', message: String(err && err.message) }))
      s.once('open', () => {
        out({ event: 'open', remotePublicKey: hex(s.remotePublicKey) })
        echoTo(s, msg)
      })
    } else if (msg.cmd === 'listen') {
      const reject = msg.reject ? unhex(msg.reject) : null
      const server = dht.createServer({
        firewall (remotePublicKey) {
          return reject !== null && b4a.equals(remotePublicKey, reject)
        }
      }, (conn) => {
        out({ event: 'connection', remotePublicKey: hex(conn.remotePublicKey) })
        let bytes = 0
        conn.on('data', (d) => { bytes += d.byteLength; conn.write(d) })
        conn.on('end', () => conn.end())
        conn.on('error', () => {})
        conn.on('close', () => out({ event: 'server-closed', bytes }))
      })
      const kp = DHT.keyPair(unhex(msg.seed))
      await server.listen(kp)
      servers.push(server)
      const a = server.address()
      out({ event: 'listening', publicKey: hex(kp.publicKey), host: a.host, port: a.port })
    } else if (msg.cmd === 'unlisten') {
      for (const s of servers.splice(0)) await s.close()
      out({ event: 'unlistened' })
    } else if (msg.cmd === 'lookup') {
      const peers = []
      const q = dht.lookup(unhex(msg.topic))
      for await (const r of q) for (const p of r.peers) peers.push(hex(p.publicKey))
      out({ event: 'lookup', peers })
    } else if (msg.cmd === 'announce') {
      const q = dht.announce(unhex(msg.topic), DHT.keyPair(unhex(msg.seed)))
      for await (const r of q) { void r } // consume it (Bug C: finished() alone hangs)
      out({ event: 'announced' })
    } else if (msg.cmd === 'unannounce') {
      await dht.unannounce(unhex(msg.topic), DHT.keyPair(unhex(msg.seed)))
      out({ event: 'unannounced' })
    } else if (msg.cmd === 'close') {
      break
    }
  }
  await dht.destroy()
  out({ event: 'closed' })
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
