// connect + one 32-byte echo on a warm local testnet (hyperdht 6.34), the twin of
// bench/bench_dht.py connect_echo_ms.
// usage: node dht-connect.js [direct|holepunch] [testnet size] [rounds] [warmup]
//   direct: both nodes non-firewalled, the client connects straight to the server;
//   holepunch: both forced firewalled after bootstrapping, localConnection false (punch on loopback)
// prints {"value": median ms}
'use strict'
const DHT = require('hyperdht')
const createTestnet = require('@hyperswarm/testnet')
const b4a = require('b4a')

const MESSAGE = b4a.from('hyperpunch-bench-echo-0123456789')

async function main () {
  const punch = (process.argv[2] || 'direct') === 'holepunch'
  const [size, rounds, warmup] = [5, 20, 3].map((d, i) => Number(process.argv[3 + i] || d))
  const testnet = await createTestnet(size, { host: '127.0.0.1' })
  const serverNode = testnet.createNode({ firewalled: punch })
  const client = testnet.createNode({ firewalled: punch })
  await Promise.all([serverNode.fullyBootstrapped(), client.fullyBootstrapped()])
  if (punch) {
    for (const node of [serverNode, client]) {
      node.firewalled = true
      node.io.firewalled = true
    }
  }
  const server = serverNode.createServer((conn) => {
    conn.on('data', (d) => conn.write(d))
    conn.on('end', () => conn.end())
    conn.on('error', () => {})
  })
  const keyPair = DHT.keyPair()
  await server.listen(keyPair)
  const times = []
  for (let i = 0; i < warmup + rounds; i++) {
    const start = process.hrtime.bigint()
    const s = client.connect(keyPair.publicKey, { localConnection: !punch })
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
  await testnet.destroy()
  times.sort((a, b) => a - b)
  const mid = times.length >> 1
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2
  console.log(JSON.stringify({ value: median }))
}

main().catch((err) => { console.error(err); process.exit(1) })
