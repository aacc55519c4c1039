// noise-handshake 4.2 + noise-curve-ed 2.1 reference transcripts (XX and IK) from fixed static
// and ephemeral seeds. The library zeroes buffers after use (including the received message's
// ephemeral key, in place), so every value is hex-encoded at once and recv() gets a copy.
'use strict'
const Noise = require('noise-handshake')
const curve = require('noise-curve-ed')
const b4a = require('b4a')
const crypto = require('hypercore-crypto')

const hex = (b) => b4a.toString(b, 'hex')
const fill = (n, len = 32) => b4a.alloc(len, n)

const [, , , NS_PEER_HANDSHAKE] = crypto.namespace('hyperswarm/dht', [4, 5, 6, 0, 1, 10])

function transcript ({ pattern, seeds, prologue, payloads }) {
  const si = curve.generateKeyPair(fill(seeds[0]))
  const sr = curve.generateKeyPair(fill(seeds[1]))
  const a = new Noise(pattern, true, si, { curve })
  const b = new Noise(pattern, false, sr, { curve })
  a.initialise(b4a.from(prologue), pattern === 'IK' ? b4a.from(sr.publicKey) : undefined)
  b.initialise(b4a.from(prologue))
  a.e = curve.generateKeyPair(fill(seeds[2]))
  b.e = curve.generateKeyPair(fill(seeds[3]))

  const messages = []
  const received = []
  for (let i = 0; i < payloads.length; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a]
    const m = hex(from.send(b4a.from(payloads[i], 'hex')))
    messages.push(m)
    received.push(hex(to.recv(b4a.from(m, 'hex'))))
  }
  const side = (n) => ({
    complete: n.complete,
    tx: hex(n.tx),
    rx: hex(n.rx),
    hash: hex(n.hash),
    remoteStatic: hex(n.rs)
  })
  return {
    pattern,
    protocol: b4a.toString(a.protocol),
    prologue: hex(b4a.from(prologue)),
    initiatorStaticSeed: hex(fill(seeds[0])),
    responderStaticSeed: hex(fill(seeds[1])),
    initiatorEphemeralSeed: hex(fill(seeds[2])),
    responderEphemeralSeed: hex(fill(seeds[3])),
    initiatorStaticPublicKey: hex(si.publicKey),
    responderStaticPublicKey: hex(sr.publicKey),
    payloads,
    messages,
    received,
    initiator: side(a),
    responder: side(b)
  }
}

// Whether the JS responder/initiator throws on a given message (used to check Python refuses too).
function refuses (pattern, step, mutate) {
  const si = curve.generateKeyPair(fill(0x11))
  const sr = curve.generateKeyPair(fill(0x22))
  const a = new Noise(pattern, true, si, { curve })
  const b = new Noise(pattern, false, sr, { curve })
  a.initialise(b4a.alloc(0), pattern === 'IK' ? b4a.from(sr.publicKey) : undefined)
  b.initialise(b4a.alloc(0))
  a.e = curve.generateKeyPair(fill(0xaa))
  b.e = curve.generateKeyPair(fill(0xbb))
  const sides = [a, b]
  for (let i = 0; i < step; i++) sides[(i + 1) % 2].recv(sides[i % 2].send())
  const m = b4a.from(sides[step % 2].send())
  const bad = mutate(m)
  let threw = false
  try {
    sides[(step + 1) % 2].recv(b4a.from(bad))
    // a deferred DH (XX responder's "ee") only fails when it sends the next message
    if (!sides[(step + 1) % 2].complete) sides[(step + 1) % 2].send()
  } catch {
    threw = true
  }
  return { pattern, step, message: hex(bad), jsThrows: threw }
}

module.exports = async () => {
  const XX_EMPTY = ['', '', '']
  const XX_PAYLOADS = ['00', hex(b4a.from('hello from the responder')), hex(fill(0x5a, 1000))]
  const IK_PAYLOAD = '011a0000010102030405000100070001'
  const seeds = [0x11, 0x22, 0xaa, 0xbb]
  const otherSeeds = [0x01, 0x02, 0x03, 0x04]

  const transcripts = [
    transcript({ pattern: 'XX', seeds, prologue: '', payloads: XX_EMPTY }),
    transcript({ pattern: 'XX', seeds, prologue: '', payloads: XX_PAYLOADS }),
    transcript({ pattern: 'XX', seeds: otherSeeds, prologue: 'a prologue', payloads: ['', '0102', ''] }),
    transcript({ pattern: 'IK', seeds, prologue: '', payloads: ['', ''] }),
    transcript({ pattern: 'IK', seeds, prologue: NS_PEER_HANDSHAKE, payloads: [IK_PAYLOAD, '011a00000101020304050001000900'] }),
    transcript({ pattern: 'IK', seeds: otherSeeds, prologue: 'another prologue', payloads: [hex(fill(0x77, 2000)), ''] })
  ]

  const zeroPoint = () => fill(0)
  const identity = () => b4a.concat([b4a.from([1]), fill(0, 31)])
  const withE = (point) => (m) => b4a.concat([point(), m.subarray(32)])
  const flip = (i) => (m) => { const c = b4a.from(m); c[i] ^= 0x01; return c }
  const truncate = (n) => (m) => m.subarray(0, m.byteLength - n)
  const refusals = [
    refuses('XX', 0, withE(zeroPoint)),
    refuses('XX', 0, withE(identity)),
    refuses('XX', 1, withE(zeroPoint)),
    refuses('XX', 1, flip(40)),
    refuses('XX', 1, truncate(1)),
    refuses('XX', 2, flip(63)),
    refuses('XX', 2, truncate(17)),
    refuses('IK', 0, withE(zeroPoint)),
    refuses('IK', 0, withE(identity)),
    refuses('IK', 0, flip(0)),
    refuses('IK', 0, flip(50)),
    refuses('IK', 1, withE(identity)),
    refuses('IK', 1, flip(33)),
    refuses('IK', 1, truncate(1)),
    refuses('IK', 0, (m) => m.subarray(0, 20)),
    refuses('XX', 1, (m) => b4a.alloc(0))
  ]

  return { transcripts, refusals }
}
