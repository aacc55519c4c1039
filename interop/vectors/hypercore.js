// hypercore 11.37.1 reference vectors: flat-tree math, caps, manifests / core keys, every wire
// message of lib/messages.js (encoded by the module's own encoders), and a real core built from a
// fixed key pair: tree hashes, signatures and Merkle proofs (lib/merkle-tree.js) for many requests,
// including after a truncation (fork 1). Bytes are hex strings.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const c = require('compact-encoding')
const b4a = require('b4a')
const flat = require('flat-tree')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')
const caps = require('hypercore/lib/caps.js')
const m = require('hypercore/lib/messages.js')
const Verifier = require('hypercore/lib/verifier.js')
const { MerkleTree } = require('hypercore/lib/merkle-tree.js')
const Bitfield = require('hypercore/lib/bitfield.js')

const hex = (b) => (b === null || b === undefined ? null : b4a.toString(b, 'hex'))
const fill = (n, len = 32) => b4a.alloc(len, n)
const node = (n) => ({ index: n.index, size: n.size, hash: hex(n.hash) })

function flatVectors () {
  const indices = []
  for (let i = 0; i < 300; i++) indices.push(i)
  indices.push(1023, 1024, 4095, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, 2 ** 48 - 1, 2 ** 48 + 6)
  const nodes = indices.map((i) => ({
    index: i,
    depth: flat.depth(i),
    offset: flat.offset(i),
    parent: flat.parent(i),
    sibling: flat.sibling(i),
    children: flat.children(i),
    leftChild: flat.leftChild(i),
    rightChild: flat.rightChild(i),
    leftSpan: flat.leftSpan(i),
    rightSpan: flat.rightSpan(i),
    spans: flat.spans(i),
    count: flat.count(i),
    countLeaves: flat.countLeaves(i),
    nextLeaf: flat.nextLeaf(i)
  }))
  const indexOf = []
  for (let d = 0; d < 6; d++) for (let o = 0; o < 20; o++) indexOf.push([d, o, flat.index(d, o)])
  const roots = []
  for (let i = 0; i < 140; i += 2) roots.push({ index: i, fullRoots: flat.fullRoots(i), futureRoots: flat.futureRoots(i) })
  for (const i of [2 ** 20, 2 ** 33 + 6, 2 ** 52 - 2]) roots.push({ index: i, fullRoots: flat.fullRoots(i), futureRoots: flat.futureRoots(i) })
  const patches = []
  for (let a = 0; a < 40; a += 2) for (let b = 0; b < 48; b += 6) patches.push([a, b, flat.patch(a, b)])
  // iterator walks: a fixed op sequence from several start indices, recording index/offset/factor
  const ops = ['parent', 'sibling', 'leftChild', 'parent', 'rightChild', 'next', 'prev', 'parent', 'parent',
    'leftSpan', 'parent', 'rightSpan', 'nextTree', 'parent', 'prevTree', 'sibling', 'parent', 'leftChild',
    'rightChild', 'rightChild']
  const walks = []
  for (const start of [0, 1, 2, 3, 7, 10, 23, 31, 62, 100]) {
    const ite = flat.iterator(start)
    const steps = []
    for (const op of ops) {
      const ret = ite[op]()
      steps.push([op, ret, ite.index, ite.offset, ite.factor, ite.isLeft(), ite.count(), ite.countLeaves(), ite.peekLeftSpan(), ite.peekRightSpan()])
    }
    walks.push({ start, steps })
  }
  const queries = []
  for (const start of [0, 1, 3, 6, 7, 15, 20, 39]) {
    const ite = flat.iterator(start)
    const contains = []
    for (let i = 0; i < 48; i++) contains.push(ite.contains(i))
    const isRoot = []
    for (let l = 0; l < 24; l++) isRoot.push(ite.isRoot(l))
    queries.push({ start, contains, isRoot })
  }
  const fullRootWalks = []
  for (const to of [2, 4, 6, 14, 22, 38, 64, 100]) {
    const seen = []
    for (const ite = flat.iterator(0); ite.fullRoot(to); ite.nextTree()) seen.push([ite.index, ite.factor])
    fullRootWalks.push({ to, roots: seen })
  }
  return { nodes, indexOf, roots, patches, walks, queries, fullRootWalks }
}

function capsVectors () {
  const names = ['TREE', 'REPLICATE_INITIATOR', 'REPLICATE_RESPONDER', 'MANIFEST', 'DEFAULT_NAMESPACE', 'DEFAULT_ENCRYPTION']
  const ns = crypto.namespace('hypercore', 6)
  return {
    constants: Object.fromEntries(names.map((n, i) => [n, hex(ns[i])])),
    treeSignable: [
      [fill(1), fill(2), 0, 0],
      [fill(3), fill(4), 37, 1],
      [fill(5), fill(6), 2 ** 40 + 3, 2 ** 33]
    ].map(([a, b, l, f]) => ({ manifestHash: hex(a), treeHash: hex(b), length: l, fork: f, signable: hex(caps.treeSignable(a, b, l, f)) })),
    treeSignableCompat: [[fill(7), 5, 2, false], [fill(8), 6, 0, true]].map(([h, l, f, n]) => ({
      treeHash: hex(h), length: l, fork: f, noHeader: n, signable: hex(caps.treeSignableCompat(h, l, f, n))
    })),
    replicate: [[true, fill(9), fill(10)], [false, fill(9), fill(10)], [true, fill(11), fill(12, 64)]].map(([i, k, h]) => ({
      isInitiator: i, key: hex(k), handshakeHash: hex(h), capability: hex(caps.replicate(i, k, h))
    }))
  }
}

function manifestToJSON (x) {
  return {
    version: x.version,
    hash: x.hash,
    allowPatch: x.allowPatch,
    quorum: x.quorum,
    signers: x.signers.map((s) => ({ signature: s.signature, namespace: hex(s.namespace), publicKey: hex(s.publicKey) })),
    prologue: x.prologue ? { hash: hex(x.prologue.hash), length: x.prologue.length } : null,
    linked: x.linked ? x.linked.map(hex) : null,
    userData: x.userData ? hex(x.userData) : null
  }
}

function manifestVectors () {
  const kps = [1, 2, 3].map((n) => crypto.keyPair(fill(n)))
  const signer = (kp, ns = caps.DEFAULT_NAMESPACE) => ({ signature: 'ed25519', namespace: ns, publicKey: kp.publicKey })
  const base = { hash: 'blake2b', allowPatch: false, prologue: null, linked: null, userData: null }
  const list = [
    Verifier.defaultSignerManifest(kps[0].publicKey),
    { ...base, version: 0, quorum: 1, signers: [signer(kps[0])] },
    { ...base, version: 0, quorum: 0, signers: [], prologue: { hash: fill(0x42), length: 0 } },
    { ...base, version: 0, quorum: 2, allowPatch: true, signers: [signer(kps[0]), signer(kps[1], fill(0x33))] },
    { ...base, version: 1, quorum: 2, signers: [signer(kps[0]), signer(kps[1]), signer(kps[2])] },
    { ...base, version: 1, quorum: 1, allowPatch: true, signers: [signer(kps[0]), signer(kps[1])], prologue: { hash: fill(0x44), length: 10 } },
    { ...base, version: 2, quorum: 1, signers: [signer(kps[2])], linked: [fill(0x55), fill(0x66)], userData: b4a.from('hello') },
    { ...base, version: 2, quorum: 1, signers: [signer(kps[2])], linked: [], userData: b4a.alloc(0) },
    { ...base, version: 3, quorum: 0, signers: [] }
  ]
  const manifests = list.map((x) => {
    const enc = c.encode(m.manifest, x)
    return { manifest: manifestToJSON(x), encoded: hex(enc), hash: hex(Verifier.manifestHash(x)), decoded: manifestToJSON(c.decode(m.manifest, enc)) }
  })
  const created = [
    { signers: [{ publicKey: kps[0].publicKey }] },
    { signers: [{ publicKey: kps[0].publicKey }, { publicKey: kps[1].publicKey }, { publicKey: kps[2].publicKey }] },
    { signers: [{ publicKey: kps[0].publicKey }], userData: b4a.from('ud') },
    { signers: [{ publicKey: kps[0].publicKey }], linked: [fill(0x77)] },
    { version: 0, signers: [{ publicKey: kps[1].publicKey, namespace: fill(0x12) }], quorum: 1 }
  ].map((inp) => ({
    input: { version: inp.version ?? null, quorum: inp.quorum ?? null, signers: inp.signers.map((s) => ({ publicKey: hex(s.publicKey), namespace: hex(s.namespace || null) })), userData: hex(inp.userData || null), linked: inp.linked ? inp.linked.map(hex) : null },
    manifest: manifestToJSON(Verifier.createManifest(inp)),
    hash: hex(Verifier.manifestHash(Verifier.createManifest(inp)))
  }))
  const bad = [
    b4a.from('00', 'hex'), b4a.from('0001', 'hex'), b4a.from('000003', 'hex'), b4a.from('04', 'hex'),
    b4a.from('0100010000', 'hex'), b4a.from('010000000101', 'hex')
  ].map((buf) => {
    let ok = true
    try { c.decode(m.manifest, buf) } catch { ok = false }
    return { encoded: hex(buf), ok }
  })
  return { manifests, created, bad, seeds: [1, 2, 3].map((n) => hex(fill(n))) }
}

function messageVectors () {
  const n = (i, s, h) => ({ index: i, size: s, hash: fill(h) })
  const out = []
  const add = (type, value, json) => {
    const enc = c.encode(m.wire[type], value)
    out.push({ type, value: json, encoded: hex(enc) })
  }
  add('handshake', { seeks: false, capability: fill(1) }, { seeks: false, capability: hex(fill(1)) })
  add('handshake', { seeks: true, capability: fill(2) }, { seeks: true, capability: hex(fill(2)) })
  for (const s of [
    { fork: 0, length: 0, remoteLength: 0, canUpgrade: false, uploading: false, downloading: false, hasManifest: false, allowPush: false },
    { fork: 3, length: 1000, remoteLength: 70000, canUpgrade: true, uploading: true, downloading: true, hasManifest: true, allowPush: true },
    { fork: 1, length: 2 ** 40, remoteLength: 5, canUpgrade: false, uploading: true, downloading: false, hasManifest: true, allowPush: false }
  ]) add('sync', s, s)
  const reqs = [
    { id: 1, fork: 0, block: { index: 5, nodes: 2 }, hash: null, seek: null, upgrade: null, manifest: false, priority: 0 },
    { id: 300, fork: 2, block: null, hash: { index: 13, nodes: 0 }, seek: null, upgrade: { start: 0, length: 10 }, manifest: true, priority: 0 },
    { id: 7, fork: 0, block: null, hash: null, seek: { bytes: 12345, padding: 4 }, upgrade: { start: 10, length: 90000 }, manifest: false, priority: 3 },
    { id: 2 ** 32, fork: 1, block: { index: 0, nodes: 0 }, hash: { index: 1, nodes: 1 }, seek: { bytes: 0, padding: 0 }, upgrade: { start: 1, length: 1 }, manifest: true, priority: 1 }
  ]
  for (const r of reqs) add('request', r, r)
  add('cancel', { request: 42 }, { request: 42 })
  const datas = [
    { request: 1, fork: 0, block: { index: 3, value: b4a.from('hello'), nodes: [n(6, 5, 1), n(1, 10, 2)] }, hash: null, seek: null, upgrade: null, manifest: null },
    { request: 2, fork: 1, block: null, hash: { index: 5, nodes: [n(3, 100, 3)] }, seek: { bytes: 77, nodes: [n(2, 3, 4)] }, upgrade: { start: 0, length: 4, nodes: [n(3, 4000, 5)], additionalNodes: [n(9, 1, 6)], signature: fill(7, 68) }, manifest: null },
    { request: 3, fork: 0, block: { index: 0, value: b4a.alloc(0), nodes: [] }, hash: null, seek: null, upgrade: { start: 2, length: 2, nodes: [], additionalNodes: [], signature: null }, manifest: Verifier.defaultSignerManifest(crypto.keyPair(fill(1)).publicKey) },
    { request: 4, fork: 9, block: { index: 70000, value: b4a.alloc(300, 0xab), nodes: [n(140001, 2 ** 33, 8)] }, hash: null, seek: null, upgrade: null, manifest: null }
  ]
  const dataJSON = (d) => ({
    request: d.request,
    fork: d.fork,
    block: d.block && { index: d.block.index, value: hex(d.block.value), nodes: d.block.nodes.map(node) },
    hash: d.hash && { index: d.hash.index, nodes: d.hash.nodes.map(node) },
    seek: d.seek && { bytes: d.seek.bytes, nodes: d.seek.nodes.map(node) },
    upgrade: d.upgrade && { start: d.upgrade.start, length: d.upgrade.length, nodes: d.upgrade.nodes.map(node), additionalNodes: d.upgrade.additionalNodes.map(node), signature: hex(d.upgrade.signature) },
    manifest: d.manifest && manifestToJSON(d.manifest)
  })
  for (const d of datas) add('data', d, dataJSON(d))
  for (const d of [{ request: 5, reason: 0 }, { request: 6, reason: 2 }]) add('noData', d, d)
  for (const w of [{ start: 0, length: 1024, any: false }, { start: 2 ** 20, length: 5, any: true }]) {
    add('want', w, w)
    add('unwant', w, w)
  }
  for (const r of [{ drop: false, start: 5, length: 1 }, { drop: true, start: 0, length: 1000 }, { drop: false, start: 70000, length: 0 }]) add('range', r, r)
  add('bitfield', { start: 0, bitfield: new Uint32Array([0xffffffff, 1, 0, 0x80000000]) }, { start: 0, bitfield: [0xffffffff, 1, 0, 0x80000000] })
  add('bitfield', { start: 32768, bitfield: new Uint32Array([]) }, { start: 32768, bitfield: [] })
  add('reorgHint', { from: 1, to: 2, ancestors: 3 }, { from: 1, to: 2, ancestors: 3 })
  add('extension', { name: 'hello/world', message: b4a.from('abc') }, { name: 'hello/world', message: hex(b4a.from('abc')) })
  add('extension', { name: '', message: b4a.alloc(0) }, { name: '', message: '' })

  // decoder leniency: JS accepts these short forms
  const lenient = [
    ['noData', '05'], ['want', '0102'], ['unwant', '0102'], ['range', '0205']
  ].map(([type, h]) => {
    const v = c.decode(m.wire[type], b4a.from(h, 'hex'))
    return { type, encoded: h, value: v }
  })

  // multisig containers
  const sig = fill(0x99, 64)
  const multisig = {
    v1: [
      { proofs: [{ signer: 0, signature: sig, patch: 0 }], patch: [] },
      { proofs: [{ signer: 1, signature: sig, patch: 3 }, { signer: 0, signature: fill(0x98, 64), patch: 0 }], patch: [n(3, 40, 1), n(9, 5, 2)] }
    ].map((s) => ({ value: { proofs: s.proofs.map((p) => ({ ...p, signature: hex(p.signature) })), patch: s.patch.map(node) }, encoded: hex(c.encode(m.multiSignature, s)) })),
    v0: [
      { proofs: [{ signer: 0, signature: sig, patch: null }], patch: [] },
      { proofs: [{ signer: 2, signature: sig, patch: { start: 4, length: 2, nodes: [0, 1] } }], patch: [n(3, 40, 1), n(9, 5, 2)] }
    ].map((s) => ({ value: { proofs: s.proofs.map((p) => ({ ...p, signature: hex(p.signature) })), patch: s.patch.map(node) }, encoded: hex(c.encode(m.multiSignaturev0, s)) }))
  }
  const multisigLib = require('hypercore/lib/multisig.js')
  const patchNodes = [n(57, 300, 3), n(60, 20, 4)]
  const inputs = [
    { signer: 0, signature: fill(0x91, 64), patch: 0, nodes: null },
    { signer: 1, signature: fill(0x92, 64), patch: 2, nodes: patchNodes },
    { signer: 2, signature: fill(0x93, 64), patch: 2, nodes: [patchNodes[1], n(62, 5, 5)] }
  ]
  const assembled = {
    inputs: inputs.map((i) => ({ signer: i.signer, signature: hex(i.signature), patch: i.patch, nodes: i.nodes && i.nodes.map(node) })),
    v1: hex(multisigLib.assemble(inputs)),
    v0: hex(multisigLib.assemblev0(inputs))
  }
  return { wire: out, lenient, multisig, assembled }
}

const BLOCKS = 37
function blockValue (i) {
  if (i === 11) return b4a.alloc(0)
  return b4a.from(('block-' + i + '-').repeat((i % 5) + 1))
}

function proofJSON (p) {
  return {
    fork: p.fork,
    block: p.block && { index: p.block.index, value: hex(p.block.value), nodes: p.block.nodes.map(node) },
    hash: p.hash && { index: p.hash.index, nodes: p.hash.nodes.map(node) },
    seek: p.seek && { bytes: p.seek.bytes, nodes: p.seek.nodes.map(node) },
    upgrade: p.upgrade && { start: p.upgrade.start, length: p.upgrade.length, nodes: p.upgrade.nodes.map(node), additionalNodes: p.upgrade.additionalNodes.map(node), signature: hex(p.upgrade.signature) }
  }
}

async function proofFor (core, req) {
  const state = core.core.state
  const rx = state.storage.read()
  let p
  try {
    p = await MerkleTree.proof(state, rx, {
      block: req.block || null,
      hash: req.hash || null,
      seek: req.seek || null,
      upgrade: req.upgrade ? { ...req.upgrade } : null
    })
  } catch (err) {
    rx.destroy()
    return { error: err.code || err.message }
  }
  rx.tryFlush()
  let proof
  try {
    proof = await p.settle()
  } catch (err) {
    return { error: err.code || err.message }
  }
  if (proof.block) proof.block.value = await core.get(proof.block.index)
  const enc = c.encode(m.wire.data, { request: 1, ...proof, manifest: null })
  return { proof: proofJSON(proof), encoded: hex(enc) }
}

function requestsFor (length) {
  const reqs = []
  for (let i = 0; i < length; i += 2) reqs.push({ block: { index: i, nodes: MerkleTree.maxMissingNodes(2 * i, length) } })
  reqs.push({ block: { index: 5, nodes: 0 } }, { block: { index: 5, nodes: 2 } }, { block: { index: 20, nodes: 3 } }, { block: { index: 33, nodes: 1 } })
  for (const h of [0, 1, 3, 7, 15, 23, 29, 41, 62, 64, 66, 70]) reqs.push({ hash: { index: h, nodes: MerkleTree.maxMissingNodes(h, length) } })
  reqs.push({ hash: { index: 9, nodes: 2 } })
  for (const up of [[0, 1], [0, 5], [0, length], [1, length - 1], [4, 9], [10, length - 10], [16, 16], [31, length - 31], [length - 1, 1]]) {
    reqs.push({ upgrade: { start: up[0], length: up[1] } })
  }
  reqs.push({ block: { index: 3, nodes: 0 }, upgrade: { start: 10, length: length - 10 } })
  reqs.push({ block: { index: 25, nodes: 0 }, upgrade: { start: 10, length: length - 10 } })
  reqs.push({ block: { index: 12, nodes: 0 }, upgrade: { start: 12, length: 8 } })
  reqs.push({ hash: { index: 9, nodes: 0 }, upgrade: { start: 0, length: 20 } })
  reqs.push({ hash: { index: 41, nodes: 0 }, upgrade: { start: 8, length: 24 } })
  for (const b of [0, 1, 7, 50, 200, 333, 500, 777, 1000]) reqs.push({ seek: { bytes: b, padding: 0 } })
  reqs.push({ seek: { bytes: 100, padding: 0 }, upgrade: { start: 0, length: length } })
  reqs.push({ seek: { bytes: 400, padding: 0 }, upgrade: { start: 5, length: length - 5 } })
  reqs.push({ block: { index: 2, nodes: 5 }, seek: { bytes: 30, padding: 0 } })
  reqs.push({ block: { index: 30, nodes: 2 }, seek: { bytes: 900, padding: 0 } })
  reqs.push({ block: { index: 9, nodes: 4 }, seek: { bytes: 160, padding: 0 } })
  reqs.push({ block: { index: 1, nodes: 9 } })
  reqs.push({ seek: { bytes: 50, padding: 2 } })
  // invalid requests
  reqs.push({ upgrade: { start: 0, length: length + 1 } }, { upgrade: { start: 5, length: 0 } })
  reqs.push({ block: { index: length + 3, nodes: 0 }, upgrade: { start: 0, length: 4 } })
  reqs.push({ block: { index: 1, nodes: 0 }, seek: { bytes: 10, padding: 0 }, upgrade: { start: 0, length: 3 } })
  return reqs
}

async function reorgVectors (keyPair, chunks, forked) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-hypercore-reorg-'))
  const local = new Hypercore(dir, { keyPair })
  await local.ready()
  try {
    let i = 0
    for (const size of chunks) {
      const batch = []
      for (let j = 0; j < size; j++) batch.push(blockValue(i++))
      await local.append(batch)
    }
    const want = (rb) => (rb.want === null ? null : { start: rb.want.start, end: rb.want.end, nodes: rb.want.nodes })
    const first = await proofFor(forked, { upgrade: { start: 0, length: forked.length } })
    const proof = c.decode(m.wire.data, b4a.from(first.encoded, 'hex'))
    const rb = await local.core.verifyReorg(proof)
    const steps = [{ encoded: first.encoded, want: want(rb), ancestors: rb.ancestors, diff: rb.diff && node(rb.diff) }]
    while (!rb.finished && steps.length < 20) {
      const p = await proofFor(forked, { hash: { index: 2 * rb.want.start, nodes: rb.want.nodes } })
      await rb.update(c.decode(m.wire.data, b4a.from(p.encoded, 'hex')))
      steps.push({ encoded: p.encoded, want: want(rb), ancestors: rb.ancestors, diff: rb.diff && node(rb.diff) })
    }
    return { steps, finalLength: rb.length, finalFork: rb.fork, treeHash: hex(rb.hash()), nodes: rb.nodes.map(node) }
  } finally {
    await local.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function prologueVectors () {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-hypercore-prologue-'))
  const keyPair = crypto.keyPair(fill(0x08))
  const blocks = []
  for (let i = 0; i < 20; i++) blocks.push(b4a.from('prologue-block-' + i))
  try {
    const tmp = new Hypercore(path.join(base, 'a'), { keyPair })
    await tmp.append(blocks.slice(0, 10))
    const hash = MerkleTree.hash(tmp.core.state)
    await tmp.close()
    const core = new Hypercore(path.join(base, 'b'), {
      keyPair,
      manifest: { signers: [{ publicKey: keyPair.publicKey }], prologue: { hash, length: 10 } }
    })
    await core.ready()
    await core.append(blocks.slice(0, 10))
    await core.append(blocks.slice(10))
    const proofs = []
    for (const req of [
      { upgrade: { start: 5, length: 3 } },
      { upgrade: { start: 0, length: 4 } },
      { upgrade: { start: 10, length: 5 } },
      { upgrade: { start: 12, length: 8 } },
      { block: { index: 15, nodes: 0 }, upgrade: { start: 12, length: 8 } },
      { block: { index: 3, nodes: 0 }, upgrade: { start: 2, length: 2 } }
    ]) proofs.push({ request: req, ...(await proofFor(core, req)) })
    const out = {
      seed: hex(fill(0x08)),
      blocks: blocks.map(hex),
      prologueHash: hex(hash),
      key: hex(core.key),
      manifestEncoded: hex(c.encode(m.manifest, core.manifest)),
      treeHash: hex(MerkleTree.hash(core.core.state)),
      signature: hex(core.core.state.signature),
      proofs
    }
    await core.close()
    return out
  } finally {
    fs.rmSync(base, { recursive: true, force: true })
  }
}

async function coreVectors () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-hypercore-vec-'))
  const keyPair = crypto.keyPair(fill(0x07))
  const core = new Hypercore(dir, { keyPair })
  await core.ready()
  try {
    const checkpoints = []
    const record = () => {
      const state = core.core.state
      checkpoints.push({
        length: core.length,
        fork: core.fork,
        byteLength: core.byteLength,
        treeHash: hex(MerkleTree.hash(state)),
        roots: state.roots.map(node),
        signature: hex(state.signature)
      })
    }
    const chunks = [1, 1, 1, 2, 3, 5, 8, 13, 3]
    let i = 0
    for (const size of chunks) {
      const batch = []
      for (let j = 0; j < size; j++) batch.push(blockValue(i++))
      await core.append(batch)
      record()
    }
    const requests = requestsFor(BLOCKS)
    const proofs = []
    for (const req of requests) proofs.push({ request: req, ...(await proofFor(core, req)) })

    // byte offsets / ranges
    const offsets = []
    for (let b = 0; b < BLOCKS; b++) {
      const st = core.core.state
      const off = await MerkleTree.byteOffset(st, 2 * b)
      const size = (await MerkleTree.get(st, 2 * b)).size
      offsets.push([b, off, size])
    }
    const seeks = []
    for (const bytes of [0, 1, 10, 99, 100, 500, 1000, core.byteLength - 1, core.byteLength, core.byteLength + 5]) {
      for (const padding of [0, 1]) {
        const seeker = MerkleTree.seek(core.core.state, bytes, padding)
        const res = await seeker.update()
        seeks.push({ bytes, padding, result: res, start: seeker.start, end: seeker.end })
      }
    }

    // fork: truncate then append
    await core.truncate(30)
    record()
    const forkBlocks = ['fork-a', 'fork-bb', 'fork-ccc', 'fork-dddd'].map((s) => b4a.from(s))
    await core.append(forkBlocks)
    record()
    const forkProofs = []
    for (const req of [
      { upgrade: { start: 0, length: 34 } },
      { upgrade: { start: 30, length: 4 } },
      { upgrade: { start: 28, length: 6 } },
      { block: { index: 31, nodes: 0 }, upgrade: { start: 29, length: 5 } },
      { block: { index: 4, nodes: 4 } },
      { block: { index: 32, nodes: 1 } },
      { hash: { index: 57, nodes: 1 } }
    ]) forkProofs.push({ request: req, ...(await proofFor(core, req)) })

    // reorg: a second core with the original 37 blocks (fork 0) follows the fork of `core`
    const reorg = await reorgVectors(keyPair, chunks, core)

    return {
      seed: hex(fill(0x07)),
      publicKey: hex(keyPair.publicKey),
      key: hex(core.key),
      discoveryKey: hex(core.discoveryKey),
      manifest: manifestToJSON(core.manifest),
      manifestEncoded: hex(c.encode(m.manifest, core.manifest)),
      blocks: Array.from({ length: BLOCKS }, (_, k) => hex(blockValue(k))),
      chunks,
      checkpoints,
      proofs,
      offsets,
      seeks,
      forkBlocks: forkBlocks.map(hex),
      forkProofs,
      reorg
    }
  } finally {
    await core.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function bitfieldVectors () {
  // deterministic xorshift so the op list is reproducible
  let x = 0x12345678
  const rnd = (n) => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x % n
  }
  const ops = []
  for (let i = 0; i < 60; i++) {
    const kind = rnd(3)
    const start = rnd(4) === 0 ? 2097152 * rnd(3) + rnd(70000) : rnd(200000)
    if (kind === 0) ops.push(['set', start, rnd(4) !== 0])
    else ops.push(['setRange', start, start + rnd(kind === 1 ? 100 : 150000), rnd(3) !== 0])
  }
  ops.push(['setRange', 32760, 32800, true], ['setRange', 65530, 65540, false], ['set', 4194305, true])
  const b = new Bitfield()
  const positions = [0, 1, 31, 32, 33, 100, 32767, 32768, 32769, 65535, 65536, 99999, 150000, 199999, 250000, 2097151, 2097152, 2100000, 4194304, 4194306, 4300000, 6291456]
  for (let i = 0; i < 40; i++) positions.push(rnd(4300000))
  const snapshots = []
  const snap = () => {
    const q = positions.map((p) => [p, b.get(p), b.firstSet(p), b.firstUnset(p), b.lastSet(p), b.lastUnset(p),
      b.hasSet(p, 1000), b.hasUnset(p, 1000), b.countSet(p, 5000), b.countUnset(p, 70000)])
    const wants = []
    for (const [s, l] of [[0, 100], [5, 64], [0, 70000], [32768, 1], [2097000, 5000], [0, 4300000]]) {
      for (const w of b.want(s, l)) {
        wants.push({ query: [s, l], start: w.start, words: w.bitfield.length, hash: hex(crypto.hash(b4a.from(w.bitfield.buffer, w.bitfield.byteOffset, w.bitfield.byteLength))) })
      }
    }
    snapshots.push({ after: ops.length, queries: q, wants, buffer: hex(crypto.hash(b.toBuffer(4300000))) })
  }
  for (const op of ops) {
    if (op[0] === 'set') b.set(op[1], op[2])
    else b.setRange(op[1], op[2], op[3])
  }
  snap()
  const resumed = new Bitfield(b.toBuffer(200000))
  const resumedQ = positions.map((p) => [p, resumed.get(p), resumed.firstSet(p), resumed.firstUnset(p), resumed.lastSet(p)])
  const resumedWants = [...resumed.want(0, 300000)].map((w) => ({ start: w.start, words: w.bitfield.length, hash: hex(crypto.hash(b4a.from(w.bitfield.buffer, w.bitfield.byteOffset, w.bitfield.byteLength))) }))
  return { ops, snapshots, resumed: { length: 200000, queries: resumedQ, wants: resumedWants } }
}

module.exports = async () => ({
  bitfield: bitfieldVectors(),
  flat: flatVectors(),
  caps: capsVectors(),
  manifests: manifestVectors(),
  messages: messageVectors(),
  core: await coreVectors(),
  prologue: await prologueVectors()
})

if (require.main === module) {
  module.exports().then((v) => process.stdout.write(JSON.stringify(v, null, 1) + '\n')).catch((e) => { console.error(e); process.exit(1) })
}
