// One JS Autobase (7.28.1) peer of a mesh the test wires up link by link: its view is a Hyperbee
// (utf-8 keys, json values; apply: {add, indexer} adds a writer, {remove} removes one, {put,
// value} puts, {del} deletes). It creates the base (or joins opts.key), with its own store
// (primary key: 32 bytes of opts.seed), listens for @hyperswarm/secret-stream connections on TCP
// 127.0.0.1 and dials the ports the test names (a proxy the test can cut: a cut link's stream
// just closes, and the test dials again to restore it). JSON lines:
//
//   node autobase-mesh-peer.js '{"key": <hex, optional>, "seed": <0..255>}'
//   -> {event: "ready", key, local, port}
//   <- {cmd: "connect", port}             dial 127.0.0.1:port -> {event: "connected", opened}
//   <- {cmd: "append", values: [...]}     one batch   -> {event: "appended", length}
//   <- {cmd: "update"}                    update()    -> {event: "updated", length}
//   <- {cmd: "ack", force}                ack() (only appends when the linearizer wants an ack;
//                                         force: an ack node anyway) -> {event: "acked", length}
//   <- {cmd: "state"}                     -> {event: "state", entries, viewKey, viewLength,
//                                             viewSignedLength, viewTreeHash, indexers, writable,
//                                             isIndexer, localLength, systemKey, systemLength,
//                                             systemIndexedLength, systemIndexedTreeHash,
//                                             systemSignedLength}
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-mesh-peer-'))
  const store = new Corestore(path.join(dir, 'store'), { primaryKey: b4a.alloc(32, opts.seed || 0), unsafe: true })
  const base = new Autobase(store, opts.key ? b4a.from(opts.key, 'hex') : null, {
    valueEncoding: 'json',
    ackInterval: 0,
    ackThreshold: 0,
    fastForward: false,
    open: (s) => new Hyperbee(s.get('view'), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false }),
    apply: async (nodes, view, host) => {
      for (const { value } of nodes) {
        if (value.add) await host.addWriter(b4a.from(value.add, 'hex'), { indexer: !!value.indexer })
        else if (value.remove) await host.removeWriter(b4a.from(value.remove, 'hex'))
        else if (value.del !== undefined) await view.del(value.del)
        else await view.put(value.put, value.value)
      }
    }
  })
  base.on('error', (err) => out({ event: 'warning', message: String(err) }))
  await base.ready()
  const streams = new Set()
  const track = (s) => {
    s.on('error', () => {})
    streams.add(s)
    s.on('close', () => streams.delete(s))
    store.replicate(s)
    return s
  }
  const server = net.createServer((socket) => { track(new NoiseSecretStream(false, socket)) })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  out({ event: 'ready', key: hex(base.key), local: hex(base.local.key), port: server.address().port })

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const msg = JSON.parse(line)
    if (msg.cmd === 'exit') break
    if (msg.cmd === 'connect') {
      const s = track(new NoiseSecretStream(true, net.connect(msg.port, '127.0.0.1')))
      out({ event: 'connected', opened: await s.opened.catch(() => false) })
    } else if (msg.cmd === 'append') {
      await base.append(msg.values)
      out({ event: 'appended', length: base.local.length })
    } else if (msg.cmd === 'update') {
      await base.update()
      out({ event: 'updated', length: base.local.length })
    } else if (msg.cmd === 'ack') {
      if (msg.force) await base.append(null) // an ack node whether the linearizer wants one or not
      else await base.ack()
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
        indexers: base.system ? base.system.indexers.map((i) => hex(i.key)) : [],
        writable: base.writable,
        isIndexer: !!base.system && base.system.indexers.some((i) => b4a.equals(i.key, base.local.key)),
        localLength: base.local.length,
        systemKey: hex(base.core.key),
        systemLength: base.core.length,
        systemIndexedLength: base.indexedLength,
        systemIndexedTreeHash: hex(await base.core.treeHash(base.indexedLength)),
        systemSignedLength: base.signedLength
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
