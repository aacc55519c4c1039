// The pinned @hyperswarm/dht-relay 0.4.3 relay (`relay()` from the package) on a `ws` server.
// usage: node relay-server.js <json opts>
//   opts: {bootstrap?: ["host:port"], testnet?: n, port?: 0}
//   testnet: start a JS testnet of n nodes on 127.0.0.1 first and use it as bootstrap
// stdout: {"event":"ready","url":"ws://127.0.0.1:<port>","bootstrap":[...]}
// stdin: {"cmd":"close"} -> {"event":"closed"}
'use strict'
const DHT = require('hyperdht')
const createTestnet = require('@hyperswarm/testnet')
const { relay } = require('@hyperswarm/dht-relay')
const Stream = require('@hyperswarm/dht-relay/ws')
const { WebSocketServer } = require('ws')
const readline = require('readline')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
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
  const server = new WebSocketServer({ host: HOST, port: opts.port || 0 })
  server.on('connection', (socket) => {
    relay(dht, new Stream(false, socket))
  })
  await new Promise((resolve) => server.once('listening', resolve))
  out({ event: 'ready', url: `ws://${HOST}:${server.address().port}`, bootstrap })

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const msg = JSON.parse(line)
    if (msg.cmd === 'close') break
  }
  server.close()
  await dht.destroy()
  if (testnet) await testnet.destroy()
  out({ event: 'closed' })
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
