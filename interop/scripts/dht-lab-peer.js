// A hyperdht 6.34 peer for the NAT lab, driven by JSON lines: the JS twin of
// tests/dht_lab/lab_peer.py (same commands and events; "path" is null: JS does not say).
// usage: node dht-lab-peer.js '{"bootstrap": ["host:port"], "host": "0.0.0.0"}'
// stdout: {"event":"ready","firewalled":bool}
// stdin: {"cmd":"listen","seed":hex,"relayThrough":hex?} -> {"event":"listening","publicKey":hex};
//          per connection {"event":"connection","host","port","path":null,"remotePublicKey"}, echoed,
//          then {"event":"server-closed","bytes":n}
//        {"cmd":"connect","publicKey":hex,"bytes":n,"relayThrough":hex?}
//          -> {"event":"open","host","port","path":null,"remotePublicKey"} then
//             {"event":"echoed","sent":sha256,"received":sha256,"bytes":n} | {"event":"connect-error","code"}
//        {"cmd":"close"} -> {"event":"closed"}
'use strict'
const DHT = require('hyperdht')
const readline = require('readline')
const crypto = require('crypto')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const connEvent = (event, s) => ({
  event, host: s.rawStream.remoteHost, port: s.rawStream.remotePort, path: null, remotePublicKey: hex(s.remotePublicKey)
})

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  const dht = new DHT({ bootstrap: opts.bootstrap || [], host: opts.host || '0.0.0.0' })
  await dht.fullyBootstrapped()
  out({ event: 'ready', firewalled: dht.firewalled })

  const servers = []
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const msg = JSON.parse(line)
    if (msg.cmd === 'listen') {
      const keyPair = DHT.keyPair(b4a.from(msg.seed, 'hex'))
      const server = dht.createServer({
        relayThrough: msg.relayThrough ? b4a.from(msg.relayThrough, 'hex') : null
      }, (conn) => {
        out(connEvent('connection', conn))
        let bytes = 0
        conn.on('data', (d) => { bytes += d.byteLength; conn.write(d) })
        conn.on('end', () => conn.end())
        conn.on('error', () => {})
        conn.on('close', () => out({ event: 'server-closed', bytes }))
      })
      await server.listen(keyPair)
      servers.push(server)
      out({ event: 'listening', publicKey: hex(keyPair.publicKey) })
    } else if (msg.cmd === 'connect') {
      const s = dht.connect(b4a.from(msg.publicKey, 'hex'), {
        relayThrough: msg.relayThrough ? b4a.from(msg.relayThrough, 'hex') : null
      })
      s.on('error', (err) => out({ event: 'connect-error', code: err.code || String(err) }))
      s.on('open', () => {
        out(connEvent('open', s))
        const sent = crypto.createHash('sha256')
        const received = crypto.createHash('sha256')
        let total = 0
        s.on('data', (d) => { total += d.byteLength; received.update(d) })
        s.on('end', () => {
          out({ event: 'echoed', sent: sent.digest('hex'), received: received.digest('hex'), bytes: total })
          s.end()
        })
        let left = msg.bytes
        while (left > 0) {
          const chunk = crypto.randomBytes(Math.min(left, 16384))
          sent.update(chunk)
          s.write(chunk)
          left -= chunk.byteLength
        }
        s.end()
      })
    } else if (msg.cmd === 'close') {
      break
    }
  }
  for (const s of servers) await s.close()
  await dht.destroy()
  out({ event: 'closed' })
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
