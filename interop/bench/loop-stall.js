// Twin of bench/bench_scale.py (loop_stall): one hypercore 11.37.1 writer on disk with BLOCKS
// blocks of SIZE bytes; PEERS readers (each a core on disk that knows only the key) connect over
// @hyperswarm/secret-stream on TCP 127.0.0.1 and download all of it at once. A 1 ms ticker
// measures how late it wakes; prints {"value": the worst lateness in ms}.
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Hypercore = require('hypercore')
const b4a = require('b4a')

const PEERS = Number(process.argv[2] || 100)
const BLOCKS = Number(process.argv[3] || 200)
const SIZE = Number(process.argv[4] || 1024)

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-bench-stall-'))
  const data = []
  for (let i = 0; i < BLOCKS; i++) data.push(b4a.alloc(SIZE, i & 0xff))
  const writer = new Hypercore(path.join(dir, 'w'))
  await writer.ready()
  await writer.append(data)
  const readers = []
  for (let p = 0; p < PEERS; p++) {
    const r = new Hypercore(path.join(dir, 'r' + p), writer.key)
    await r.ready()
    readers.push(r)
  }
  const server = net.createServer((socket) => {
    const s = new NoiseSecretStream(false, socket)
    s.on('error', () => {})
    writer.replicate(s)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const clients = []
  for (let p = 0; p < PEERS; p++) {
    const c = new NoiseSecretStream(true, net.connect(server.address().port, '127.0.0.1'))
    c.on('error', () => {})
    await c.opened
    clients.push(c)
  }
  let worst = 0
  let running = true
  const ticker = new Promise((resolve) => {
    const tick = () => {
      if (!running) return resolve()
      const t = process.hrtime.bigint()
      setTimeout(() => {
        worst = Math.max(worst, Number(process.hrtime.bigint() - t) / 1e6 - 1)
        tick()
      }, 1)
    }
    tick()
  })
  for (let p = 0; p < PEERS; p++) readers[p].replicate(clients[p])
  await Promise.all(readers.map(async (r) => {
    await r.update({ wait: true })
    await r.download({ start: 0, end: BLOCKS }).done()
  }))
  running = false
  await ticker
  for (const r of readers) if (!b4a.equals(await r.get(BLOCKS - 1), data[BLOCKS - 1])) throw new Error('content mismatch')
  for (const c of clients) c.destroy()
  server.close()
  for (const r of readers) await r.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ value: worst }))
}

main().catch((err) => { console.error(err); process.exit(1) })
