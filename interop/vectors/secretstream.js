// Reference transcripts of @hyperswarm/secret-stream 6.9.2 for hyperpunch.secretstream.
//
// Everything is deterministic: static keys from fixed seeds, the Noise ephemerals injected into
// the handshake before it starts (noise-handshake only generates `e` when it is null), and the
// secretstream push headers fixed by wrapping sodium's init_push (init_pull with a chosen header
// yields the very state init_push would have made with that header). The unordered-send counters
// are overwritten after the handshake. The raw bytes each side wrote are recorded per direction.
'use strict'
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const sodium = require('sodium-universal')
const crypto = require('hypercore-crypto')
const caps = require('hypercore/lib/caps')
const b4a = require('b4a')

const hex = (b) => b4a.toString(b, 'hex')
const seed = (byte) => b4a.alloc(32, byte)
const kp = (byte) => NoiseSecretStream.keyPair(seed(byte))

// push header = first 24 bytes of BLAKE2b-256(tx key): fixed for a given handshake, and recorded.
function withFixedHeaders (fn) {
  const original = sodium.crypto_secretstream_xchacha20poly1305_init_push
  sodium.crypto_secretstream_xchacha20poly1305_init_push = function (state, header, key) {
    const h = b4a.alloc(32)
    sodium.crypto_generichash(h, key)
    header.set(h.subarray(0, 24))
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
  }
  return fn().finally(() => {
    sodium.crypto_secretstream_xchacha20poly1305_init_push = original
  })
}

// Connects two streams through their bridges, recording what each one wrote on the wire.
function link (a, b) {
  const wire = { i2r: [], r2i: [] }
  a.rawStream.on('data', (d) => { wire.i2r.push(b4a.from(d)); b.rawStream.write(d) })
  b.rawStream.on('data', (d) => { wire.r2i.push(b4a.from(d)); a.rawStream.write(d) })
  return wire
}

function collect (stream, count) {
  return new Promise((resolve, reject) => {
    const got = []
    if (count === 0) return resolve(got)
    stream.on('data', (d) => {
      got.push(hex(d))
      if (got.length === count) resolve(got)
    })
    stream.on('error', reject)
  })
}

const MESSAGES_I = [b4a.from('hello'), b4a.alloc(0), b4a.alloc(300, 7)]
const MESSAGES_R = [b4a.from('world'), b4a.alloc(1000, 0x5a)]

async function exchange (a, b, wire) {
  await Promise.all([a.opened, b.opened])
  const gotR = collect(b, MESSAGES_I.length)
  const gotI = collect(a, MESSAGES_R.length)
  for (const m of MESSAGES_I) a.write(m)
  for (const m of MESSAGES_R) b.write(m)
  const [receivedByResponder, receivedByInitiator] = await Promise.all([gotR, gotI])
  await new Promise((resolve) => setImmediate(resolve))
  return {
    receivedByResponder,
    receivedByInitiator,
    i2r: hex(b4a.concat(wire.i2r)),
    r2i: hex(b4a.concat(wire.r2i))
  }
}

async function handshakeTranscript (pattern) {
  const si = kp(0x11)
  const sr = kp(0x22)
  const ei = kp(0xaa)
  const er = kp(0xbb)
  const a = new NoiseSecretStream(true, null, {
    keyPair: si,
    pattern,
    remotePublicKey: pattern === 'IK' ? sr.publicKey : undefined
  })
  const b = new NoiseSecretStream(false, null, { keyPair: sr, pattern })
  // the handshake objects exist synchronously; noise generates `e` only when it is still null
  a._handshake.noise.e = { publicKey: b4a.from(ei.publicKey), secretKey: b4a.from(ei.secretKey) }
  b._handshake.noise.e = { publicKey: b4a.from(er.publicKey), secretKey: b4a.from(er.secretKey) }
  const wire = link(a, b)
  const out = await exchange(a, b, wire)

  // unordered datagrams: fixed counters, then box one message each way
  const counterI = b4a.from('0102030405060708', 'hex')
  const counterR = b4a.from('ffffffffffffffff', 'hex')
  a._sendState.set(counterI, 64)
  a._sendState.set(counterI, 72)
  b._sendState.set(counterR, 64)
  b._sendState.set(counterR, 72)
  const datagram = b4a.from('datagram')
  const boxI = [a._boxMessage(datagram), a._boxMessage(datagram)].map(hex)
  const boxR = [b._boxMessage(datagram)].map(hex)
  const opened = []
  b.on('message', (m) => opened.push(hex(m)))
  // _onmessage decrypts in place, so it gets copies
  for (const m of boxI) b._onmessage(b4a.from(m, 'hex'))

  const coreKey = b4a.alloc(32, 0x33)
  const result = {
    pattern,
    initiatorSeed: hex(seed(0x11)),
    responderSeed: hex(seed(0x22)),
    initiatorEphemeralSeed: hex(seed(0xaa)),
    responderEphemeralSeed: hex(seed(0xbb)),
    initiatorPublicKey: hex(si.publicKey),
    responderPublicKey: hex(sr.publicKey),
    initiatorSeesRemote: hex(a.remotePublicKey),
    responderSeesRemote: hex(b.remotePublicKey),
    handshakeHash: hex(a.handshakeHash),
    responderHandshakeHash: hex(b.handshakeHash),
    initiatorPushHeader: hex(a._encrypt.header),
    responderPushHeader: hex(b._encrypt.header),
    initiatorId: hex(NoiseSecretStream.id(a.handshakeHash, true)),
    responderId: hex(NoiseSecretStream.id(a.handshakeHash, false)),
    initiatorSendKey: hex(a._sendState.subarray(0, 32)),
    responderSendKey: hex(b._sendState.subarray(0, 32)),
    initiatorSendCounter: hex(counterI),
    responderSendCounter: hex(counterR),
    datagram: hex(datagram),
    initiatorBoxes: boxI,
    responderBoxes: boxR,
    responderOpened: opened,
    capabilityCoreKey: hex(coreKey),
    capabilityInitiator: hex(caps.replicate(true, coreKey, a.handshakeHash)),
    capabilityResponder: hex(caps.replicate(false, coreKey, a.handshakeHash)),
    messagesFromInitiator: MESSAGES_I.map(hex),
    messagesFromResponder: MESSAGES_R.map(hex),
    ...out
  }
  a.destroy()
  b.destroy()
  return result
}

async function presetTranscript () {
  const tx = b4a.alloc(32, 0x41)
  const rx = b4a.alloc(32, 0x42)
  const hash = b4a.alloc(64, 0x43)
  const pkI = kp(0x11).publicKey
  const pkR = kp(0x22).publicKey
  const a = new NoiseSecretStream(true, null, {
    handshake: { tx, rx, hash, publicKey: pkI, remotePublicKey: pkR }
  })
  const b = new NoiseSecretStream(false, null, {
    handshake: { tx: rx, rx: tx, hash, publicKey: pkR, remotePublicKey: pkI }
  })
  const wire = link(a, b)
  const out = await exchange(a, b, wire)
  const result = {
    initiatorTx: hex(tx),
    initiatorRx: hex(rx),
    handshakeHash: hex(hash),
    initiatorPublicKey: hex(pkI),
    responderPublicKey: hex(pkR),
    initiatorPushHeader: hex(a._encrypt.header),
    responderPushHeader: hex(b._encrypt.header),
    messagesFromInitiator: MESSAGES_I.map(hex),
    messagesFromResponder: MESSAGES_R.map(hex),
    ...out
  }
  a.destroy()
  b.destroy()
  return result
}

module.exports = async () => withFixedHeaders(async () => {
  const [ns0, ns1, ns2] = crypto.namespace('hyperswarm/secret-stream', 3)
  return {
    namespaces: [ns0, ns1, ns2].map(hex),
    xx: await handshakeTranscript('XX'),
    ik: await handshakeTranscript('IK'),
    preset: await presetTranscript()
  }
})
