// A hyperbee 2.27.3 peer (hypercore 11, hyperswarm, DHT bound to 127.0.0.1) for the hyperpunch
// bee-over-swarm tests, speaking JSON lines. Keys and values are hex (binary encodings).
//
//   node hyperbee-swarm-peer.js '{"bootstrap": ["host:port"], "key"?: hex, "extension"?: bool}'
//   no "key": a new writable bee; with "key": a reader. Both join the discovery key as server +
//   client and replicate the core over every connection.
// stdout events: ready {key, discoveryKey}; flushed; written {version}; version {version};
//   results {results}; stats {downloaded, length}; error {message}.
// stdin commands ({"cmd": ...}): write {ops: [["put", k, v] | ["del", k]]} (one batch);
//   wait-version {version} (wait until the core has it); query {version, queries} (each on a
//   checkout of version: {type: "get", key} | {type: "range", gt?, gte?, lt?, lte?, reverse?,
//   limit?} | {type: "history", gte?, lt?, reverse?, limit?} | {type: "diff", other, gte?, lt?});
//   get {key} (a live get on the bee itself: {results: [entry]}); ext-raw {data} (broadcast raw
//   bytes on the hyperbee extension); stats; exit.
// An entry is [seq, keyHex, valueHex|null]; a history item [type, seq, keyHex, valueHex|null];
// a diff item [entry|null, entry|null].
'use strict'
const os = require('os')
const fs = require('fs')
const path = require('path')
const readline = require('readline')
const Hyperswarm = require('hyperswarm')
const DHT = require('hyperdht')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const b4a = require('b4a')

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => (b === null || b === undefined ? null : b4a.toString(b, 'hex'))
const buf = (h) => (h === null || h === undefined ? undefined : b4a.from(h, 'hex'))
const bootstrap = (opts.bootstrap || []).map((s) => {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
})

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperbee-swarm-peer-'))
const core = new Hypercore(path.join(dir, 'core'), opts.key ? b4a.from(opts.key, 'hex') : null)
const db = new Hyperbee(core, { extension: opts.extension !== false })
const swarm = new Hyperswarm({ dht: new DHT({ bootstrap, host: '127.0.0.1' }) })
let downloaded = 0
core.on('download', () => { downloaded++ })
swarm.on('connection', (conn) => {
  conn.on('error', () => {})
  core.replicate(conn)
})

const entry = (e) => (e ? [e.seq, hex(e.key), hex(e.value)] : null)

function rangeOpts (q) {
  const r = {}
  for (const k of ['gt', 'gte', 'lt', 'lte']) if (q[k] !== undefined && q[k] !== null) r[k] = buf(q[k])
  if (q.reverse) r.reverse = true
  if (q.limit !== undefined && q.limit !== null) r.limit = q.limit
  return r
}

async function collect (stream, map) {
  const res = []
  for await (const x of stream) res.push(map(x))
  return res
}

async function query (snap, q) {
  switch (q.type) {
    case 'get': return entry(await snap.get(buf(q.key)))
    case 'range': return collect(snap.createReadStream(rangeOpts(q)), entry)
    case 'history': {
      const h = {}
      for (const k of ['gte', 'lt', 'limit']) if (q[k] !== undefined && q[k] !== null) h[k] = q[k]
      if (q.reverse) h.reverse = true
      return collect(snap.createHistoryStream(h), (x) => [x.type, x.seq, hex(x.key), hex(x.value)])
    }
    case 'diff': return collect(snap.createDiffStream(q.other, rangeOpts(q)), (d) => [entry(d.left), entry(d.right)])
  }
  throw new Error('unknown query ' + q.type)
}

async function run (cmd) {
  switch (cmd.cmd) {
    case 'write': {
      const b = db.batch()
      for (const [op, k, v] of cmd.ops) {
        if (op === 'put') await b.put(buf(k), buf(v))
        else await b.del(buf(k))
      }
      await b.flush()
      return out({ event: 'written', version: db.version })
    }
    case 'wait-version':
      // a get of the last block waits until a peer has it (as a live tail does)
      if (core.length < cmd.version) await core.get(cmd.version - 1)
      return out({ event: 'version', version: db.version })
    case 'query': {
      const snap = db.checkout(cmd.version)
      const results = []
      for (const q of cmd.queries) results.push(await query(snap, q))
      await snap.close()
      return out({ event: 'results', results })
    }
    case 'get':
      return out({ event: 'results', results: [entry(await db.get(buf(cmd.key)))] })
    case 'ext-raw':
      // raw bytes on the hyperbee extension (framed as hypercore frames it): garbage for the peer
      db.extension.outgoing.broadcast(buf(cmd.data))
      return out({ event: 'sent' })
    case 'stats':
      return out({ event: 'stats', downloaded, length: core.length })
  }
}

async function main () {
  await db.ready()
  out({ event: 'ready', key: hex(core.key), discoveryKey: hex(core.discoveryKey) })
  swarm.join(core.discoveryKey, { server: true, client: true })
  swarm.flush().then(() => out({ event: 'flushed' }), () => {})
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    if (cmd.cmd === 'exit') break
    try {
      await run(cmd)
    } catch (err) {
      out({ event: 'error', message: err.stack || String(err) })
    }
  }
  await swarm.destroy()
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: err.stack || String(err) })
  process.exit(1)
})
