// Bulk throughput udx-native -> udx-native on loopback, both ends in this process.
// usage: node udx.js [MiB]; prints {"value": MB/s} (1 MB = 1e6 bytes)
const UDX = require('udx-native')

const size = Number(process.argv[2] || 128) * 1024 * 1024
const chunk = 1 << 16

async function main() {
  const udx = new UDX()
  const a = udx.createSocket()
  const b = udx.createSocket()
  a.bind(0, '127.0.0.1')
  b.bind(0, '127.0.0.1')
  const sa = udx.createStream(1)
  const sb = udx.createStream(2)
  sa.connect(a, 2, b.address().port, '127.0.0.1')
  sb.connect(b, 1, a.address().port, '127.0.0.1')
  const buf = Buffer.alloc(chunk, 0xab)
  let received = 0
  const done = new Promise((resolve) => {
    sb.on('data', (d) => {
      received += d.byteLength
    })
    sb.on('end', resolve)
  })
  const start = process.hrtime.bigint()
  for (let off = 0; off < size; off += chunk) {
    if (!sa.write(buf)) await new Promise((resolve) => sa.once('drain', resolve))
  }
  sa.end()
  await done
  const secs = Number(process.hrtime.bigint() - start) / 1e9
  if (received !== size) throw new Error(`received ${received} of ${size}`)
  sb.end()
  await new Promise((resolve) => sa.on('close', resolve))
  await a.close()
  await b.close()
  console.log(JSON.stringify({ value: size / secs / 1e6, seconds: secs }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
