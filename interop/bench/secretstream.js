// Secret-stream throughput: 64 KiB writes over TCP on 127.0.0.1, both ends in this process.
// Same workload as bench/bench_secretstream.py: handshake first (not timed), then TOTAL bytes one
// way in CHUNK-byte writes with backpressure, timed until the reader has every byte. Prints MB/s.
'use strict'
const net = require('net')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const b4a = require('b4a')

const TOTAL = Number(process.argv[2] || 256 * 1024 * 1024)
const CHUNK = Number(process.argv[3] || 64 * 1024)

async function main () {
  const payload = b4a.alloc(CHUNK)
  for (let i = 0; i < CHUNK; i++) payload[i] = i & 255

  let received = 0
  let done
  const finished = new Promise((resolve) => { done = resolve })

  const server = net.createServer((socket) => {
    const s = new NoiseSecretStream(false, socket, { keyPair: NoiseSecretStream.keyPair(b4a.alloc(32, 1)) })
    s.on('data', (data) => {
      received += data.byteLength
      if (received >= TOTAL) done()
    })
    s.on('error', () => {})
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))

  const socket = net.connect(server.address().port, '127.0.0.1')
  const client = new NoiseSecretStream(true, socket, { keyPair: NoiseSecretStream.keyPair(b4a.alloc(32, 2)) })
  client.on('error', () => {})
  await client.opened

  const start = process.hrtime.bigint()
  let sent = 0
  await new Promise((resolve) => {
    function pump () {
      while (sent < TOTAL) {
        sent += CHUNK
        // secret-stream copies each write into its own frame buffer, so reusing payload is safe
        if (client.write(payload) === false) return client.once('drain', pump)
      }
      resolve()
    }
    pump()
  })
  await finished
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9
  client.destroy()
  server.close()
  console.log(JSON.stringify({ value: TOTAL / elapsed / 1e6 }))
}

main().catch((err) => { console.error(err); process.exit(1) })
