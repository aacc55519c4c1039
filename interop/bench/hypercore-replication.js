// Hypercore replication throughput over @hyperswarm/secret-stream on TCP 127.0.0.1, both peers in
// this process. Same workload as bench/bench_hypercore_replication.py: the writer appends COUNT
// blocks of SIZE bytes (in batches of 10 000), then (timed) a reader that knows only the key opens
// a stream to it, update()s and downloads [0, COUNT). Prints blocks/s (or MB/s with "mbps").
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Hypercore = require('hypercore')
const b4a = require('b4a')

const COUNT = Number(process.argv[2] || 100000)
const SIZE = Number(process.argv[3] || 64)
const UNIT = process.argv[4] || 'blocks'

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-repl-bench-'))
  const writer = new Hypercore(path.join(dir, 'w'))
  await writer.ready()
  const block = (i) => { const b = b4a.alloc(SIZE); for (let j = 0; j + 4 <= SIZE; j += 4) b.writeUInt32LE(i, j); return b }
  for (let i = 0; i < COUNT; i += 10000) {
    const batch = []
    for (let j = i; j < Math.min(COUNT, i + 10000); j++) batch.push(block(j))
    await writer.append(batch)
  }
  const reader = new Hypercore(path.join(dir, 'r'), writer.key)
  await reader.ready()

  const server = net.createServer((socket) => {
    const s = new NoiseSecretStream(false, socket)
    s.on('error', () => {})
    writer.replicate(s)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))

  const start = process.hrtime.bigint()
  const socket = net.connect(server.address().port, '127.0.0.1')
  const client = new NoiseSecretStream(true, socket)
  client.on('error', () => {})
  reader.replicate(client)
  await reader.update({ wait: true })
  await reader.download({ start: 0, end: COUNT }).done()
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9
  const got = await reader.get(COUNT - 1)
  if (!b4a.equals(got, block(COUNT - 1))) throw new Error('content mismatch')
  client.destroy()
  server.close()
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
  const value = UNIT === 'mbps' ? (COUNT * SIZE) / elapsed / 1e6 : COUNT / elapsed
  console.log(JSON.stringify({ value, elapsed }))
}

main().catch((err) => { console.error(err); process.exit(1) })
