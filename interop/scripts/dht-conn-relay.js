// A blind-relay server (blind-relay 1.x on a hyperdht 6.34 server) on 127.0.0.1 for the Python
// relay tests, speaking JSON lines.
// usage: node dht-conn-relay.js <json opts {bootstrap: ["host:port"], seed: hex}>
// stdout: {"event":"ready","publicKey":hex}; per relay session {"event":"session","remotePublicKey":hex};
//         per matched pairing {"event":"pair","isInitiator":bool,"token":hex}; when a relay
//         session's connection closes {"event":"session-closed","remotePublicKey":hex}
// stdin: {"cmd":"close"} -> {"event":"closed","stats":{...}}
'use strict'
const DHT = require('hyperdht')
const relay = require('blind-relay')
const readline = require('readline')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => (b ? b4a.toString(b, 'hex') : null)

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  const dht = new DHT({ bootstrap: opts.bootstrap || [], host: '127.0.0.1' })
  await dht.fullyBootstrapped()
  const relayServer = new relay.Server({ createStream: (o) => dht.createRawStream({ ...o, framed: true }) })
  const server = dht.createServer((socket) => {
    socket.on('error', () => {})
    socket.on('close', () => out({ event: 'session-closed', remotePublicKey: hex(socket.remotePublicKey) }))
    out({ event: 'session', remotePublicKey: hex(socket.remotePublicKey) })
    const session = relayServer.accept(socket, { id: socket.remotePublicKey })
    session.on('error', () => {})
    session.on('pair', (isInitiator, token) => out({ event: 'pair', isInitiator, token: hex(token) }))
  })
  const keyPair = DHT.keyPair(b4a.from(opts.seed, 'hex'))
  await server.listen(keyPair)
  out({ event: 'ready', publicKey: hex(keyPair.publicKey) })
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (JSON.parse(line).cmd === 'close') break
  }
  const stats = { pairings: relayServer.stats.pairings.matched, sessions: relayServer.stats.sessions.accepted }
  await relayServer.close()
  await server.close()
  await dht.destroy()
  out({ event: 'closed', stats })
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
