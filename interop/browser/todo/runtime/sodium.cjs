// sodium-native for the browser bundle (esbuild --alias:sodium-native=...): sodium-javascript
// 0.8.0 (pinned in interop/package.json) plus what it lacks and the stack calls:
// crypto_scalarmult_ed25519_noclamp (noise-curve-ed's Noise DH, i.e. the non-custodial relay
// client's handshake) and its length constant. The scalar multiplication is plain Edwards
// arithmetic on BigInt (extended coordinates, RFC 8032 formulas), with libsodium's checks: the
// point must decode, must not be of small order, and the result must not be the identity (-1).
'use strict'
const sodium = require('sodium-javascript')

const P = (1n << 255n) - 19n
const mod = (a) => { const r = a % P; return r < 0n ? r + P : r }
function pow (b, e) {
  let r = 1n
  b = mod(b)
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P
    b = (b * b) % P
    e >>= 1n
  }
  return r
}
const inv = (a) => pow(a, P - 2n)
const D = mod(-121665n * inv(121666n))
const D2 = mod(2n * D)
const SQRT_M1 = pow(2n, (P - 1n) / 4n)

function bytesToBig (buf) {
  let n = 0n
  for (let i = buf.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(buf[i])
  return n
}

function decodePoint (bytes) {
  const sign = bytes[31] >> 7
  const yb = Uint8Array.from(bytes)
  yb[31] &= 0x7f
  const y = bytesToBig(yb)
  if (y >= P) return null
  const y2 = (y * y) % P
  const u = mod(y2 - 1n)
  const v = mod(D * y2 + 1n)
  const v3 = (v * v % P) * v % P
  const v7 = (v3 * v3 % P) * v % P
  let x = (u * v3 % P) * pow(u * v7, (P - 5n) / 8n) % P
  const vx2 = v * (x * x % P) % P
  if (vx2 !== u) {
    if (vx2 === mod(-u)) x = x * SQRT_M1 % P
    else return null
  }
  if (x === 0n && sign === 1) return null
  if (Number(x & 1n) !== sign) x = mod(-x)
  return [x, y, 1n, x * y % P]
}

function add (p, q) {
  const a = mod((p[1] - p[0]) * (q[1] - q[0]))
  const b = mod((p[1] + p[0]) * (q[1] + q[0]))
  const c = mod(p[3] * D2 % P * q[3])
  const d = mod(p[2] * 2n * q[2])
  const e = mod(b - a)
  const f = mod(d - c)
  const g = mod(d + c)
  const h = mod(b + a)
  return [e * f % P, g * h % P, f * g % P, e * h % P]
}

const IDENTITY = [0n, 1n, 1n, 0n]

function multiply (point, scalar) {
  let r = IDENTITY
  let q = point
  while (scalar > 0n) {
    if (scalar & 1n) r = add(r, q)
    q = add(q, q)
    scalar >>= 1n
  }
  return r
}

function isIdentity (p) {
  return mod(p[0]) === 0n && mod(p[1] - p[2]) === 0n
}

function encodePoint (out, p) {
  const zi = inv(p[2])
  const x = p[0] * zi % P
  let y = p[1] * zi % P
  for (let i = 0; i < 32; i++) {
    out[i] = Number(y & 0xffn)
    y >>= 8n
  }
  out[31] |= Number(x & 1n) << 7
}

function crypto_scalarmult_ed25519_noclamp (q, n, p) { // eslint-disable-line camelcase
  if (q.byteLength !== 32 || n.byteLength !== 32 || p.byteLength !== 32) throw new Error('bad length')
  const point = decodePoint(p)
  if (point === null || isIdentity(multiply(point, 8n))) throw new Error('invalid point')
  const t = Uint8Array.from(n)
  t[31] &= 0x7f
  const r = multiply(point, bytesToBig(t))
  if (isIdentity(r)) throw new Error('result is the identity')
  encodePoint(q, r)
}

module.exports = {
  ...sodium,
  crypto_scalarmult_ed25519_BYTES: 32,
  crypto_scalarmult_ed25519_SCALARBYTES: 32,
  crypto_scalarmult_ed25519_noclamp
}
