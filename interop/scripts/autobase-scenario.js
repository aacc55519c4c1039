// Runs a multi-writer scenario with real JS Autobases (7.28.1), as autobase's own tests do with
// their helpers (test/helpers: addWriterAndSync, confirm, replicateAndSync over in-process
// corestore replication), then prints JSON: every writer core's blocks (hex, from whichever
// store holds the most) and, per base, its view, its indexed view length (getIndexedInfo) and
// how much of each writer core its store holds.
//
// stdin: {"writers": n, "ops": [...]} with ops
//   ["addsync", i, j, indexer, [k...]?]   addWriterAndSync(bases[i], bases[j], indexer, subset)
//   ["append", i, value]                  bases[i].append(value)
//   ["sync", [k...]]                      replicateAndSync(those bases)
//   ["confirm", [k...]]                   confirm(those bases)
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
          await host.addWriter(b4a.from(value.add, 'hex'), { indexer: value.indexer })
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
  for (let round = 0; round < 5; round++) {
    for (const b of bases) await b.update()
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  for (const s of streams) s.destroy()
  await new Promise((resolve) => setTimeout(resolve, 10))
}

async function confirm (bases) {
  await sync(bases)
  for (let i = 0; i < 2; i++) {
    const writers = bases.filter((b) => !!b.localWriter)
    const maj = Math.floor(writers.length / 2) + 1
    for (let j = 0; j < maj; j++) {
      if (!writers[j].ackable) continue
      await writers[j].append(null)
      await sync(bases)
    }
  }
  await sync(bases)
}

async function main (scenario) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-scenario-'))
  const stores = []
  for (let i = 0; i < scenario.writers; i++) {
    stores.push(new Corestore(path.join(tmp, 's' + i), { primaryKey: b4a.alloc(32, i + 1), unsafe: true }))
  }
  const bases = [makeBase(stores[0], null)]
  await bases[0].ready()
  for (let i = 1; i < stores.length; i++) {
    bases.push(makeBase(stores[i], bases[0].local.key))
    await bases[i].ready()
  }
  const pick = (ks) => (ks ? ks.map((k) => bases[k]) : bases)

  for (const [op, ...args] of scenario.ops) {
    if (op === 'addsync') {
      const [i, j, indexer, subset] = args
      await bases[i].append({ add: hex(bases[j].local.key), indexer })
      await sync(subset ? pick(subset) : [bases[i], bases[j]])
      await bases[i].ack()
      await sync(subset ? pick(subset) : [bases[i], bases[j]])
    } else if (op === 'append') {
      await bases[args[0]].append(args[1])
    } else if (op === 'sync') {
      await sync(pick(args[0]))
    } else if (op === 'confirm') {
      await confirm(pick(args[0]))
    } else {
      throw new Error('unknown op ' + op)
    }
  }

  const keys = bases.map((b) => b.local.key)
  const writers = []
  for (const key of keys) {
    let best = []
    for (const store of stores) {
      const core = store.get({ key, valueEncoding: 'binary' })
      await core.ready()
      const blocks = []
      for (let i = 0; i < core.contiguousLength; i++) blocks.push(hex(await core.get(i)))
      if (blocks.length > best.length) best = blocks
      await core.close()
    }
    writers.push({ key: hex(key), blocks: best })
  }
  const out = { key: hex(bases[0].key), writers, bases: [] }
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]
    const view = []
    for (let k = 0; k < base.view.length; k++) view.push(await base.view.get(k))
    const info = await base.getIndexedInfo()
    const views = info ? info.views : []
    const lengths = {}
    for (const key of keys) {
      const core = stores[i].get({ key, valueEncoding: 'binary' })
      await core.ready()
      lengths[hex(key)] = core.contiguousLength
      await core.close()
    }
    out.bases.push({ view, indexedViewLength: views.length ? views[views.length - 1].length : 0, lengths })
  }
  for (const base of bases) await base.close()
  for (const store of stores) await store.close()
  fs.rmSync(tmp, { recursive: true, force: true })
  return out
}

let data = ''
process.stdin.on('data', (d) => { data += d })
process.stdin.on('end', () => {
  main(JSON.parse(data)).then(
    (out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (err) => { console.error(err); process.exit(1) }
  )
})
