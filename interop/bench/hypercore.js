// Benchmark twin of bench/bench_hypercore.py: append `total` 64-byte blocks to a hypercore
// 11.37.1 on disk (temp dir, default storage), `batch` blocks per append call, signed with a
// fixed key pair. Prints {"value": blocks/s}.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')

const total = Number(process.argv[2] || 100000)
const batch = Number(process.argv[3] || 100)

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-bench-hypercore-'))
  const core = new Hypercore(dir, { keyPair: crypto.keyPair(b4a.alloc(32, 1)) })
  await core.ready()
  const block = b4a.alloc(64)
  for (let i = 0; i < 64; i++) block[i] = i
  const blocks = new Array(batch).fill(block)
  const start = process.hrtime.bigint()
  if (batch === 1) {
    for (let i = 0; i < total; i++) await core.append(block)
  } else {
    for (let i = 0; i < total / batch; i++) await core.append(blocks)
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9
  if (core.length !== total) throw new Error('length mismatch')
  await core.close()
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ value: total / elapsed }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
