// Corestore 7.12.5: open and replicate CORES small cores over one connection. Same workload as
// bench/bench_corestore.py: untimed, the writer store creates CORES named cores with one 32-byte
// block each and closes them; timed, a reader store connects over @hyperswarm/secret-stream on TCP
// 127.0.0.1, opens every core by key and gets block 0 of each. Prints seconds.
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Corestore = require('corestore')
const b4a = require('b4a')

const CORES = Number(process.argv[2] || 1000)
const block = (c) => { const b = b4a.alloc(32); for (let j = 0; j < 32; j += 4) b.writeUInt32LE(c, j); return b }

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'))
  const writer = new Corestore(path.join(dir, 'w'))
  const reader = new Corestore(path.join(dir, 'r'))
  const keys = []
  for (let c = 0; c < CORES; c++) {
    const core = writer.get({ name: 'core-' + c })
    await core.ready()
    await core.append(block(c))
    keys.push(core.key)
    await core.close()
  }
  await reader.ready()

  const server = net.createServer((socket) => {
    const s = new NoiseSecretStream(false, socket)
    s.on('error', () => {})
    writer.replicate(s)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))

  const start = process.hrtime.bigint()
  const client = new NoiseSecretStream(true, net.connect(server.address().port, '127.0.0.1'))
  client.on('error', () => {})
  reader.replicate(client)
  const sessions = keys.map((key) => reader.get({ key }))
  const got = await Promise.all(sessions.map((s) => s.get(0)))
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9
  for (let c = 0; c < CORES; c++) if (!b4a.equals(got[c], block(c))) throw new Error('content mismatch')
  client.destroy()
  server.close()
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ value: elapsed }))
}

main().catch((err) => { console.error(err); process.exit(1) })
