// A three-writer JS Autobase (7.28.1) run for the Python linearizer: writer a (the creator)
// adds b and c, as non-indexers (mode "writers", the default) or as indexers (mode "indexers");
// all three append JSON values in rounds, replicating in-process between rounds, and the
// indexers ack until everything is indexed. Prints JSON: each writer core's raw blocks (hex),
// the final indexers, and the view (the linearized values, in order) with its length and signed
// (indexed) length.
// Usage: node autobase-writers.js [rounds] [writers|indexers]
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const Corestore = require('corestore')
const Autobase = require('autobase')

const hex = (b) => b4a.toString(b, 'hex')

function makeBase (store, bootstrap) {
  return new Autobase(store, bootstrap, {
    valueEncoding: 'json',
    ackInterval: 0,
    ackThreshold: 0,
    fastForward: false,
    open: (s) => s.get('view', { valueEncoding: 'json' }),
    apply: async (nodes, view, host) => {
      for (const { value } of nodes) {
        if (value && value.add) {
          await host.addWriter(b4a.from(value.add, 'hex'), { indexer: !!value.indexer })
          continue
        }
        await view.append(value)
      }
    }
  })
}

async function sync (bases) {
  const streams = []
  for (let i = 0; i < bases.length; i++) {
    for (let j = i + 1; j < bases.length; j++) {
      const s1 = bases[i].store.replicate(true)
      const s2 = bases[j].store.replicate(false)
      s1.pipe(s2).pipe(s1)
      streams.push(s1, s2)
    }
  }
  for (let round = 0; round < 6; round++) {
    for (const b of bases) await b.update()
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
  for (const s of streams) s.destroy()
}

async function main () {
  const rounds = Number(process.argv[2] || 4)
  const asIndexers = process.argv[3] === 'indexers'
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-writers-'))
  const stores = [1, 2, 3].map((i) => new Corestore(path.join(tmp, 's' + i), { primaryKey: b4a.alloc(32, i), unsafe: true }))
  const a = makeBase(stores[0], null)
  await a.ready()
  const b = makeBase(stores[1], a.key)
  const c = makeBase(stores[2], a.key)
  await b.ready()
  await c.ready()
  await a.append({ add: hex(b.local.key), indexer: asIndexers })
  await a.append({ add: hex(c.local.key), indexer: asIndexers })
  await sync([a, b, c])
  const bases = { a, b, c }
  // a fixed schedule: who appends what in each round (concurrent appends between syncs)
  for (let r = 0; r < rounds; r++) {
    const order = [['a', 'b', 'c'], ['c', 'b'], ['b', 'a', 'a'], ['c', 'c', 'a', 'b']][r % 4]
    for (const [i, name] of order.entries()) await bases[name].append({ from: name, round: r, i })
    if (r % 2 === 1) await sync([a, b, c])
  }
  for (let i = 0; i < 6; i++) {
    await sync([a, b, c])
    for (const base of asIndexers ? [a, b, c] : [a]) {
      await base.ack()
      await sync([a, b, c])
    }
  }
  await sync([a, b, c])

  const writers = []
  for (const base of [a, b, c]) {
    const core = stores[0].get({ key: base.local.key, valueEncoding: 'binary' })
    await core.ready()
    const blocks = []
    for (let i = 0; i < core.length; i++) blocks.push(hex(await core.get(i)))
    writers.push({ key: hex(base.local.key), blocks })
    await core.close()
  }
  const view = []
  for (let i = 0; i < a.view.length; i++) view.push(await a.view.get(i))
  const out = {
    key: hex(a.key),
    indexers: a.system.indexers.map((i) => hex(i.key)),
    writers,
    view,
    viewLength: a.view.length,
    signedLength: a.view.signedLength,
    peersAgree: b.view.length === a.view.length && c.view.length === a.view.length
  }
  for (const base of [a, b, c]) await base.close()
  for (const s of stores) await s.close()
  fs.rmSync(tmp, { recursive: true, force: true })
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
