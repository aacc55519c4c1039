// A JS writer of a multi-writer document DB: Autobase 7.28.1 whose view is a Hyperbee (binary keys
// and values, core 'db'), hyperbeedeebee 2.0.0 on top through an Autodeebee-style adapter (put/del
// append hello-peers' BSON ops {type, key, value, prefix}; reads go to the view). The apply is
// hyperpunch.docdb.multiwriter.apply_ops: one view batch per apply call, key = prefix + key,
// {type: 'addWriter', key, indexer} adds a writer, a node that is not an op is skipped. It joins
// opts.key (or creates a base) and serves its store over @hyperswarm/secret-stream on TCP
// 127.0.0.1 (any number of connections). JSON lines on stdin/stdout:
//
//   node docdb-autobase-peer.js '{"key": <hex, optional>}'
//   -> {event: "ready", key, local, port}
//   <- {cmd: "createIndex", coll, fields}                      -> {event: "done", result: null}
//   <- {cmd: "insert", coll, doc: <hex BSON {d: doc}>}         -> {event: "done", result: idHex}
//   <- {cmd: "update", coll, query, update: <hex BSON {d}>}    -> {event: "done", result: {nMatched, nModified, nUpserted}}
//   <- {cmd: "delete", coll, query: <hex BSON {d}>}            -> {event: "done", result: n (0 or 1)}
//        (hyperbeedeebee 2.0.0 has no delete: the document's key and its index entries are
//        deleted through the adapter, as hyperpunch's Collection.delete writes them)
//   <- {cmd: "append", value: <hex>}        a raw node           -> {event: "appended", length}
//   <- {cmd: "sync", rounds}                base.update(), 30 ms pauses  -> {event: "synced", length, writable}
//   <- {cmd: "wait", lengths: {keyHex: n}}  until blocks [0, n) of those cores are here -> {event: "waited"}
//   <- {cmd: "ack", force?}                 base.ack() (force: append(null)) -> {event: "acked", length}
//   <- {cmd: "state", coll, queries: [{find: <hex {d}>, sort?: [field, dir], hint?}]}
//   -> {event: "state", entries: [[keyHex, valueHex]], results: [[docHex]], indexes, writable,
//       length, viewKey, viewLength, viewSignedLength, viewTreeHash, indexers}
//   <- {cmd: "exit"}                                             -> {event: "closed"}
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
const { DB, BSON } = require('hyperbeedeebee')

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => b4a.toString(b, 'hex')
const de = (h) => BSON.deserialize(b4a.from(h, 'hex'), { promoteBuffers: true }).d
const SEP = b4a.from([0])
const toBuf = (v) => (typeof v === 'string' ? b4a.from(v) : b4a.from(v))

// ---- the op format (hyperpunch.docdb.multiwriter.encode_op / decode_op) ----

function encodeOp (type, key, value, prefix) {
  const op = { type, key: toBuf(key) }
  if (type === 'put') op.value = toBuf(value)
  op.prefix = prefix
  return BSON.serialize(op)
}

function bytesOf (v) {
  if (b4a.isBuffer(v)) return v
  if (typeof v === 'string') return b4a.from(v)
  return null
}

function parseOp (raw) {
  let op
  try {
    op = BSON.deserialize(raw, { promoteBuffers: true })
  } catch {
    return null
  }
  const key = bytesOf(op.key)
  const prefix = op.prefix === undefined ? b4a.alloc(0) : bytesOf(op.prefix)
  if (!['put', 'del', 'addWriter'].includes(op.type) || key === null || prefix === null) return null
  if (op.type === 'put' && !b4a.isBuffer(op.value)) return null
  return { type: op.type, key: b4a.concat([prefix, key]), value: op.value, indexer: op.indexer !== false }
}

async function apply (nodes, view, host) {
  const batch = view.batch({ update: false })
  for (const node of nodes) {
    if (node.value === null) continue
    const op = parseOp(node.value)
    if (op === null) continue
    if (op.type === 'addWriter') {
      if (op.key.byteLength === 32) await host.addWriter(op.key, { indexer: op.indexer })
    } else if (op.type === 'put') {
      await batch.put(op.key, op.value)
    } else {
      await batch.del(op.key)
    }
  }
  await batch.flush()
}

// ---- the Autodeebee-style adapter: a bee to hyperbeedeebee, writes become ops ----

class OpBatch {
  constructor (bee) {
    this.bee = bee
    this.ops = []
  }

  async put (key, value) { this.ops.push(encodeOp('put', key, value, this.bee.prefix)) }
  async del (key) { this.ops.push(encodeOp('del', key, null, this.bee.prefix)) }
  async flush () {
    const ops = this.ops
    this.ops = []
    if (ops.length) await this.bee.base.append(ops)
  }
}

// Reads go to a snapshot of the view taken when the base is settled (Reads.refresh, before every
// DB command): JS Autobase applies remote nodes in the background (on a writer core's append), and
// a read of the live view in the middle of that (a reorder undoing and re-applying nodes) could see
// half of it; a snapshot sees one state.
class Reads {
  constructor (base) {
    this.base = base
    this.snap = null
  }

  async refresh () {
    await this.base.update()
    const old = this.snap
    this.snap = this.base.view.snapshot()
    if (old) await old.close()
  }
}

class AutoDeeBee {
  constructor (base, reads, names = []) {
    this.base = base
    this.reads = reads
    this.names = names
    this.prefix = b4a.concat(names.flatMap((n) => [toBuf(n), SEP]))
  }

  get view () { return this.names.reduce((bee, n) => bee.sub(n), this.reads.snap) }
  get feed () { return this.base.view.feed }
  sub (name) { return new AutoDeeBee(this.base, this.reads, [...this.names, name]) }
  batch () { return new OpBatch(this) }
  async put (key, value) { await this.base.append(encodeOp('put', key, value, this.prefix)) }
  async del (key) { await this.base.append(encodeOp('del', key, null, this.prefix)) }
  get (key) { return this.view.get(key) }
  createReadStream (range, o) { return this.view.createReadStream(range, o) }
}

async function deleteOne (coll, query) {
  const [doc] = await coll.find(query).limit(1)
  if (!doc) return 0
  await coll.docs.del(doc._id.id)
  for (const { fields, name } of await coll.listIndexes()) {
    await coll._deIndexDocument(coll.idx.sub(name), fields, doc)
  }
  return 1
}

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-autobase-peer-'))
  const store = new Corestore(path.join(dir, 'store'), { primaryKey: b4a.alloc(32, 9), unsafe: true })
  const base = new Autobase(store, opts.key ? b4a.from(opts.key, 'hex') : null, {
    ackInterval: 0,
    ackThreshold: 0,
    fastForward: false,
    open: (s) => new Hyperbee(s.get('db'), { keyEncoding: 'binary', valueEncoding: 'binary', extension: false }),
    apply
  })
  base.on('error', (err) => out({ event: 'warning', message: String(err) }))
  await base.ready()
  const reads = new Reads(base)
  const db = new DB(new AutoDeeBee(base, reads))
  const streams = new Set()
  const server = net.createServer((socket) => {
    const s = new NoiseSecretStream(false, socket)
    s.on('error', () => {})
    s.on('close', () => streams.delete(s))
    streams.add(s)
    store.replicate(s)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  out({ event: 'ready', key: hex(base.key), local: hex(base.local.key), port: server.address().port })

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const msg = JSON.parse(line)
    if (msg.cmd === 'exit') break
    try {
      await run(msg)
    } catch (err) {
      out({ event: 'failed', message: err.stack || String(err) })
    }
  }

  async function run (msg) {
    const coll = msg.coll ? db.collection(msg.coll) : null
    if (coll) await reads.refresh()
    if (msg.cmd === 'createIndex') {
      await coll.createIndex(msg.fields)
      out({ event: 'done', result: null })
    } else if (msg.cmd === 'insert') {
      const doc = await coll.insert(de(msg.doc))
      out({ event: 'done', result: doc._id.toHexString() })
    } else if (msg.cmd === 'update') {
      const r = await coll.update(de(msg.query), de(msg.update))
      out({ event: 'done', result: r })
    } else if (msg.cmd === 'delete') {
      out({ event: 'done', result: await deleteOne(coll, de(msg.query)) })
    } else if (msg.cmd === 'append') {
      await base.append(b4a.from(msg.value, 'hex'))
      out({ event: 'appended', length: base.local.length })
    } else if (msg.cmd === 'sync') {
      for (let i = 0; i < (msg.rounds || 1); i++) {
        if (i) await new Promise((resolve) => setTimeout(resolve, 30))
        await base.update()
      }
      out({ event: 'synced', length: base.local.length, writable: base.writable })
    } else if (msg.cmd === 'wait') {
      // until this store holds blocks [0, n) of each writer core {keyHex: n}
      for (const [k, n] of Object.entries(msg.lengths)) {
        const core = store.get({ key: b4a.from(k, 'hex') })
        await core.ready()
        if (core.contiguousLength < n) await core.download({ start: 0, end: n }).done()
        await core.close()
      }
      out({ event: 'waited' })
    } else if (msg.cmd === 'ack') {
      if (msg.force) await base.append(null)
      else await base.ack()
      out({ event: 'acked', length: base.local.length })
    } else if (msg.cmd === 'state') {
      const entries = []
      for await (const { key, value } of base.view.createReadStream()) entries.push([hex(key), hex(value)])
      const results = []
      for (const q of msg.queries || []) {
        let cur = coll.find(de(q.find))
        if (q.sort) cur = cur.sort(q.sort[0], q.sort[1])
        if (q.hint) cur = cur.hint(q.hint)
        results.push((await cur).map((d) => hex(BSON.serialize(d))))
      }
      const indexes = coll ? (await coll.listIndexes()).map((i) => hex(BSON.serialize(i))) : []
      const core = base.view.core
      out({
        event: 'state',
        entries,
        results,
        indexes,
        writable: base.writable,
        length: base.local.length,
        viewKey: hex(core.key),
        viewLength: core.length,
        viewSignedLength: core.signedLength,
        viewTreeHash: hex(await core.treeHash(core.length)),
        indexers: base.system.indexers.map((i) => hex(i.key))
      })
    } else {
      throw new Error('unknown command ' + JSON.stringify(msg))
    }
  }

  rl.close()
  if (reads.snap) await reads.snap.close()
  for (const s of streams) s.destroy()
  server.close()
  await base.close()
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  out({ event: 'closed' })
  process.exit(0)
}

main().catch((err) => { out({ event: 'error', message: err.stack || String(err) }); process.exit(1) })
