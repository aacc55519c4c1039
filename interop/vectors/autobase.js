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

module.exports = async () => {
  return {
    messages: messageVectors(),
    derivations: derivationVectors(),
    runs: await runVectors()
  }
}
