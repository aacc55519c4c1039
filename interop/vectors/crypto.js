// hypercore-crypto 3.7 reference vectors: key pairs, signatures, discovery keys, namespaces,
// Merkle tree hashes and crypto_box key pairs, all from fixed seeds (hex strings for bytes).
'use strict'
const crypto = require('hypercore-crypto')
const b4a = require('b4a')

const hex = (b) => b4a.toString(b, 'hex')
const fill = (n, len = 32) => b4a.alloc(len, n)

module.exports = async () => {
  const seeds = [0x00, 0x01, 0x11, 0x22, 0xaa, 0xbb, 0xff].map((n) => fill(n))
  seeds.push(b4a.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'))

  const keyPairs = seeds.map((seed) => {
    const kp = crypto.keyPair(seed)
    return { seed: hex(seed), publicKey: hex(kp.publicKey), secretKey: hex(kp.secretKey) }
  })

  const messages = [b4a.alloc(0), b4a.from('hello'), b4a.alloc(1000, 0x5a)]
  const signatures = []
  for (const seed of seeds.slice(0, 4)) {
    const kp = crypto.keyPair(seed)
    for (const m of messages) {
      signatures.push({
        seed: hex(seed),
        message: hex(m),
        signature: hex(crypto.sign(m, kp.secretKey))
      })
    }
  }

  // verify() corner cases, answered by the JS (true/false)
  const kp1 = crypto.keyPair(fill(0x01))
  const sig = crypto.sign(b4a.from('hello'), kp1.secretKey)
  const flipped = b4a.from(sig)
  flipped[10] ^= 1
  const verifyCases = [
    { message: 'hello', signature: sig, publicKey: kp1.publicKey },
    { message: 'hellp', signature: sig, publicKey: kp1.publicKey },
    { message: 'hello', signature: flipped, publicKey: kp1.publicKey },
    { message: 'hello', signature: sig.subarray(0, 63), publicKey: kp1.publicKey },
    { message: 'hello', signature: sig, publicKey: kp1.publicKey.subarray(0, 31) },
    { message: 'hello', signature: sig, publicKey: crypto.keyPair(fill(0x02)).publicKey },
    { message: 'hello', signature: sig, publicKey: b4a.alloc(32) }
  ].map((c) => ({
    message: hex(b4a.from(c.message)),
    signature: hex(c.signature),
    publicKey: hex(c.publicKey),
    valid: crypto.verify(b4a.from(c.message), c.signature, c.publicKey)
  }))

  const validateCases = [
    { publicKey: kp1.publicKey, secretKey: kp1.secretKey },
    { publicKey: crypto.keyPair(fill(0x02)).publicKey, secretKey: kp1.secretKey }
  ].map((kp) => ({ publicKey: hex(kp.publicKey), secretKey: hex(kp.secretKey), valid: crypto.validateKeyPair(kp) }))

  const discoveryKeys = keyPairs.map((kp) => ({
    key: kp.publicKey,
    discoveryKey: hex(crypto.discoveryKey(b4a.from(kp.publicKey, 'hex')))
  }))

  const hashes = [b4a.alloc(0), b4a.from('hello'), b4a.alloc(300, 7)].map((d) => ({
    data: hex(d),
    hash: hex(crypto.hash(d))
  }))
  const hashBatch = { parts: ['hello', ' ', 'world'].map((s) => hex(b4a.from(s))), hash: hex(crypto.hash(['hello', ' ', 'world'].map((s) => b4a.from(s)))) }

  const ns = (name, ids) => crypto.namespace(name, ids).map(hex)
  const namespaces = {
    hypercore: ns('hypercore', 6),
    'hyperswarm/secret-stream': ns('hyperswarm/secret-stream', 3),
    'hyperswarm/dht': ns('hyperswarm/dht', [4, 5, 6, 0, 1, 10]),
    corestore: ns('corestore', 1),
    autobase: ns('autobase', 4),
    bufferName: ns(b4a.from('0102ff', 'hex'), 2),
    wrapIds: ns('wrap', [255, 256, 257]),
    empty: ns('empty', 0)
  }

  // Merkle tree: leaves (index 2i), parents and root-set hashes
  const blocks = ['hello', 'world', '', 'a much longer block '.repeat(20), 'x'].map((s) => b4a.from(s))
  const leaves = blocks.map((b, i) => ({ index: 2 * i, size: b.byteLength, hash: crypto.data(b) }))
  const p1 = { index: 1, size: leaves[0].size + leaves[1].size, hash: crypto.parent(leaves[0], leaves[1]) }
  const p5 = { index: 5, size: leaves[2].size + leaves[3].size, hash: crypto.parent(leaves[3], leaves[2]) }
  const p3 = { index: 3, size: p1.size + p5.size, hash: crypto.parent(p5, p1) }
  const node = (n) => ({ index: n.index, size: n.size, hash: hex(n.hash) })
  const merkle = {
    blocks: blocks.map(hex),
    leaves: leaves.map(node),
    parents: [node(p1), node(p5), node(p3)],
    parentPairs: [[0, 2, 1], [6, 4, 5], [5, 1, 3]], // [first arg index, second arg index, result index]
    trees: [
      { roots: [node(leaves[0])], hash: hex(crypto.tree([leaves[0]])) },
      { roots: [node(p1)], hash: hex(crypto.tree([p1])) },
      { roots: [node(p3), node(leaves[4])], hash: hex(crypto.tree([p3, leaves[4]])) },
      { roots: [], hash: hex(crypto.tree([])) }
    ],
    bigSize: { left: { index: 0, size: 2 ** 40, hash: hex(fill(1)) }, right: { index: 2, size: 2 ** 41 + 5, hash: hex(fill(2)) }, hash: hex(crypto.parent({ index: 0, size: 2 ** 40, hash: fill(1) }, { index: 2, size: 2 ** 41 + 5, hash: fill(2) })) }
  }

  const boxKeyPairs = [fill(0x03), fill(0x04)].map((seed) => {
    const kp = crypto.encryptionKeyPair(seed)
    return { seed: hex(seed), publicKey: hex(kp.publicKey), secretKey: hex(kp.secretKey) }
  })
  // sealed boxes use a random ephemeral key, so they cannot be fixed vectors: see
  // tests/crypto/test_crypto_interop.py, which seals and opens boxes with a live node process

  return {
    keyPairs,
    signatures,
    verifyCases,
    validateCases,
    discoveryKeys,
    hashes,
    hashBatch,
    namespaces,
    merkle,
    boxKeyPairs
  }
}
