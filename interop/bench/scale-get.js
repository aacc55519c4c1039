// Scale curve twin of bench/bench_scale.py (get_local / get_remote): a hypercore 11.37.1 core of
// LENGTH 64-byte blocks on disk (built in batches of 10 000, not timed), then, timed:
//   local:  the core reopened (cold caches), GETS gets of random blocks, one at a time;
//   remote: a reader on disk that knows only the key, over @hyperswarm/secret-stream on TCP
//           127.0.0.1, update()s, then GETS gets of random blocks (request + proof + verify each).
// Prints {"value": microseconds per get}.
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Hypercore = require('hypercore')
const b4a = require('b4a')

const MODE = process.argv[2] || 'local'
const LENGTH = Number(process.argv[3] || 1000)
const GETS = Number(process.argv[4] || 1000)

const block = (i) => { const b = b4a.alloc(64); for (let j = 0; j < 64; j += 4) b.writeUInt32LE(i >>> 0, j); return b }

function sample (n, count) { // a seeded LCG: the same indices every run
  let x = 7
  const out = []
  for (let k = 0; k < count; k++) { x = (x * 1103515245 + 12345) % 2147483648; out.push(x % n) }
  return out
}

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-bench-scale-'))
  const built = new Hypercore(path.join(dir, 'core'))
  await built.ready()
  for (let i = 0; i < LENGTH; i += 10000) {
    const batch = []
    for (let j = i; j < Math.min(LENGTH, i + 10000); j++) batch.push(block(j))
    await built.append(batch)
  }
  const key = built.key
  await built.close()
  const indices = sample(LENGTH, GETS)
  let elapsed
  const writer = new Hypercore(path.join(dir, 'core'))
  await writer.ready()
  if (MODE === 'local') {
    const start = process.hrtime.bigint()
    for (const i of indices) {
      const got = await writer.get(i)
      if (got.byteLength !== 64) throw new Error('content mismatch')
    }
    elapsed = Number(process.hrtime.bigint() - start) / 1e9
  } else {
    const reader = new Hypercore(path.join(dir, 'reader'), key)
    await reader.ready()
    const server = net.createServer((socket) => {
      const s = new NoiseSecretStream(false, socket)
      s.on('error', () => {})
      writer.replicate(s)
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const client = new NoiseSecretStream(true, net.connect(server.address().port, '127.0.0.1'))
    client.on('error', () => {})
    reader.replicate(client)
    await reader.update({ wait: true })
    const start = process.hrtime.bigint()
    for (const i of indices) {
      const got = await reader.get(i)
      if (!b4a.equals(got, block(i))) throw new Error('content mismatch')
    }
    elapsed = Number(process.hrtime.bigint() - start) / 1e9
    client.destroy()
    server.close()
    await reader.close()
  }
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ value: elapsed / GETS * 1e6 }))
}

main().catch((err) => { console.error(err); process.exit(1) })
