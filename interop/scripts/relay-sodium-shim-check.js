// Checks interop/browser/sodium-shim.js (the browser bundle's sodium) against sodium-native:
// crypto_scalarmult_ed25519_noclamp on random keys and scalars (clamped and not), and a full
// noise-curve-ed Diffie-Hellman both ways.
// usage: node relay-sodium-shim-check.js <rounds>
// stdout: {"event":"checked","rounds":n,"mismatches":m,"dh":bool}
'use strict'
const path = require('path')
const crypto = require('crypto')
const native = require('sodium-native')
const shim = require(path.join(__dirname, '..', 'browser', 'sodium-shim.js'))

const rounds = Number(process.argv[2] || 64)
let mismatches = 0
for (let k = 0; k < rounds; k++) {
  const pk = Buffer.alloc(32)
  const sk = Buffer.alloc(64)
  native.crypto_sign_keypair(pk, sk)
  const n = crypto.randomBytes(32)
  if (k % 2) { n[0] &= 248; n[31] &= 127; n[31] |= 64 }
  const a = Buffer.alloc(32)
  const b = Buffer.alloc(32)
  native.crypto_scalarmult_ed25519_noclamp(a, n, pk)
  shim.crypto_scalarmult_ed25519_noclamp(b, n, pk)
  if (!a.equals(b)) mismatches++
}
// Diffie-Hellman as noise-curve-ed does it: scalar = clamp(SHA-512(seed)[0..32])
function scalarOf (sk) {
  const h = Buffer.alloc(64)
  native.crypto_hash_sha512(h, sk.subarray(0, 32))
  h[0] &= 248; h[31] &= 127; h[31] |= 64
  return h.subarray(0, 32)
}
const kp = () => { const p = Buffer.alloc(32); const s = Buffer.alloc(64); native.crypto_sign_keypair(p, s); return { p, s } }
const x = kp()
const y = kp()
const xy = Buffer.alloc(32)
const yx = Buffer.alloc(32)
shim.crypto_scalarmult_ed25519_noclamp(xy, scalarOf(x.s), y.p)
native.crypto_scalarmult_ed25519_noclamp(yx, scalarOf(y.s), x.p)
process.stdout.write(JSON.stringify({ event: 'checked', rounds, mismatches, dh: xy.equals(yx) }) + '\n')
