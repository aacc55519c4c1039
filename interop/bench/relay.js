// The pinned @hyperswarm/dht-relay 0.4.3 client (Node, over `ws`, custodial) measured through a
// relay: the twin of bench/bench_relay.py.
// usage: node relay.js connect|throughput [json opts]
//   opts.url + opts.serverKey given: measure through that relay (bench_relay.py runs our relay,
//   its testnet and an echo server, then this script as the client);
//   else: build a JS testnet (5 nodes), a hyperdht echo server and the JS relay (`relay()` from the
//   package on a `ws` server), and measure through it.
//   connect: median ms of 20 rounds (after 3 warm-up) of connect -> open -> 32-byte echo -> destroy
//   throughput: MB/s of one stream echoing opts.bytes (default 16 MiB) in 64 KiB writes
// prints {"value": figure}
'use strict'
const DHT = require('hyperdht')
const createTestnet = require('@hyperswarm/testnet')
const RelayedDHT = require('@hyperswarm/dht-relay')
const { relay } = require('@hyperswarm/dht-relay')
const Stream = require('@hyperswarm/dht-relay/ws')
const WebSocket = require('ws')
const { WebSocketServer } = require('ws')
const b4a = require('b4a')
const crypto = require('crypto')

const HOST = '127.0.0.1'
const MESSAGE = b4a.from('hyperpunch-bench-echo-0123456789')

async function jsSetup () {
  const testnet = await createTestnet(5, { host: HOST })
  const serverNode = testnet.createNode()
  const relayNode = testnet.createNode()
  await Promise.all([serverNode.fullyBootstrapped(), relayNode.fullyBootstrapped()])
  const server = serverNode.createServer((conn) => {
    conn.on('data', (d) => conn.write(d))
    conn.on('end', () => conn.end())
    conn.on('error', () => {})
  })
  const keyPair = DHT.keyPair()
  await server.listen(keyPair)
  const wss = new WebSocketServer({ host: HOST, port: 0 })
  wss.on('connection', (socket) => relay(relayNode, new Stream(false, socket)))
  await new Promise((resolve) => wss.once('listening', resolve))
  return {
    url: `ws://${HOST}:${wss.address().port}`,
    serverKey: keyPair.publicKey,
    async close () { wss.close(); await testnet.destroy() }
  }
}

function open (url) {
  const ws = new WebSocket(url)
  const dht = new RelayedDHT(new Stream(true, ws))
  return { dht, ready: new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) }) }
}

async function measureConnect (url, serverKey, rounds = 20, warmup = 3) {
  const { dht, ready } = open(url)
  await ready
  const times = []
  for (let i = 0; i < warmup + rounds; i++) {
    const start = process.hrtime.bigint()
    const s = dht.connect(serverKey)
    s.on('error', () => {})
    await new Promise((resolve, reject) => {
      s.once('open', () => s.write(MESSAGE))
      s.once('data', (d) => (b4a.equals(d, MESSAGE) ? resolve() : reject(new Error('echo mismatch'))))
      s.once('error', reject)
    })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (i >= warmup) times.push(ms)
    s.destroy()
  }
  await dht.destroy()
  times.sort((a, b) => a - b)
  const mid = times.length >> 1
  return times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2
}

async function measureThroughput (url, serverKey, bytes) {
  const { dht, ready } = open(url)
  await ready
  const s = dht.connect(serverKey)
  await new Promise((resolve, reject) => { s.once('open', resolve); s.once('error', reject) })
  const chunk = crypto.randomBytes(65536)
  const start = process.hrtime.bigint()
  let received = 0
  const done = new Promise((resolve, reject) => {
    s.on('data', (d) => { received += d.byteLength; if (received >= bytes) resolve() })
    s.once('error', reject)
  })
  for (let sent = 0; sent < bytes; sent += chunk.byteLength) {
    if (!s.write(chunk)) await new Promise((resolve) => s.once('drain', resolve))
  }
  await done
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  s.destroy()
  await dht.destroy()
  return bytes / seconds / 1e6
}

async function main () {
  const mode = process.argv[2] || 'connect'
  const opts = JSON.parse(process.argv[3] || '{}')
  const setup = opts.url ? { url: opts.url, serverKey: b4a.from(opts.serverKey, 'hex'), async close () {} } : await jsSetup()
  const value = mode === 'throughput'
    ? await measureThroughput(setup.url, setup.serverKey, opts.bytes || 16 * 1024 * 1024)
    : await measureConnect(setup.url, setup.serverKey)
  await setup.close()
  console.log(JSON.stringify({ value }))
  process.exit(0)
}

main().catch((err) => { console.error(err); process.exit(1) })
