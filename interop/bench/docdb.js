// hyperbeedeebee 2.0.0 on hyperbee 2.27.3 (hypercore 11, on disk in a temp dir): the workloads
// of bench/bench_docdb.py.
//   node docdb.js insert DOCS         -> docs/s, DOCS inserts with indexes [n] and [tag, n]
//   node docdb.js find DOCS FINDS     -> queries/s, find({tag}).sort('n', -1).limit(10)
//   node docdb.js scan DOCS SCANS     -> scanned docs/s, unindexed find({v: {$gte: 990}})
'use strict'
const os = require('os')
const fs = require('fs')
const path = require('path')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const { DB } = require('hyperbeedeebee')

const [mode, nArg, qArg] = process.argv.slice(2)
const N = Number(nArg || 10000)
const Q = Number(qArg || 300)
const doc = (i) => ({ tag: 't' + (i % 10), n: (i * 7919) % N, v: i % 1000, text: 'document ' + i })
const now = () => Number(process.hrtime.bigint()) / 1e9

async function fill (c, n) {
  await c.createIndex(['n'])
  await c.createIndex(['tag', 'n'])
  for (let i = 0; i < n; i++) await c.insert(doc(i))
}

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-bench-'))
  const bee = new Hyperbee(new Hypercore(path.join(dir, 'bee')))
  await bee.ready()
  const c = new DB(bee).collection('bench')
  let result
  try {
    if (mode === 'insert') {
      const t = now()
      await fill(c, N)
      result = N / (now() - t)
    } else if (mode === 'find') {
      await fill(c, N)
      const t = now()
      for (let q = 0; q < Q; q++) {
        const got = await c.find({ tag: 't' + (q % 10) }).sort('n', -1).limit(10)
        if (got.length !== 10) throw new Error('got ' + got.length)
      }
      result = Q / (now() - t)
    } else if (mode === 'scan') {
      await fill(c, N)
      const t = now()
      for (let q = 0; q < Q; q++) {
        const got = await c.find({ v: { $gte: 990 } })
        if (got.length !== N / 100) throw new Error('got ' + got.length)
      }
      result = N * Q / (now() - t)
    }
  } finally {
    await bee.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  process.stdout.write(JSON.stringify({ value: result }) + '\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
