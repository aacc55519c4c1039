// A @hyperswarm/secret-stream 6.9.2 peer over TCP on 127.0.0.1, for hyperpunch's interop tests.
//
//   node secretstream-peer.js server '{"seed": "<hex32>", ...}'   listen on port 0 (prints "listening")
//   node secretstream-peer.js client '{"seed": "<hex32>", "port": N, ...}'
//
// Options: seed (static key pair seed), keepAlive (ms), pattern ("XX" or "IK"), remotePublicKey (hex), bulk (bytes to send
// in writes of 1..chunk bytes, then end()), chunk (max write size, default 65536), messages (list of
// hex messages to write before the bulk data), collect (report each message as {"event":"data"}).
//
// JSON lines on stdout: listening {port}; handshake {isInitiator, publicKey, remotePublicKey,
// handshakeHash}; data {hex}; sent {bytes, sha256}; received {bytes, sha256, messages, empty};
// closed {error}. stdin commands: {"cmd":"write","hex":...}, {"cmd":"end"}, {"cmd":"destroy"}.
'use strict'
const net = require('net')
const crypto = require('crypto')
const readline = require('readline')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const b4a = require('b4a')

const [mode, raw] = process.argv.slice(2)
const opts = JSON.parse(raw || '{}')
const hex = (b) => b4a.toString(b, 'hex')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

function run (socket, isInitiator) {
  const keyPair = NoiseSecretStream.keyPair(opts.seed ? b4a.from(opts.seed, 'hex') : undefined)
  const stream = new NoiseSecretStream(isInitiator, socket, {
    keyPair,
    keepAlive: opts.keepAlive || 0,
    pattern: opts.pattern || undefined,
    remotePublicKey: opts.remotePublicKey ? b4a.from(opts.remotePublicKey, 'hex') : undefined
  })
  const inHash = crypto.createHash('sha256')
  let inBytes = 0
  let messages = 0
  let empty = 0
  let reportedClose = false

  stream.on('connect', () => {
    out({
      event: 'handshake',
      isInitiator: stream.isInitiator,
      publicKey: hex(stream.publicKey),
      remotePublicKey: hex(stream.remotePublicKey),
      handshakeHash: hex(stream.handshakeHash)
    })
    for (const m of opts.messages || []) stream.write(b4a.from(m, 'hex'))
    if (opts.bulk) sendBulk(stream, opts.bulk, opts.chunk || 65536)
  })
  stream.on('data', (data) => {
    inHash.update(data)
    inBytes += data.byteLength
    messages++
    if (data.byteLength === 0) empty++
    if (opts.collect) out({ event: 'data', hex: hex(data) })
  })
  stream.on('end', () => {
    out({ event: 'received', bytes: inBytes, sha256: inHash.digest('hex'), messages, empty })
    if (!opts.bulk) stream.end()
  })
  stream.on('error', (err) => {
    if (!reportedClose) out({ event: 'closed', error: err.message })
    reportedClose = true
  })
  stream.on('close', () => {
    if (!reportedClose) out({ event: 'closed', error: null })
    reportedClose = true
    if (mode === 'client') setImmediate(() => process.exit(0))
  })

  const rl = readline.createInterface({ input: process.stdin })
  rl.on('line', (line) => {
    const cmd = JSON.parse(line)
    if (cmd.cmd === 'write') stream.write(b4a.from(cmd.hex, 'hex'))
    else if (cmd.cmd === 'end') stream.end()
    else if (cmd.cmd === 'destroy') stream.destroy()
  })
  rl.on('close', () => process.exit(0))
}

// writes `total` random bytes in pieces of 1..chunk bytes, honouring backpressure, then ends
function sendBulk (stream, total, chunk) {
  const hash = crypto.createHash('sha256')
  const pool = crypto.randomBytes(chunk * 4)
  let sent = 0
  let n = 0
  function pump () {
    while (sent < total) {
      const size = Math.min(total - sent, 1 + ((n++ * 7919) % chunk))
      const start = (n * 131) % (pool.byteLength - size + 1)
      const piece = b4a.from(pool.subarray(start, start + size)) // a fresh buffer per write
      hash.update(piece)
      sent += size
      if (stream.write(piece) === false) return stream.once('drain', pump)
    }
    out({ event: 'sent', bytes: sent, sha256: hash.digest('hex') })
    stream.end()
  }
  pump()
}

if (mode === 'server') {
  const server = net.createServer((socket) => {
    server.close()
    run(socket, false)
  })
  server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }))
} else if (mode === 'client') {
  const socket = net.connect(opts.port, '127.0.0.1')
  run(socket, true)
} else {
  console.error('usage: secretstream-peer.js server|client <json options>')
  process.exit(2)
}
