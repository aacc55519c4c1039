// A full lookup(topic) on a warm local testnet (hyperdht 6.34), the server having announced on it:
// the twin of bench/bench_dht.py lookup_ms (both nodes non-firewalled). usage: node dht-lookup.js [testnet size] [rounds] [warmup]
// prints {"value": median ms}
'use strict'
const DHT = require('hyperdht')
const createTestnet = require('@hyperswarm/testnet')
const b4a = require('b4a')

async function main () {
  const [size, rounds, warmup] = [5, 20, 3].map((d, i) => Number(process.argv[2 + i] || d))
  const testnet = await createTestnet(size, { host: '127.0.0.1' })
  const serverNode = testnet.createNode({ firewalled: false })
  const client = testnet.createNode({ firewalled: false })
  await Promise.all([serverNode.fullyBootstrapped(), client.fullyBootstrapped()])
  const topic = DHT.hash(b4a.from('hyperpunch bench topic'))
  const keyPair = DHT.keyPair()
  await serverNode.announce(topic, keyPair).finished()
  const times = []
  for (let i = 0; i < warmup + rounds; i++) {
    const start = process.hrtime.bigint()
    let found = false
    for await (const reply of client.lookup(topic)) {
      for (const peer of reply.peers) found = found || b4a.equals(peer.publicKey, keyPair.publicKey)
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (!found) throw new Error('lookup did not find the announced peer')
    if (i >= warmup) times.push(ms)
  }
  await testnet.destroy()
  times.sort((a, b) => a - b)
  const mid = times.length >> 1
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2
  console.log(JSON.stringify({ value: median }))
}

main().catch((err) => { console.error(err); process.exit(1) })
