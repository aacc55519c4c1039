// Benchmark twin of bench/bench_encoding.py: encode + decode of a dht-rpc-like request
// (interop/scripts/encoding-message.js) with compact-encoding 3.5.2. Prints {"value": ops/s}.
'use strict'
const c = require('compact-encoding')
const { request, typical } = require('../scripts/encoding-message.js')

const seconds = Number(process.argv[2] || 3)
const msg = typical()

function round (n) {
  let sink = 0
  for (let i = 0; i < n; i++) {
    const buf = c.encode(request, msg)
    const m = c.decode(request, buf)
    sink += m.tid
  }
  return sink
}

round(200000) // warm up the JIT
let ops = 0
const start = process.hrtime.bigint()
const deadline = start + BigInt(Math.round(seconds * 1e9))
let now = start
while (now < deadline) {
  round(10000)
  ops += 10000
  now = process.hrtime.bigint()
}
const elapsed = Number(now - start) / 1e9
console.log(JSON.stringify({ value: ops / elapsed }))
