// autobase 7.28.1 reference vectors: every autobase encoding (lib/messages.js, the
// hyperschema spec and encoding/legacy.js) encoded by autobase's own encoders, and the legacy
// oplog layouts 0 and 1 (decode-only in JS) built field by field here and decoded by autobase.
// Keys: view/system manifests derived by autobase's own AutoStore methods (lib/store.js) for
// fixed base keys and indexer sets, and real Autobase runs under fixed Corestore primary keys
// (one writer; two indexers after an add-writer) whose base, discovery, system and view keys are
// recorded. Bytes are hex strings; decoded values have their buffers as hex.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')
const Corestore = require('corestore')
const Autobase = require('autobase')
const AutoStore = require('autobase/lib/store.js')
const hmessages = require('hypercore/lib/messages.js')
const Verifier = require('hypercore/lib/verifier.js')
const hcaps = require('hypercore/lib/caps.js')
const c = require('compact-encoding')
const b4a = require('b4a')
const m = require('autobase/lib/messages.js')
const schema = require('autobase/encoding/spec/autobase')

const fill = (n, len = 32) => b4a.alloc(len, n)

function plain (v) {
  if (v === null || v === undefined) return v === undefined ? null : v
  if (b4a.isBuffer(v)) return b4a.toString(v, 'hex')
  if (Array.isArray(v)) return v.map(plain)
  if (typeof v === 'object') {
    const out = {}
    for (const k of Object.keys(v)) out[k] = plain(v[k])
    return out
  }
  return v
}

function roundtrip (enc, values) {
  return values.map((value) => {
    const bytes = c.encode(enc, value)
    return { value: plain(value), hex: b4a.toString(bytes, 'hex'), decoded: plain(c.decode(enc, bytes)) }
  })
}

function decodeOnly (enc, hexes) {
  return hexes.map((hex) => {
    let decoded = null
    let error = null
    try {
      decoded = plain(c.decode(enc, b4a.from(hex, 'hex')))
    } catch (err) {
      error = err.message
    }
    return { hex, decoded, error }
  })
}

const K1 = fill(1)
const K2 = fill(2)
const K3 = b4a.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex')
const SIG = b4a.alloc(64).fill(7)
const SIG2 = b4a.from(Array.from({ length: 64 }, (_, i) => i))

const checkpointers = [
  { checkpointer: 0, checkpoint: { signature: SIG, length: 10 } },
  { checkpointer: 3, checkpoint: null },
  { checkpointer: 300, checkpoint: { signature: SIG2, length: 70000 } },
  { checkpointer: 0, checkpoint: null }
]

const checkpoints = [
  { system: null, encryption: null, user: null },
  { system: checkpointers[0], encryption: null, user: null },
  { system: checkpointers[1], encryption: checkpointers[0], user: [checkpointers[2], checkpointers[3]] },
  { system: null, encryption: null, user: [] },
  { system: checkpointers[3], encryption: checkpointers[1], user: [checkpointers[0]] }
]

const digests = [
  { pointer: 0, key: null },
  { pointer: 0, key: K3 },
  { pointer: 5, key: null },
  { pointer: 100000, key: K1 }
]

const nodes = [
  { heads: [], batch: 1, value: null },
  { heads: [], batch: 1, value: b4a.from('hello') },
  { heads: [{ key: K1, length: 1 }], batch: 1, value: b4a.from('{"add":"x"}') },
  { heads: [{ key: K1, length: 3 }, { key: K2, length: 300 }], batch: 3, value: b4a.alloc(0) },
  { heads: [{ key: K3, length: 2 ** 32 + 5 }], batch: 70000, value: b4a.alloc(300, 9) }
]

const traces = [
  { system: [], encryption: [], user: [] },
  { system: [1, 2, 300], encryption: [0], user: [{ view: 0, blocks: [5] }, { view: 3, blocks: [] }] }
]

const oplogs = [
  { version: 2, node: nodes[0], checkpoint: null, digest: null, optimistic: false, trace: null },
  { version: 2, node: nodes[1], checkpoint: checkpoints[1], digest: digests[1], optimistic: false, trace: null },
  { version: 2, node: nodes[2], checkpoint: null, digest: digests[2], optimistic: true, trace: null },
  { version: 2, node: nodes[3], checkpoint: checkpoints[2], digest: digests[0], optimistic: false, trace: traces[1] },
  { version: 2, node: nodes[4], checkpoint: checkpoints[4], digest: digests[3], optimistic: true, trace: traces[0] },
  { version: 2, node: nodes[1], checkpoint: checkpoints[0], digest: null, optimistic: false, trace: null }
]

// legacy layouts, written field by field after encoding/legacy.js (JS only decodes them)
function legacyBytes (parts) {
  const state = c.state()
  for (const [enc, v] of parts) enc.preencode(state, v)
  state.buffer = b4a.alloc(state.end)
  for (const [enc, v] of parts) enc.encode(state, v)
  return b4a.toString(state.buffer, 'hex')
}

const checkout = { preencode (s, v) { c.fixed32.preencode(s, v.key); c.uint.preencode(s, v.length) }, encode (s, v) { c.fixed32.encode(s, v.key); c.uint.encode(s, v.length) } }
const clock = c.array(checkout)
const legacyNode = (n) => [[clock, n.heads], [c.uint, n.batch], [c.optionalBuffer, n.value]]
const legacyChk = (k) => [[c.uint, k.checkpointer], ...(k.checkpointer === 0 ? [[c.fixed64, k.checkpoint.signature], [c.uint, k.checkpoint.length]] : [])]
const chkArray = (list) => [[c.uint, list.length], ...list.flatMap(legacyChk)]
const v0Chk = [checkpointers[0], { checkpointer: 2, checkpoint: null }]

const legacyOplogs = [
  // v0: version, flags, [digestV0, checkpointers], node, additional, [maxSupportedVersion]
  legacyBytes([[c.uint, 0], [c.uint, 0], ...legacyNode(nodes[1]), [c.uint, 1]]),
  legacyBytes([[c.uint, 0], [c.uint, 0], ...legacyNode(nodes[2]), [c.uint, 0], [c.uint, 0]]),
  legacyBytes([[c.uint, 0], [c.uint, 0], ...legacyNode(nodes[3]), [c.uint, 0], [c.uint, 3], [c.fixed32, K2], [c.uint, 9], [c.uint, 1]]),
  legacyBytes([[c.uint, 0], [c.uint, 1], [c.uint, 0], [c.uint, 1], [c.uint, 4], [c.fixed32, K1], [c.fixed32, K2], ...chkArray(v0Chk), ...legacyNode(nodes[0]), [c.uint, 2]]),
  legacyBytes([[c.uint, 0], [c.uint, 1], [c.uint, 2], ...chkArray([checkpointers[0]]), ...legacyNode(nodes[4]), [c.uint, 1], [c.uint, 1]]),
  // v1: version, maxSupportedVersion, flags, [checkpointers, digest], node
  legacyBytes([[c.uint, 1], [c.uint, 1], [c.uint, 0], ...legacyNode(nodes[1])]),
  legacyBytes([[c.uint, 1], [c.uint, 1], [c.uint, 2], ...legacyNode(nodes[2])]),
  legacyBytes([[c.uint, 1], [c.uint, 2], [c.uint, 1], ...chkArray(v0Chk), [c.uint, 0], [c.fixed32, K3], ...legacyNode(nodes[3])]),
  legacyBytes([[c.uint, 1], [c.uint, 1], [c.uint, 3], ...chkArray([checkpointers[1]]), [c.uint, 4], ...legacyNode(nodes[0])]),
  // unsupported versions and truncations
  '03', '', '02', '0200', '020000', '00', '01', '0101'
]

const wakeups = [
  { version: 1, type: 0 },
  { version: 0, type: 0 },
  { version: 0, type: 1, writers: [{ key: K1, length: 1 }, { key: K2, length: 9 }] },
  { version: 1, type: 1, writers: [{ key: K1, length: 1 }, { key: K3, length: 300 }] },
  { version: 1, type: 1, writers: [] },
  { version: 1, type: 2 }
]

const bootRecords = [
  { version: 3, key: K1, systemLength: 0, indexersUpdated: false, fastForwarding: false, recoveries: 0 },
  { version: 3, key: K2, systemLength: 20, indexersUpdated: true, fastForwarding: false, recoveries: 0 },
  { version: 1, key: K3, systemLength: 70000, indexersUpdated: true, fastForwarding: true, recoveries: 3 },
  { version: 2, key: K1, systemLength: 1, indexersUpdated: false, fastForwarding: true, recoveries: 300 }
]
const bootV0 = [
  legacyBytes([[c.uint, 0], [c.fixed32, K1], [c.uint, 5], [clock, [{ key: K2, length: 3 }]]]),
  legacyBytes([[c.uint, 0], [c.fixed32, K3], [c.uint, 0], [clock, []]])
]

const infos = [
  { version: 2, members: 2, pendingIndexers: [], indexers: [{ key: K1, length: 5 }], heads: [{ key: K2, length: 3 }], views: [{ key: K3, length: 6 }], encryptionLength: 0, entropy: null },
  { version: 2, members: 300, pendingIndexers: [K1, K2], indexers: [], heads: [], views: [], encryptionLength: 7, entropy: K3 },
  { version: 1, members: 1, pendingIndexers: [K3], indexers: [{ key: K1, length: 0 }], heads: [], views: [{ key: K2, length: 1 }, { key: K3, length: 2 }] },
  { version: 0, members: 0, pendingIndexers: [], indexers: [], heads: [], views: [] }
]

const members = [
  { isIndexer: false, isRemoved: false, length: 0 },
  { isIndexer: true, isRemoved: false, length: 5 },
  { isIndexer: false, isRemoved: true, length: 300 },
  { isIndexer: true, isRemoved: true, length: 2 ** 33 }
]

const updates = [
  { key: K1, length: 1, batch: 1, systemLength: 0, indexers: false },
  { key: K3, length: 300, batch: 5, systemLength: 70000, indexers: true }
]

const descriptors = [{ type: 0, payload: null }, { type: 1, payload: b4a.from('abc') }, { type: 300, payload: b4a.alloc(0) }]

const manifestData = [
  { version: 1, legacyBlocks: 0, namespace: null },
  { version: 0, legacyBlocks: 17, namespace: null },
  { version: 2, legacyBlocks: 300, namespace: K3 },
  { version: 1, legacyBlocks: 0, namespace: K1 }
]

function messageVectors () {
  return {
    checkout: roundtrip(m.Checkout, [{ key: K1, length: 0 }, { key: K3, length: 2 ** 40 }]),
    clock: roundtrip(m.Clock, [[], [{ key: K1, length: 1 }, { key: K2, length: 300 }]]),
    checkpoint: roundtrip(m.Checkpoint, checkpoints),
    digest: roundtrip(schema.getStruct('@autobase/digest'), digests),
    node: roundtrip(schema.getStruct('@autobase/node'), nodes),
    trace: roundtrip(schema.getStruct('@autobase/trace'), traces),
    oplog: roundtrip(m.OplogMessage, oplogs),
    oplogLegacy: decodeOnly(m.OplogMessage, legacyOplogs),
    wakeup: roundtrip(m.Wakeup, wakeups),
    wakeupBad: decodeOnly(m.Wakeup, ['02', '0001', '01', '']),
    bootRecord: roundtrip(m.BootRecord, bootRecords),
    bootRecordLegacy: decodeOnly(m.BootRecord, [...bootV0, '04', '']),
    info: roundtrip(m.Info, infos),
    infoBad: decodeOnly(m.Info, ['03', '']),
    member: roundtrip(m.Member, members),
    linearizerKey: roundtrip(m.LinearizerKey, [0, 1, 251, 252, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3]),
    linearizerUpdate: roundtrip(m.LinearizerUpdate, updates),
    encryptionDescriptor: roundtrip(m.EncryptionDescriptor, descriptors),
    manifestData: roundtrip(m.ManifestData, manifestData)
  }
}

// --- keys -------------------------------------------------------------------------------------

const hex = (buf) => (buf === null || buf === undefined ? null : b4a.toString(buf, 'hex'))

function derive (baseKey, encryptionKey, indexerKeys, name, entropy, version, linked, manifestData) {
  // AutoStore's own methods, on a stand-in holding only what they read (base.key, encryptionKey)
  const self = Object.create(AutoStore.prototype)
  self.base = { key: baseKey, encryptionKey }
  const indexerManifests = indexerKeys.map((publicKey) => ({ signers: [{ publicKey, namespace: hcaps.DEFAULT_NAMESPACE }] }))
  const manifest = name === '_system' && linked === null
    ? self._createSystemManifest(indexerManifests, null, version, entropy, manifestData)
    : self._createManifest(indexerManifests, name, null, version, entropy, linked || [], manifestData)
  return {
    manifest: hex(c.encode(hmessages.manifest, Verifier.createManifest(manifest))), // as the core stores it
    key: hex(Hypercore.key(manifest))
  }
}

function derivationVectors () {
  const bases = [fill(0x11), K3]
  const indexerSets = [[], [fill(0x21)], [fill(0x21), fill(0x22)], [fill(0x23), fill(0x21), fill(0x22)]]
  const names = ['_system', 'view', '_encryption', 'ünï', 'a'.repeat(70)]
  const out = []
  for (const baseKey of bases) {
    for (const indexers of indexerSets) {
      for (const name of names) {
        for (const [version, entropy, encryptionKey, manifestData, linked] of [
          [1, null, null, null, null],
          [1, fill(0x33), null, null, null],
          [1, null, fill(0x44), null, null],
          [2, null, null, null, null],
          [2, fill(0x33), null, b4a.from('0100', 'hex'), name === '_system' ? null : [fill(0x55)]]
        ]) {
          out.push({
            baseKey: hex(baseKey),
            encryptionKey: hex(encryptionKey),
            indexers: indexers.map(hex),
            name,
            version,
            entropy: hex(entropy),
            manifestData: hex(manifestData),
            linked: linked === null ? null : linked.map(hex),
            ...derive(baseKey, encryptionKey, indexers, name, entropy, version, linked, manifestData)
          })
        }
      }
    }
  }
  return out
}

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
          await host.addWriter(b4a.from(value.add, 'hex'), { indexer: value.indexer !== false })
          continue
        }
        await view.append(value)
      }
    }
  })
}

function baseState (base, withLength = true) {
  const state = {
    key: hex(base.key),
    discoveryKey: hex(base.discoveryKey),
    local: hex(base.local.key),
    systemKey: hex(base.core.key),
    viewKey: hex(base.view.key),
    indexers: base.system.indexers.map((i) => hex(i.key)),
    systemManifest: manifestInfo(base.core.manifest),
    viewManifest: manifestInfo(base.view.manifest)
  }
  if (withLength) state.viewLength = base.view.length // only where it is deterministic
  return state
}

function manifestInfo (m) {
  return {
    signers: m.signers.map((s) => hex(s.publicKey)),
    prologue: m.prologue ? { hash: hex(m.prologue.hash), length: m.prologue.length } : null
  }
}

async function viewBlocks (base, length) {
  const blocks = []
  for (let i = 0; i < length; i++) blocks.push(hex(await base.view.get(i, { valueEncoding: 'binary' })))
  return blocks
}

async function settle (bases) {
  const streams = []
  for (let i = 0; i < bases.length; i++) {
    for (let j = i + 1; j < bases.length; j++) {
      const s1 = bases[i].store.replicate(true)
      const s2 = bases[j].store.replicate(false)
      s1.pipe(s2).pipe(s1)
      streams.push(s1, s2)
    }
  }
  for (let round = 0; round < 8; round++) {
    for (const b of bases) await b.update()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  for (const s of streams) s.destroy()
}

async function runVectors () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-vectors-'))
  const stores = [1, 2].map((i) => new Corestore(path.join(tmp, 's' + i), { primaryKey: fill(i), unsafe: true }))
  const a = makeBase(stores[0], null)
  await a.ready()
  const single = { primaryKey: hex(fill(1)), ...baseState(a) }
  await a.append('a0')
  single.afterAppend = baseState(a)
  single.afterAppend.viewBlocks = await viewBlocks(a, a.view.length)
  const b = makeBase(stores[1], a.key)
  await b.ready()
  await a.append({ add: hex(b.local.key), indexer: true })
  await settle([a, b])
  await b.append('b0')
  await settle([a, b])
  await a.append(null)
  await settle([a, b])
  const two = { primaryKeys: [hex(fill(1)), hex(fill(2))], a: baseState(a, false), b: baseState(b, false) }
  two.viewPrologueBlocks = await viewBlocks(a, a.view.manifest.prologue ? a.view.manifest.prologue.length : 0)
  await a.close()
  await b.close()
  for (const s of stores) await s.close()
  fs.rmSync(tmp, { recursive: true, force: true })
  return { single, two }
}


// --- linearizer ----------------------------------------------------------------------------------
// The DAGs of autobase's reference linearizer tests (test/reference/test.js, which check them
// against test/reference/fixtures.json) and seeded random DAGs, run through autobase's own
// Linearizer with in-memory writers (real NodeBuffer, writer.js's linking rules): after each
// node, one update(); the writers of indexed nodes are shifted, as the apply state does.

const Linearizer = require('autobase/lib/linearizer.js')
const NodeBuffer = require('autobase/lib/node-buffer.js')

class MemWriter {
  constructor (name, indexer) {
    this.name = name
    this.core = { key: b4a.alloc(32, name.charCodeAt(0)) }
    this.isActiveIndexer = indexer
    this.isRemoved = false
    this.nodes = new NodeBuffer(0)
    this.length = 0
    this.available = 0
  }

  get indexed () { return this.nodes.offset }
  head () { return this.nodes.get(this.length - 1) }
  get (seq) { return seq < this.length ? this.nodes.get(seq) : null }

  append (value, heads, batch = 1) {
    const links = []
    for (const h of heads) {
      if (h.writer.get(h.length - 1) === h && !links.includes(h)) links.push(h)
    }
    const length = this.nodes.length + 1
    const prev = this.nodes.get(length - 2)
    if (prev && !links.includes(prev)) links.push(prev)
    const node = Linearizer.createNode(this, length, value, links.map((n) => ({ key: n.writer.core.key, length: n.length })), batch, new Set(links), false)
    this.nodes.push(node)
    this.available++
    this.length++
    return node
  }

  shift () {
    if (this.length <= this.nodes.offset) return false
    let node = this.nodes.shift().clear()
    while (node.batch > 1) node = this.nodes.shift().clear()
    return true
  }
}

// spec entries: "<writer>[*<batch size>|!][:dep,dep]" -- "!" appends an ack (null value); a batch's
// first node links the deps, the rest link their predecessor; update() runs after each entry
function parseEntry (entry) {
  const [head, deps = ''] = entry.split(':')
  const m = /^([a-z])(?:\*(\d+)|(!))?$/.exec(head)
  return { w: m[1], batch: m[2] ? Number(m[2]) : 1, ack: !!m[3], deps: deps.split(',').filter(Boolean) }
}

function runDag ({ writers, indexers, spec }) {
  const ws = new Map(writers.map((w) => [w, new MemWriter(w, indexers.includes(w))]))
  const l = new Linearizer(indexers.map((w) => ws.get(w)))
  const nodes = new Map()
  const steps = []
  const indexed = []
  const acks = []
  for (const entry of spec) {
    const { w, batch, ack, deps } = parseEntry(entry)
    const writer = ws.get(w)
    for (let i = 0; i < batch; i++) {
      const name = w + writer.length
      const node = writer.append(ack ? null : name, i === 0 ? deps.map((d) => nodes.get(d)) : [], batch - i)
      node.label = name
      nodes.set(name, node)
      l.addHead(node)
    }
    const u = l.update()
    if (u) {
      steps.push({ shared: u.shared, undo: u.undo, length: u.length, indexed: u.indexed.map((n) => n.label), tip: u.tip.map((n) => n.label) })
      for (const n of u.indexed) {
        indexed.push(n.label)
        if (n.batch === 1) n.writer.shift()
      }
    }
    acks.push(indexers.map((x) => (l.shouldAck(ws.get(x)) ? '1' : '0')).join(''))
  }
  return { steps, indexed, acks, heads: l.getHeads().map((h) => b4a.toString(h.key, 'hex').slice(0, 2) + ':' + h.length) }
}

const ABCDE = ['a', 'b', 'c', 'd', 'e']
const ABC = ['a', 'b', 'c']
const REFERENCE_DAGS = [
  { name: 'convergence', writers: ['a', 'b'], indexers: ['a', 'b'], spec: ['a', 'b:a0', 'a:b0'] },
  { name: 'preferred fork', writers: ABC, indexers: ABC, spec: ['a', 'b', 'c:b0', 'a:a0,c0', 'c:a1', 'a:c1'] },
  { name: 'nested merges', writers: ABCDE, indexers: ABCDE, spec: ['b', 'a', 'e', 'd:b0', 'c:d0', 'b:a0,b0', 'd:b1,d0', 'd:d1,e0', 'e:d2', 'a:e1', 'e:a1', 'd:e2'] },
  { name: 'preferred shorter fork', writers: ABC, indexers: ABC, spec: ['a', 'a:a0', 'a:a1', 'a:a2', 'b', 'c:b0', 'a:a3,c0', 'c:a4', 'a:c1'] },
  { name: 'fork and merge', writers: ABCDE, indexers: ABCDE, spec: ['a', 'b', 'c:b0', 'c:a0,c0', 'd:a0', 'e:d0,c1', 'd:e0', 'c:d1', 'e:c2', 'd:e1'] },
  { name: 'graph 1', fixture: 0, writers: ABCDE, indexers: ABCDE, spec: ['d', 'e:d0', 'c:e0', 'd:c0', 'b', 'a:b0', 'd:d1,a0', 'a:d2', 'b:a1', 'd:b1', 'a:d3'] },
  { name: 'graph 2', fixture: 1, writers: ABCDE, indexers: ABCDE, spec: ['a', 'b:a0', 'c:b0', 'a:c0', 'b:a1', 'e', 'd:e0', 'c:d0,c0', 'e:c1', 'd:e1', 'c:d1', 'e:d1'] },
  { name: 'simple 3', fixture: 2, writers: ABC, indexers: ABC, spec: ['c', 'b:c0', 'a:b0', 'c:a0', 'b:c1', 'a:b1'] },
  { name: 'non-convergence', fixture: 3, writers: ABC, indexers: ABC, spec: ['a', 'b', 'b:b0,a0', 'c:b0', 'c:c0,b1', 'a:a0,c0', 'a:a1,c1', 'b:a1,b1', 'b:a2,b2', 'c:c1,b2', 'c:c2,b3', 'a:a2,c2'] },
  { name: 'inner majority', fixture: 4, writers: ABCDE, indexers: ABCDE, spec: ['b', 'c', 'd', 'a:b0', 'e:d0', 'b:b0,c0', 'c:b0,c0,d0', 'd:c0,d0', 'b:a0,b1,c1', 'c:b1,c1,d1', 'd:c1,d1,e0', 'b:b2,c2'] },
  { name: 'majority alone - convergence', fixture: 5, writers: ABCDE, indexers: ABCDE, spec: ['b', 'c:b0', 'd:c0', 'b:d0', 'c:b1', 'd:c1'] },
  { name: 'majority alone - non-convergence', fixture: 6, writers: ABCDE, indexers: ['b', 'c', 'd'], spec: ['b', 'c', 'd', 'b:b0,c0', 'c:b0,c0,d0', 'd:c0,d0', 'b:b1,c1', 'c:b1,c1,d1', 'd:c1,d1', 'b:b2,c2'] },
  { name: 'double fork', fixture: 7, writers: ABCDE, indexers: ABCDE, spec: ['a', 'e', 'b:a0', 'd:e0', 'c:b0', 'a:c0', 'b:a1', 'c:b1', 'b:b1,d0', 'a:c1', 'd:b2', 'd:a2,d1', 'e:d1', 'a:d2', 'b:e1'] },
  { name: 'recompute after yield', fixture: 8, writers: ABCDE, indexers: ABCDE, spec: ['a', 'b', 'a:a0', 'b:b0', 'b:b1,a1', 'b:b2', 'e:a0,b0', 'd:e0', 'e:d0', 'c:e1', 'c:b3,c0', 'a:c1', 'b:a2'] }
]

function randomDags () {
  let seed = 0x2545f491
  const rand = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return (seed >>> 8) % n
  }
  const out = []
  for (let i = 0; i < 40; i++) {
    const writers = ABCDE.slice(0, 2 + rand(4))
    const indexers = writers.filter((w, j) => j === 0 || rand(3) !== 0)
    const counts = new Map(writers.map((w) => [w, 0]))
    const made = []
    const spec = []
    const size = 5 + rand(30)
    for (let n = 0; n < size; n++) {
      const w = writers[rand(writers.length)]
      const deps = []
      const k = made.length ? rand(Math.min(made.length, 3) + 1) : 0
      for (let j = 0; j < k; j++) {
        // mostly recent nodes, as real writers link the current heads
        const d = made[Math.max(0, made.length - 1 - rand(Math.min(made.length, 6)))]
        if (!deps.includes(d) && d[0] !== w) deps.push(d)
      }
      spec.push(deps.length ? w + ':' + deps.join(',') : w)
      made.push(w + counts.get(w))
      counts.set(w, counts.get(w) + 1)
    }
    out.push({ name: 'random ' + i, writers, indexers, spec })
  }
  return out
}

function batchDags () {
  // seeded DAGs with batches and acks (a separate stream, so randomDags stays as it was)
  let seed = 0x6d2b79f5
  const rand = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return (seed >>> 8) % n
  }
  const out = []
  for (let i = 0; i < 12; i++) {
    const writers = ABCDE.slice(0, 2 + rand(3))
    const indexers = writers.filter((w, j) => j === 0 || rand(4) !== 0)
    const counts = new Map(writers.map((w) => [w, 0]))
    const made = []
    const spec = []
    const size = 6 + rand(20)
    for (let n = 0; n < size; n++) {
      const w = writers[rand(writers.length)]
      const kind = rand(6)
      const batch = kind === 0 ? 2 + rand(3) : 1
      const deps = []
      const k = made.length ? rand(Math.min(made.length, 3) + 1) : 0
      for (let j = 0; j < k; j++) {
        const d = made[Math.max(0, made.length - 1 - rand(Math.min(made.length, 6)))]
        if (!deps.includes(d) && d[0] !== w) deps.push(d)
      }
      const head = w + (batch > 1 ? '*' + batch : kind === 1 ? '!' : '')
      spec.push(deps.length ? head + ':' + deps.join(',') : head)
      counts.set(w, counts.get(w) + batch)
      made.push(w + (counts.get(w) - 1)) // others only ever see (and link) a whole batch
    }
    out.push({ name: 'batches ' + i, writers, indexers, spec })
  }
  return out
}

function linearizerVectors () {
  const dags = [...REFERENCE_DAGS, ...randomDags(), ...batchDags()]
  return dags.map((d) => ({ ...d, ...runDag(d) }))
}

module.exports = async () => {
  return {
    messages: messageVectors(),
    derivations: derivationVectors(),
    runs: await runVectors(),
    linearizer: linearizerVectors()
  }
}
