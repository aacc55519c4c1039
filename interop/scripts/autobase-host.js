// A JS Autobase (7.28.1) base for a hyperpunch Autobase to join: two JS writers, each with its
// own Corestore (a creates the base and adds b, as an indexer unless opts.indexer is false),
// replicated in-process, concurrent appends and acks until everything is indexed; then each
// store is served over @hyperswarm/secret-stream over TCP 127.0.0.1. With "bee": true the view
// is a Hyperbee (utf-8 keys, json values; apply: {put, value} puts, {del} deletes), both writers
// putting and deleting concurrently. With "remove": true, a then removes b (an indexer: demoted)
// and appends once more. JSON lines:
//
//   node autobase-host.js '{"indexer": true, "bee": false}'
//   -> {"event": "ready", ports, key, view, indexers}    view: the linearized values
//   <- {"cmd": "exit"}                                   close everything, exit 0
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const readline = require('readline')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Corestore = require('corestore')
const Autobase = require('autobase')
const Hyperbee = require('hyperbee')
const b4a = require('b4a')

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => b4a.toString(b, 'hex')

function makeBase (store, bootstrap) {
  return new Autobase(store, bootstrap, {
    valueEncoding: 'json',
    ackInterval: 0,
    ackThreshold: 0,
    fastForward: false,
    open: (s) => opts.bee
      ? new Hyperbee(s.get('view'), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false })
      : s.get('view', { valueEncoding: 'json' }),
    apply: async (nodes, view, host) => {
      for (const { value } of nodes) {
        if (value && value.add) {
          await host.addWriter(b4a.from(value.add, 'hex'), { indexer: !!value.indexer })
          continue
        }
        if (value && value.remove) {
          await host.removeWriter(b4a.from(value.remove, 'hex'))
          continue
        }
        if (opts.bee) {
          if (value.del !== undefined) await view.del(value.del)
          else await view.put(value.put, value.value)
          continue
        }
        await view.append(value)
      }
    }
  })
}

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-host-'))
  const stores = [8, 9].map((i) => new Corestore(path.join(dir, 's' + i), { primaryKey: b4a.alloc(32, i), unsafe: true }))
  const a = makeBase(stores[0], null)
  await a.ready()
  const b = makeBase(stores[1], a.key)
  await b.ready()
  const s1 = stores[0].replicate(true)
  const s2 = stores[1].replicate(false)
  s1.pipe(s2).pipe(s1)
  const settle = () => new Promise((resolve) => setTimeout(resolve, 30))
  const both = async () => {
    for (let i = 0; i < 3; i++) {
      await a.update()
      await b.update()
      await settle()
    }
  }
  await a.append({ add: hex(b.local.key), indexer: opts.indexer !== false })
  const op = (from, i) => opts.bee ? { put: 'k' + (i % 2), value: { from, i } } : { from, i }
  await a.append(op('a', 0))
  await both()
  await b.append(op('b', 0))
  await a.append(op('a', 1))
  await both()
  await b.append([op('b', 1), opts.bee ? { del: 'k1' } : op('b', 2)])
  if (opts.bee) await a.append([{ put: 'x', value: 1 }, { put: 'k1', value: 'a' }]) // concurrent with b's batch
  for (let i = 0; i < 4; i++) {
    await both()
    await a.ack()
    await both()
    await b.ack()
  }
  await both()
  if (opts.remove) { // a removes b (demoting the indexer), acks until that is indexed, appends
    await a.append({ remove: hex(b.local.key) })
    for (let i = 0; i < 4; i++) {
      await both()
      await a.ack()
      await both()
      if (b.writable) await b.ack().catch(() => {})
    }
    await a.append(opts.bee ? { put: 'after', value: 'a' } : { from: 'a', i: 9 })
    await both()
  }
  const view = []
  if (opts.bee) {
    for await (const { key, value } of a.view.createReadStream()) view.push([key, value])
  } else {
    for (let i = 0; i < a.view.length; i++) view.push(await a.view.get(i))
  }
  const viewCore = opts.bee ? a.view.core : a.view

  const streams = [s1, s2]
  const servers = []
  for (const store of stores) {
    const server = net.createServer((socket) => {
      const s = new NoiseSecretStream(false, socket)
      s.on('error', () => {})
      streams.push(s)
      store.replicate(s)
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
  }
  out({
    event: 'ready',
    ports: servers.map((s) => s.address().port),
    key: hex(a.key),
    view,
    indexers: a.system.indexers.map((i) => hex(i.key)),
    signedLength: viewCore.signedLength,
    viewLength: viewCore.length,
    viewKey: hex(viewCore.key), // the view core as JS derived it, and its content's tree hash
    viewTreeHash: hex(await viewCore.treeHash(viewCore.length)),
    systemKey: hex(a.core.key),
    systemLength: a.core.length,
    systemTreeHash: hex(await a.core.treeHash(a.core.length))
  })
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    if (JSON.parse(line).cmd === 'exit') break
  }
  rl.close()
  for (const s of streams) s.destroy()
  for (const server of servers) server.close()
  await a.close()
  await b.close()
  for (const store of stores) await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  out({ event: 'closed' })
  process.exit(0) // stdin stays open otherwise
}

main().catch((err) => { out({ event: 'error', message: err.stack || String(err) }); process.exit(1) })
