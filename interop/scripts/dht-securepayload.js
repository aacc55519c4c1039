// Round trip for hyperdht lib/secure-payload.js with random nonces: reads
// {secret, ciphertexts: [hex], payloads: [JSON holepunchPayload]} on stdin and prints
// {decrypted: [JSON | null] (JS decrypt of each ciphertext), encrypted: [hex] (JS encrypt of each payload)}.
'use strict'
const b4a = require('b4a')
const SecurePayload = require('hyperdht/lib/secure-payload.js')

const hex = (b) => b4a.toString(b, 'hex')

function toJs (p) {
  const o = { ...p }
  for (const k of ['token', 'remoteToken']) if (o[k]) o[k] = b4a.from(o[k], 'hex')
  return o
}

function toJson (v) {
  if (v === null || v === undefined) return null
  if (v instanceof Uint8Array) return hex(v)
  if (Array.isArray(v)) return v.map(toJson)
  if (typeof v === 'object') {
    const o = {}
    for (const [k, x] of Object.entries(v)) o[k] = toJson(x)
    return o
  }
  return v
}

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const req = JSON.parse(input)
  const sp = new SecurePayload(b4a.from(req.secret, 'hex'))
  const decrypted = req.ciphertexts.map((h) => toJson(sp.decrypt(b4a.from(h, 'hex'))))
  const encrypted = req.payloads.map((p) => hex(sp.encrypt(toJs(p))))
  process.stdout.write(JSON.stringify({ decrypted, encrypted }) + '\n')
})
