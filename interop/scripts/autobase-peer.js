// A JS Autobase (7.28.1) peer joining a base hyperpunch wrote: it connects over
// @hyperswarm/secret-stream over TCP 127.0.0.1 to the Python store, replicates, and linearizes
// the Python-written writer cores itself (no fast-forward). Its apply is the Python test's:
// {add: <hex key>, indexer} adds a writer, anything else is appended to the view.
//
//   node autobase-peer.js '{"key": "<base key hex>", "port": <port>, "expect": <view length>, "bee": false,
//                            "viewKey": <hex, optional>}'
//
// With "bee": true the view is a Hyperbee (utf-8 keys, json values; {put, value} puts, {del}
// deletes); `view` is then its [key, value] entries and `expect` the view core's length.
//
// Prints one JSON line: {view, viewLength, signedLength, baseSignedLength, systemLength, systemKey,
// systemTreeHash, indexedLength, indexers, writable, viewKey, viewTreeHash} once the view has
// `expect` values and JS's own linearization made everything final (with "signed": true, also
// once the system and view cores are signed that far), or after a deadline, with what it has.
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Corestore = require('corestore')
const Autobase = require('autobase')
const Hyperbee = require('hyperbee')
const b4a = require('b4a')

const opts = JSON.parse(process.argv[2])
const hex = (b) => b4a.toString(b, 'hex')

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-peer-'))
  const store = new Corestore(path.join(dir, 'store'))
  const base = new Autobase(store, b4a.from(opts.key, 'hex'), {
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
        if (opts.bee) {
          if (value.del !== undefined) await view.del(value.del)
          else await view.put(value.put, value.value)
          continue
        }
        await view.append(value)
      }
    }
  })
  await base.ready()
  const socket = net.connect(opts.port, '127.0.0.1')
  const stream = new NoiseSecretStream(true, socket)
  stream.on('error', () => {})
  store.replicate(stream)

  const deadline = Date.now() + 30000
  while (Date.now() < deadline) {
    await base.update()
    const core = opts.bee ? base.view.core : base.view
    const signed = !opts.signed || (base.signedLength === base.indexedLength && core.signedLength === core.length)
    if (core.length >= opts.expect && base.indexedLength === base.length && signed) break
    // or (with opts.viewKey) once the view core is that core at that length: the last acks of
    // two indexers stay unindexed until someone acks again
    if (opts.viewKey && core.length >= opts.expect && hex(core.key) === opts.viewKey) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const viewCore = opts.bee ? base.view.core : base.view
  const view = []
  if (opts.bee) {
    for await (const { key, value } of base.view.createReadStream()) view.push([key, value])
  } else {
    for (let i = 0; i < base.view.length; i++) view.push(await base.view.get(i))
  }
  const out = {
    view,
    viewLength: viewCore.length,
    signedLength: viewCore.signedLength, // signed by the indexers' checkpoints
    baseSignedLength: base.signedLength, // the system core's signed length
    systemLength: base.length,
    systemKey: hex(base.core.key),
    systemTreeHash: hex(await base.core.treeHash(base.core.length)),
    indexedLength: base.indexedLength, // how much of the system view JS itself holds as final
    indexers: base.system.indexers.map((i) => hex(i.key)),
    writable: base.writable,
    viewKey: hex(viewCore.key), // the view core as JS derived it, and its content's tree hash
    viewTreeHash: hex(await viewCore.treeHash(viewCore.length))
  }
  process.stdout.write(JSON.stringify(out) + '\n')
  stream.destroy()
  await base.close()
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((err) => { console.error(err); process.exit(1) })
