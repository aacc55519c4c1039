// Hyperbee 2.27.3 (hypercore 11, on disk in a temp dir): the workloads of bench/bench_hyperbee.py.
//   node hyperbee.js put KEYS            -> puts/s, KEYS puts in batches of 1 000
//   node hyperbee.js get KEYS GETS       -> gets/s, GETS random gets on a KEYS-key bee
//   node hyperbee.js scan KEYS           -> entries/s, one full range scan
//   node hyperbee.js remote KEYS GETS    -> ms/get, sparse reader over secret-stream on TCP 127.0.0.1
// Keys are 'key-%08d' of the same seeded permutation as the Python side (a Mersenne Twister is
// not needed: only the workload shape matters, the key set and sizes are the same).
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const b4a = require('b4a')

const [mode, nArg, gArg] = process.argv.slice(2)
const N = Number(nArg || 20000)
const G = Number(gArg || 5000)

const key = (i) => b4a.from('key-' + String(i).padStart(8, '0'))
const value = (i) => b4a.from(String(i).padStart(32, '0').slice(0, 32))

let seed = 1
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
function order (n) {
  const o = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [o[i], o[j]] = [o[j], o[i]] }
  return o
}

async function fill (db, n) {
  const o = order(n)
  for (let s = 0; s < n; s += 1000) {
    const b = db.batch()
    for (const i of o.slice(s, s + 1000)) await b.put(key(i), value(i))
    await b.flush()
  }
}

const now = () => Number(process.hrtime.bigint()) / 1e9

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-bench-'))
  const db = new Hyperbee(new Hypercore(path.join(dir, 'w')))
  await db.ready()
  let result
  try {
    if (mode === 'put') {
      const t = now()
      await fill(db, N)
      result = N / (now() - t)
    } else if (mode === 'get') {
      await fill(db, N)
      const wanted = Array.from({ length: G }, () => Math.floor(rand() * N))
      const t = now()
      for (const i of wanted) if (!(await db.get(key(i)))) throw new Error('missing')
      result = G / (now() - t)
    } else if (mode === 'scan') {
      await fill(db, N)
      const t = now()
      let count = 0
      for await (const _ of db.createReadStream()) count++ // eslint-disable-line
      if (count !== N) throw new Error('count ' + count)
      result = N / (now() - t)
    } else if (mode === 'remote') {
      await fill(db, N)
      const server = net.createServer((socket) => {
        const s = new NoiseSecretStream(false, socket)
        s.on('error', () => {})
        db.core.replicate(s)
      })
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
      const reader = new Hyperbee(new Hypercore(path.join(dir, 'r'), db.core.key))
      await reader.ready()
      const client = new NoiseSecretStream(true, net.connect(server.address().port, '127.0.0.1'))
      client.on('error', () => {})
      reader.core.replicate(client)
      while (reader.core.length < db.core.length) await reader.core.update({ wait: true })
      const wanted = Array.from({ length: G }, () => Math.floor(rand() * N))
      const t = now()
      for (const i of wanted) {
        const e = await reader.get(key(i))
        if (!e || !b4a.equals(e.value, value(i))) throw new Error('bad value')
      }
      result = (now() - t) / G * 1000
      client.destroy()
      server.close()
      await reader.close()
    }
  } finally {
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  process.stdout.write(JSON.stringify({ value: result }) + '\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
