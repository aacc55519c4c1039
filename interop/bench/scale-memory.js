// Scale curve twin of bench/bench_scale.py (rss_per_open_core): a corestore 7.12.5 store on disk
// with N named one-block cores (created and closed, not measured) is reopened; the figure is the
// growth of resident memory (KiB) per core after opening all N by key and reading block 0 of each.
'use strict'
const os = require('os')
const fs = require('fs')
const path = require('path')
const Corestore = require('corestore')
const b4a = require('b4a')

const N = Number(process.argv[2] || 1000)
const block = (c) => { const b = b4a.alloc(32); for (let j = 0; j < 32; j += 4) b.writeUInt32LE(c, j); return b }

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-bench-rss-'))
  const keys = []
  const setup = new Corestore(path.join(dir, 's'))
  for (let c = 0; c < N; c++) {
    const core = setup.get({ name: 'core-' + c })
    await core.ready()
    await core.append(block(c))
    keys.push(core.key)
    await core.close()
  }
  await setup.close()
  const store = new Corestore(path.join(dir, 's'))
  await store.ready()
  const before = process.memoryUsage().rss
  const sessions = []
  for (const key of keys) { const s = store.get({ key }); await s.ready(); sessions.push(s) }
  for (let c = 0; c < N; c++) if (!b4a.equals(await sessions[c].get(0), block(c))) throw new Error('content mismatch')
  const after = process.memoryUsage().rss
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ value: (after - before) / 1024 / N }))
}

main().catch((err) => { console.error(err); process.exit(1) })
