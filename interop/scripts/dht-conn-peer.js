// A hyperdht 6.34 peer on 127.0.0.1 for the Python connect tests, speaking JSON lines.
// usage: node dht-conn-peer.js <json opts>
//   opts: {bootstrap?: ["host:port"], testnet?: n, firewalled?: bool}
//   testnet: start a JS testnet of n persistent nodes first (@hyperswarm/testnet on 127.0.0.1)
//   and use it as bootstrap. firewalled: after bootstrapping, make this node believe it is
//   firewalled (no remote address), so connects go through hole punching.
// stdout: {"event":"ready","bootstrap":["host:port"],"port":p}
// stdin commands:
//   {"cmd":"listen","seed":hex,"reject":hex?,"holepunch":false?}  -> {"event":"listening","publicKey":hex}
//        (reject: the server firewall refuses this client public key; holepunch false: never punch)
//     per accepted connection: {"event":"connection","remotePublicKey":hex,"host","port"}, it is
//     echoed back (data -> write, end -> end); when it closes:
//     {"event":"server-closed","bytes":n,"host","port"} (the raw stream's remote at that time)
//   {"cmd":"connect","publicKey":hex,"seed":hex?,"bytes":n,"localConnection":bool?,
//    "relayThrough":hex?,"holepunch":false?,"fastOpen":false?}
//     (holepunch false: refuse to punch, no fast open; fastOpen false: punch only in the punch round)
//     -> {"event":"open","host","port","remotePublicKey":hex}, writes n random bytes then ends,
//        -> {"event":"echoed","sent":sha256,"received":sha256,"bytes":n}
//     or {"event":"connect-error","code":"..."}
//   {"cmd":"close"}
'use strict'
const DHT = require('hyperdht')
const createTestnet = require('@hyperswarm/testnet')
const readline = require('readline')
const crypto = require('crypto')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const HOST = '127.0.0.1'

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  let testnet = null
  let bootstrap = opts.bootstrap || []
  if (opts.testnet) {
    testnet = await createTestnet(opts.testnet, { host: HOST })
    bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
  }
  const dht = new DHT({ bootstrap, host: HOST })
  await dht.fullyBootstrapped()
  if (opts.firewalled) {
    dht.firewalled = true
    dht.io.firewalled = true
  }
  out({ event: 'ready', bootstrap, port: dht.address().port, firewalled: dht.firewalled })

  const servers = []
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const msg = JSON.parse(line)
    if (msg.cmd === 'listen') {
      const keyPair = DHT.keyPair(b4a.from(msg.seed, 'hex'))
      const reject = msg.reject ? b4a.from(msg.reject, 'hex') : null
      const server = dht.createServer({
        holepunch: msg.holepunch === false ? false : undefined,
        firewall (remotePublicKey) {
          return reject !== null && b4a.equals(remotePublicKey, reject)
        }
      }, (conn) => {
        const raw = conn.rawStream
        out({ event: 'connection', remotePublicKey: hex(conn.remotePublicKey), host: raw.remoteHost, port: raw.remotePort })
        let bytes = 0
        conn.on('data', (d) => { bytes += d.byteLength; conn.write(d) })
        conn.on('end', () => conn.end())
        conn.on('error', () => {})
        conn.on('close', () => out({ event: 'server-closed', bytes, host: raw.remoteHost, port: raw.remotePort }))
      })
      await server.listen(keyPair)
      servers.push(server)
      out({ event: 'listening', publicKey: hex(keyPair.publicKey) })
    } else if (msg.cmd === 'connect') {
      const keyPair = msg.seed ? DHT.keyPair(b4a.from(msg.seed, 'hex')) : undefined
      const s = dht.connect(b4a.from(msg.publicKey, 'hex'), {
        keyPair,
        localConnection: msg.localConnection !== false,
        relayThrough: msg.relayThrough ? b4a.from(msg.relayThrough, 'hex') : null,
        holepunch: msg.holepunch === false ? () => false : undefined,
        fastOpen: msg.holepunch !== false && msg.fastOpen !== false
      })
      s.on('error', (err) => out({ event: 'connect-error', code: err.code || String(err) }))
      s.on('open', () => {
        const raw = s.rawStream
        out({ event: 'open', host: raw.remoteHost, port: raw.remotePort, remotePublicKey: hex(s.remotePublicKey) })
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
          const n = Math.min(left, 65536)
          const chunk = crypto.randomBytes(n)
          sent.update(chunk)
          s.write(chunk)
          left -= n
        }
        s.end()
      })
    } else if (msg.cmd === 'close') {
      break
    }
  }
  for (const s of servers) await s.close()
  await dht.destroy()
  if (testnet) await testnet.destroy()
  out({ event: 'closed' })
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
