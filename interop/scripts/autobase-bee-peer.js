// An interactive JS Autobase (7.28.1) whose view is a Hyperbee (utf-8 keys, json values; apply:
// {add, indexer} adds a writer, {put, value} puts, {del} deletes), for a hyperpunch Autobase to
// write alongside. It creates the base (or joins opts.key) and serves its store over
// @hyperswarm/secret-stream over TCP 127.0.0.1. JSON lines:
//
//   node autobase-bee-peer.js '{"key": <hex, optional>, "encryptionKey": <hex, optional>}'
//   -> {event: "ready", key, local, port}
//   <- {cmd: "append", values: [...]}     one batch          -> {event: "appended", length}
//   <- {cmd: "update", rounds}            update(), 30 ms pauses (replication) -> {event: "updated"}
//   <- {cmd: "ack"}                       -> {event: "acked", length}
//   <- {cmd: "state"}                     -> {event: "state", entries, viewKey, viewLength,
//                                             viewSignedLength, viewTreeHash, indexers, writable,
//                                             systemKey, systemLength, systemTreeHash,
//                                             systemIndexedLength, systemIndexedTreeHash,
//                                             systemSignedLength, encryptionKey}
//   <- {cmd: "exit"}                      -> {event: "closed"}
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

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-bee-peer-'))
  const store = new Corestore(path.join(dir, 'store'), { primaryKey: b4a.alloc(32, 5), unsafe: true })
  const base = new Autobase(store, opts.key ? b4a.from(opts.key, 'hex') : null, {
    valueEncoding: 'json',
    ackInterval: 0,
    ackThreshold: 0,
    fastForward: false,
    encryptionKey: opts.encryptionKey ? b4a.from(opts.encryptionKey, 'hex') : null,
    open: (s) => new Hyperbee(s.get('view'), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false }),
    apply: async (nodes, view, host) => {
      for (const { value } of nodes) {
        if (value.add) await host.addWriter(b4a.from(value.add, 'hex'), { indexer: !!value.indexer })
        else if (value.del !== undefined) await view.del(value.del)
        else await view.put(value.put, value.value)
      }
    }
  })
  base.on('error', (err) => out({ event: 'warning', message: String(err) }))
  await base.ready()
  const streams = []
  const server = net.createServer((socket) => {
    const s = new NoiseSecretStream(false, socket)
    s.on('error', () => {})
    streams.push(s)
    store.replicate(s)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  out({ event: 'ready', key: hex(base.key), local: hex(base.local.key), port: server.address().port })

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const msg = JSON.parse(line)
    if (msg.cmd === 'exit') break
    if (msg.cmd === 'append') {
      await base.append(msg.values)
      out({ event: 'appended', length: base.local.length })
    } else if (msg.cmd === 'update') {
      for (let i = 0; i < (msg.rounds || 10); i++) {
        await base.update()
        await new Promise((resolve) => setTimeout(resolve, 30))
      }
      out({ event: 'updated' })
    } else if (msg.cmd === 'ack') {
      await base.ack()
      out({ event: 'acked', length: base.local.length })
    } else if (msg.cmd === 'state') {
      const entries = []
      for await (const { key, value } of base.view.createReadStream()) entries.push([key, value])
      const core = base.view.core
      out({
        event: 'state',
        entries,
        viewKey: hex(core.key),
        viewLength: core.length,
        viewSignedLength: core.signedLength,
        viewTreeHash: hex(await core.treeHash(core.length)),
        indexers: base.system.indexers.map((i) => hex(i.key)),
        writable: base.writable,
        systemKey: hex(base.core.key),
        systemLength: base.core.length,
        systemTreeHash: hex(await base.core.treeHash(base.core.length)),
        systemIndexedLength: base.indexedLength,
        systemIndexedTreeHash: hex(await base.core.treeHash(base.indexedLength)),
        systemSignedLength: base.signedLength,
        encryptionKey: base.encryptionKey ? hex(base.encryptionKey) : null
      })
    }
  }
  rl.close()
  for (const s of streams) s.destroy()
  server.close()
  await base.close()
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  out({ event: 'closed' })
  process.exit(0)
}

main().catch((err) => { out({ event: 'error', message: err.stack || String(err) }); process.exit(1) })
