// sodium-native for the browser bundle (esbuild --alias:sodium-native=...): sodium-javascript 0.8.0
// (pinned in interop/package.json), the pure-JS libsodium the browser build of sodium-universal
// uses, plus what a non-custodial dht-relay client needs that it lacks:
// crypto_scalarmult_ed25519_noclamp and its size constants (noise-curve-ed's Diffie-Hellman for
// the Noise IK steps the client does itself). It is computed with sodium-javascript's own field arithmetic and point
// codec; tests/relay/test_relay_browser.py checks it against sodium-native in Node.
/* eslint-disable camelcase */
const sodium = require('sodium-javascript')
const { unpackneg, pack } = require('sodium-javascript/crypto_sign.js')
const { gf, A, Z, M, D2, gf0, gf1, sel25519 } = require('sodium-javascript/internal/ed25519.js')

function copy (r, a) {
  for (let i = 0; i < 16; i++) r[i] = a[i] | 0
}

// p += q in extended coordinates (X, Y, Z, T) on -x^2 + y^2 = 1 + d x^2 y^2
// (the unified addition law: it also doubles, so the ladder below needs only this)
function add (p, q) {
  const a = gf(); const b = gf(); const c = gf(); const d = gf()
  const e = gf(); const f = gf(); const g = gf(); const h = gf(); const t = gf()
  Z(a, p[1], p[0]); Z(t, q[1], q[0]); M(a, a, t) // (Y1 - X1)(Y2 - X2)
  A(b, p[1], p[0]); A(t, q[1], q[0]); M(b, b, t) // (Y1 + X1)(Y2 + X2)
  M(c, p[3], q[3]); M(c, c, D2) // 2d T1 T2
  M(d, p[2], q[2]); A(d, d, d) // 2 Z1 Z2
  Z(e, b, a); Z(f, d, c); A(g, d, c); A(h, b, a)
  M(p[0], e, f); M(p[1], h, g); M(p[2], g, f); M(p[3], e, h)
}

function swap (p, q, bit) {
  for (let i = 0; i < 4; i++) sel25519(p[i], q[i], bit)
}

// out = s * q, the same sequence of operations whatever the bits of s
function ladder (out, q, s) {
  const h = [gf(q[0]), gf(q[1]), gf(q[2]), gf(q[3])]
  copy(out[0], gf0); copy(out[1], gf1); copy(out[2], gf1); copy(out[3], gf0)
  for (let i = 255; i >= 0; --i) {
    const bit = (s[i >> 3] >> (i & 7)) & 1
    swap(out, h, bit)
    add(h, out)
    add(out, out)
    swap(out, h, bit)
  }
}

function crypto_scalarmult_ed25519_noclamp (q, n, p) {
  const P = [gf(), gf(), gf(), gf()]
  if (!unpackneg(P, p)) throw new Error('crypto_scalarmult_ed25519_noclamp: invalid point')
  Z(P[0], gf0, P[0]) // unpackneg gives -P: negate back
  Z(P[3], gf0, P[3])
  const t = Uint8Array.from(n)
  t[31] &= 127 // libsodium ignores the top bit without clamping
  const R = [gf(), gf(), gf(), gf()]
  ladder(R, P, t)
  pack(q, R)
  let zero = 0
  for (let i = 1; i < 32; i++) zero |= q[i]
  if (zero === 0 && q[0] === 1) throw new Error('crypto_scalarmult_ed25519_noclamp: result is the identity')
}

module.exports = Object.assign(Object.create(null), sodium, {
  crypto_scalarmult_ed25519_BYTES: 32,
  crypto_scalarmult_ed25519_SCALARBYTES: 32,
  crypto_scalarmult_ed25519_noclamp
})
