// hyperdht 6.34 reference vectors: every codec of lib/messages.js on representative values (each
// optional field present and absent) plus decode-only inputs, the constants and error codes, the
// NoiseWrap IK transcript with fixed static and ephemeral keys, secure-payload encryption with a
// fixed local secret and nonce (sodium.randombytes_buf is stubbed while the object is used), and
// the mutable / announce signatures of lib/persistent.js from fixed seeds.
'use strict'
const c = require('compact-encoding')
const b4a = require('b4a')
const sodium = require('sodium-universal')
const curve = require('noise-curve-ed')
const m = require('hyperdht/lib/messages.js')
const constants = require('hyperdht/lib/constants.js')
const DHTError = require('hyperdht/lib/errors.js')
const NoiseWrap = require('hyperdht/lib/noise-wrap.js')
const SecurePayload = require('hyperdht/lib/secure-payload.js')
const Persistent = require('hyperdht/lib/persistent.js')
const { createKeyPair, hash } = require('hyperdht/lib/crypto.js')

const hex = (b) => (b === null || b === undefined ? null : b4a.toString(b, 'hex'))
const fill = (n, len = 32) => b4a.alloc(len, n)
const BYTE_FIELDS = new Set(['noise', 'payload', 'publicKey', 'token', 'remoteToken', 'refresh', 'signature', 'value'])

// JSON form (hex strings for bytes) -> the JS value the codec takes
function toJs (v, key) {
  if (v === null || v === undefined) return v
  if (Array.isArray(v)) return v.map((x) => toJs(x, key))
  if (typeof v === 'string' && BYTE_FIELDS.has(key)) return b4a.from(v, 'hex')
  if (typeof v === 'object') {
    const o = {}
    for (const [k, x] of Object.entries(v)) o[k] = toJs(x, k)
    return o
  }
  return v
}

// decoded JS value -> JSON form
function toJson (v) {
  if (v === null || v === undefined) return null
  if (b4a.isBuffer(v) || v instanceof Uint8Array) return hex(v)
  if (Array.isArray(v)) return v.map(toJson)
  if (typeof v === 'object') {
    const o = {}
    for (const [k, x] of Object.entries(v)) o[k] = toJson(x)
    return o
  }
  return v
}

function tryDecode (enc, buf) {
  try {
    return { ok: true, value: toJson(c.decode(enc, buf)) }
  } catch (err) {
    return { ok: false, error: err.message }
  }
}

const A = (host, port) => ({ host, port })
const K1 = hex(fill(0x11))
const K2 = hex(fill(0x22))
const SIG = hex(fill(0x5a, 64))

const CASES = {
  handshake: [
    { mode: 0, noise: 'aabbcc' },
    { mode: 4, noise: '', peerAddress: A('1.2.3.4', 49737) },
    { mode: 2, noise: hex(fill(0x42, 300)), relayAddress: A('10.0.0.1', 1) },
    { mode: 3, noise: '00', peerAddress: A('255.255.255.255', 65535), relayAddress: A('0.0.0.0', 0) }
  ],
  holepunch: [
    { mode: 0, id: 0, payload: '' },
    { mode: 1, id: 300, payload: hex(fill(0x01, 60)), peerAddress: A('192.168.1.2', 5000) },
    { mode: 4, id: 70000, payload: 'ff' }
  ],
  noisePayload: [
    { error: 0, firewall: 0 },
    { error: 0, firewall: 1, addresses4: [], addresses6: [] },
    {
      error: 0,
      firewall: 2,
      holepunch: { id: 3, relays: [{ relayAddress: A('1.1.1.1', 1000), peerAddress: A('2.2.2.2', 2000) }] },
      addresses4: [A('192.168.0.5', 49737), A('10.1.2.3', 9)],
      addresses6: [A('fe80:0:0:0:1:2:3:4', 443)],
      udx: { reusableSocket: true, id: 123456, seq: 0 },
      secretStream: {},
      relayThrough: { publicKey: K1, token: K2 },
      relayAddresses: [A('5.6.7.8', 49737)]
    },
    { error: 1, firewall: 3, holepunch: { id: 0, relays: [] }, udx: { reusableSocket: false, id: 1, seq: 2 } },
    { error: 2, firewall: 0, relayAddresses: [] },
    { error: 3, firewall: 1, secretStream: {}, relayThrough: { publicKey: K2, token: K1 } }
  ],
  holepunchPayload: [
    { error: 0, firewall: 0, round: 0 },
    { error: 0, firewall: 2, round: 1, connected: true, punching: false, addresses: [] },
    {
      error: 3,
      firewall: 3,
      round: 7,
      connected: false,
      punching: true,
      addresses: [A('8.8.8.8', 53), A('9.9.9.9', 65535)],
      remoteAddress: A('4.4.4.4', 4444),
      token: K1,
      remoteToken: K2
    },
    { error: 0, firewall: 1, round: 2, remoteToken: K1 }
  ],
  peer: [
    { publicKey: K1, relayAddresses: [] },
    { publicKey: K2, relayAddresses: [A('1.2.3.4', 1), A('5.6.7.8', 2), A('9.10.11.12', 3)] }
  ],
  peers: [
    [],
    [{ publicKey: K1, relayAddresses: [A('1.2.3.4', 1)] }, { publicKey: K2, relayAddresses: [] }]
  ],
  announce: [
    {},
    { peer: { publicKey: K1, relayAddresses: [A('1.2.3.4', 49737)] }, signature: SIG },
    { refresh: K2 },
    { peer: { publicKey: K2, relayAddresses: [] }, refresh: K1, signature: SIG, bump: 1700000000000 },
    { peer: { publicKey: K1, relayAddresses: [] }, bump: 0 }
  ],
  mutableSignable: [
    { seq: 0, value: '' },
    { seq: 2 ** 40, value: hex(b4a.from('hello world')) }
  ],
  mutablePutRequest: [
    { publicKey: K1, seq: 0, value: '00', signature: SIG },
    { publicKey: K2, seq: 65536, value: hex(fill(0x33, 1000)), signature: SIG }
  ],
  mutableGetResponse: [
    { seq: 1, value: hex(b4a.from('v')), signature: SIG },
    { seq: 0, value: '', signature: SIG }
  ],
  pluginRequest: [
    { plugin: 'my-plugin', version: 1, command: 0 },
    { plugin: '', version: 0, command: 300, value: '' },
    { plugin: 'ünïcode', version: 7, command: 2, value: 'deadbeef' }
  ]
}

function codecVectors () {
  const out = {}
  for (const [name, cases] of Object.entries(CASES)) {
    out[name] = cases.map((input) => {
      const buf = c.encode(m[name], toJs(input))
      return { input, hex: hex(buf), decoded: toJson(c.decode(m[name], buf)) }
    })
  }
  // lookupRawReply encodes already-encoded peer records (array(raw)) and decodes peers
  const records = CASES.peer.map((p) => c.encode(m.peer, toJs(p)))
  out.lookupRawReply = [
    { records: [], bump: 0 },
    { records: records.map(hex), bump: 0 },
    { records: records.map(hex), bump: 1700000000123 }
  ].map((input) => {
    const buf = c.encode(m.lookupRawReply, { peers: input.records.map((r) => b4a.from(r, 'hex')), bump: input.bump })
    return { input, hex: hex(buf), decoded: toJson(c.decode(m.lookupRawReply, buf)) }
  })
  return out
}

// Bytes only decoded (not produced by the JS encoder): what JS returns, or that it throws.
const DECODE_ONLY = {
  noisePayload: [
    '02', // version 2: nothing else read
    '0700', // unknown version with trailing junk
    '01', // truncated after the version
    '017f0000', // every flag, no bodies: throws
    '0180010000', // flags 128 (unknown bit, 2-byte uint): nothing else
    '01080000010105fd0001' // udx with features 1, version 1, 2-byte seq
  ],
  lookupRawReply: [
    '00', // no peers, no bump
    '01' + '11'.repeat(32) + '00', // one peer, no bump
    '01' + '11'.repeat(32) + '00' + '05',
    '02' + '11'.repeat(32) + '00' // count 2, one peer: throws
  ],
  handshake: ['0400', '010000', '0300000102030405060708090a0b0c', 'ff0000'],
  holepunch: ['00000000', '01000000', '000001'],
  holepunchPayload: ['00000000', '3f000000', '04000000' + '00', '08000000' + '010203040506'],
  announce: ['00', '0f', '08fd0001', '0100'],
  pluginRequest: ['00000000', '0000000100', '0000000101', '03616263'],
  peer: ['11'.repeat(32), '11'.repeat(32) + '00', '11'.repeat(32) + 'fe0000100000']
}

function decodeOnlyVectors () {
  const out = {}
  for (const [name, list] of Object.entries(DECODE_ONLY)) {
    out[name] = list.map((h) => ({ hex: h, ...tryDecode(m[name], b4a.from(h, 'hex')) }))
  }
  return out
}

function constantVectors () {
  const ns = {}
  for (const [k, v] of Object.entries(constants.NS)) ns[k] = hex(v)
  const errors = Object.getOwnPropertyNames(DHTError)
    .filter((n) => /^[A-Z_]+$/.test(n) && typeof DHTError[n] === 'function')
    .map((n) => {
      const e = DHTError[n]()
      return { name: n, code: e.code, message: e.message }
    })
  return {
    commands: constants.COMMANDS,
    firewall: constants.FIREWALL,
    error: constants.ERROR,
    ns,
    bootstrapNodes: constants.BOOTSTRAP_NODES,
    errors
  }
}

function noiseWrapVectors () {
  const client = curve.generateKeyPair(fill(0x01))
  const server = curve.generateKeyPair(fill(0x02))
  const clientEphemeralSeed = fill(0x03)
  const serverEphemeralSeed = fill(0x04)
  const initiator = new NoiseWrap(client, server.publicKey)
  const responder = new NoiseWrap(server, null)
  initiator.handshake.e = curve.generateKeyPair(clientEphemeralSeed)
  responder.handshake.e = curve.generateKeyPair(serverEphemeralSeed)

  const clientPayload = {
    error: 0,
    firewall: 0,
    holepunch: null,
    addresses4: [A('192.168.1.10', 49737)],
    addresses6: [],
    udx: { reusableSocket: false, id: 42, seq: 0 },
    secretStream: {},
    relayThrough: null,
    relayAddresses: null
  }
  const serverPayload = {
    error: 0,
    firewall: 2,
    holepunch: { id: 0, relays: [{ relayAddress: A('88.99.3.86', 49737), peerAddress: A('203.0.113.7', 40000) }] },
    addresses4: [A('203.0.113.7', 40000)],
    addresses6: [],
    udx: { reusableSocket: true, id: 7, seq: 0 },
    secretStream: {},
    relayThrough: null,
    relayAddresses: [A('88.99.3.86', 49737)]
  }
  const m1 = hex(initiator.send(clientPayload))
  const got1 = toJson(responder.recv(b4a.from(m1, 'hex')))
  const m2 = hex(responder.send(serverPayload))
  const got2 = toJson(initiator.recv(b4a.from(m2, 'hex')))
  const fin = (w) => {
    const f = w.final()
    return {
      isInitiator: f.isInitiator,
      publicKey: hex(f.publicKey),
      remotePublicKey: hex(f.remotePublicKey),
      remoteId: hex(f.remoteId),
      holepunchSecret: hex(f.holepunchSecret),
      hash: hex(f.hash),
      rx: hex(f.rx),
      tx: hex(f.tx)
    }
  }
  let unfinished = null
  try {
    new NoiseWrap(client, server.publicKey).final()
  } catch (err) {
    unfinished = err.code
  }
  return {
    clientSeed: hex(fill(0x01)),
    serverSeed: hex(fill(0x02)),
    clientEphemeralSeed: hex(clientEphemeralSeed),
    serverEphemeralSeed: hex(serverEphemeralSeed),
    clientPublicKey: hex(client.publicKey),
    serverPublicKey: hex(server.publicKey),
    clientPayload: toJson(clientPayload),
    serverPayload: toJson(serverPayload),
    message1: m1,
    message2: m2,
    serverReceived: got1,
    clientReceived: got2,
    initiator: fin(initiator),
    responder: fin(responder),
    unfinishedError: unfinished
  }
}

// Builds a SecurePayload whose random local secret and next nonce are fixed.
function withFixedRandom (bytes, fn) {
  const orig = sodium.randombytes_buf
  sodium.randombytes_buf = (buf) => buf.fill(bytes.shift())
  try {
    return fn()
  } finally {
    sodium.randombytes_buf = orig
  }
}

function securePayloadVectors () {
  const secret = fill(0x09)
  const payloads = [
    { error: 0, firewall: 2, round: 0, connected: false, punching: false, addresses: [A('1.2.3.4', 5678)], remoteAddress: A('9.8.7.6', 5432), token: K1 },
    { error: 0, firewall: 1, round: 1, connected: true, punching: true, remoteToken: K2 }
  ]
  const sp = withFixedRandom([0x0a], () => new SecurePayload(secret))
  const encrypted = payloads.map((p, i) => {
    const buf = withFixedRandom([0x20 + i], () => sp.encrypt(toJs(p)))
    return { payload: p, nonce: hex(fill(0x20 + i, 24)), hex: hex(buf), decrypted: toJson(sp.decrypt(buf)) }
  })
  const good = b4a.from(encrypted[0].hex, 'hex')
  const tampered = b4a.from(good)
  tampered[30] ^= 1
  const other = new SecurePayload(fill(0x08))
  // valid box whose plaintext is not a holepunchPayload (truncated flags/uint)
  const junkPlain = b4a.from('fd', 'hex')
  const junkNonce = fill(0x30, 24)
  const junk = b4a.alloc(24 + junkPlain.length + 16)
  junkNonce.copy(junk, 0)
  sodium.crypto_secretbox_easy(junk.subarray(24), junkPlain, junkNonce, secret)
  const refusals = [
    { case: 'tampered', hex: hex(tampered), result: sp.decrypt(tampered) },
    { case: 'wrong-key', hex: hex(good), result: other.decrypt(good), secret: hex(fill(0x08)) },
    { case: 'too-short', hex: hex(good.subarray(0, 40)), result: sp.decrypt(good.subarray(0, 40)) },
    { case: 'empty', hex: '', result: sp.decrypt(b4a.alloc(0)) },
    { case: 'not-a-payload', hex: hex(junk), result: sp.decrypt(junk) }
  ]
  const tokens = ['1.2.3.4', '255.255.255.255', '10.0.0.1'].map((host) => ({ host, token: hex(sp.token({ host, port: 1 })) }))
  return {
    secret: hex(secret),
    localSecret: hex(fill(0x0a)),
    encrypted,
    refusals: refusals.map((r) => ({ ...r, result: toJson(r.result) })),
    tokens
  }
}

function recordVectors () {
  const kp = createKeyPair(fill(0x07))
  const mutable = [
    { seq: 0, value: '' },
    { seq: 1, value: hex(b4a.from('hello')) },
    { seq: 2 ** 32, value: hex(fill(0xee, 300)) }
  ].map((x) => {
    const signature = Persistent.signMutable(x.seq, b4a.from(x.value, 'hex'), kp)
    const put = c.encode(m.mutablePutRequest, { publicKey: kp.publicKey, seq: x.seq, value: b4a.from(x.value, 'hex'), signature })
    return {
      ...x,
      signature: hex(signature),
      putRequest: hex(put),
      verifies: Persistent.verifyMutable(signature, x.seq, b4a.from(x.value, 'hex'), kp.publicKey),
      verifiesOtherSeq: Persistent.verifyMutable(signature, x.seq + 1, b4a.from(x.value, 'hex'), kp.publicKey)
    }
  })
  const target = hash(kp.publicKey)
  const token = fill(0x44)
  const nodeId = fill(0x55)
  const announces = [
    { peer: { publicKey: hex(kp.publicKey), relayAddresses: [] } },
    { peer: { publicKey: hex(kp.publicKey), relayAddresses: [A('1.2.3.4', 49737), A('5.6.7.8', 1)] }, refresh: hex(fill(0x66)) }
  ].map((ann) => {
    const js = toJs(ann)
    const sigA = Persistent.signAnnounce(target, token, nodeId, js, kp)
    const sigU = Persistent.signUnannounce(target, token, nodeId, js, kp)
    const value = c.encode(m.announce, { ...js, signature: sigA, bump: 0 })
    return { ann, announceSignature: hex(sigA), unannounceSignature: hex(sigU), announceValue: hex(value) }
  })
  const immutable = ['', '68656c6c6f', hex(fill(0x01, 1000))].map((v) => ({ value: v, target: hex(hash(b4a.from(v, 'hex'))) }))
  return {
    seed: hex(fill(0x07)),
    publicKey: hex(kp.publicKey),
    secretKey: hex(kp.secretKey),
    mutableTarget: hex(target),
    mutable,
    token: hex(token),
    nodeId: hex(nodeId),
    announces,
    immutable
  }
}

module.exports = async () => ({
  codecs: codecVectors(),
  decodeOnly: decodeOnlyVectors(),
  constants: constantVectors(),
  noiseWrap: noiseWrapVectors(),
  securePayload: securePayloadVectors(),
  records: recordVectors()
})

if (require.main === module) module.exports().then((v) => console.log(JSON.stringify(v, null, 1)))
