// A @hyperswarm/secret-stream 6.9.2 peer over a udx-native 1.21.3 stream on 127.0.0.1, for
// hyperpunch's secret-stream-over-UDX interop test.
//
//   node udx-secretstream-peer.js initiator|responder '{"seed": "<hex32>", "localId": N}'
//
// JSON lines on stdout:
//   ready {port, id}                      the UDX socket is bound (port 0)
//   connected                             after the connect command: the raw stream is connected
//   handshake {isInitiator, publicKey, remotePublicKey, handshakeHash}
//   message {hex}                         an unordered datagram (secret-stream 'message')
//   sent {bytes, sha256}                  the bulk data is written, end() called
//   received {bytes, sha256, messages}    the remote ended the secret stream
//   closed {error, rawError, rawClosed}   the secret stream closed (and the raw UDX stream)
// stdin commands:
//   {"cmd":"connect","remoteId":N,"port":N}   connect the raw UDX stream, wrap it in a secret stream
//   {"cmd":"send","hex":...,"try":bool}        stream.send(buf) (or stream.trySend(buf) when try)
//   {"cmd":"bulk","bytes":N,"chunk":N}         write N random bytes in pieces of 1..chunk, then end()
//   {"cmd":"end"}                              end() the secret stream
'use strict'
const crypto = require('crypto')
const readline = require('readline')
const UDX = require('udx-native')
const SecretStream = require('@hyperswarm/secret-stream')
const b4a = require('b4a')

const [role, raw] = process.argv.slice(2)
if (role !== 'initiator' && role !== 'responder') {
  console.error('usage: udx-secretstream-peer.js initiator|responder <json options>')
  process.exit(2)
}
const opts = JSON.parse(raw || '{}')
const localId = opts.localId || 1
const hex = (b) => b4a.toString(b, 'hex')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const udx = new UDX()
const socket = udx.createSocket()
socket.bind(0, '127.0.0.1')
const rawStream = udx.createStream(localId)
let stream = null
let rawError = null
let rawClosed = false
let closedReported = false

rawStream.on('error', (err) => {
  rawError = err.code || err.message
})
rawStream.on('close', () => {
  rawClosed = true
  maybeExit()
})

function maybeExit () {
  // exit once both the secret stream reported its close and the UDX stream is gone
  if (!closedReported || !rawClosed) return
  socket.close().then(() => process.exit(0))
}

function connect (remoteId, port) {
  rawStream.connect(socket, remoteId, port, '127.0.0.1')
  const keyPair = SecretStream.keyPair(opts.seed ? b4a.from(opts.seed, 'hex') : undefined)
  stream = new SecretStream(role === 'initiator', rawStream, { keyPair })
  out({ event: 'connected' })

  const inHash = crypto.createHash('sha256')
  let inBytes = 0
  let messages = 0
  let error = null

  stream.on('connect', () => {
    out({
      event: 'handshake',
      isInitiator: stream.isInitiator,
      publicKey: hex(stream.publicKey),
      remotePublicKey: hex(stream.remotePublicKey),
      handshakeHash: hex(stream.handshakeHash)
    })
  })
  stream.on('message', (buf) => out({ event: 'message', hex: hex(buf) }))
  stream.on('data', (data) => {
    inHash.update(data)
    inBytes += data.byteLength
    messages++
  })
  stream.on('end', () => {
    out({ event: 'received', bytes: inBytes, sha256: inHash.digest('hex'), messages })
  })
  stream.on('error', (err) => {
    error = err.message
  })
  stream.on('close', () => {
    // the raw stream may still be closing (secret-stream destroys it on close): report both
    const report = () => {
      out({ event: 'closed', error, rawError, rawClosed })
      closedReported = true
      maybeExit()
    }
    if (rawClosed) report()
    else rawStream.once('close', () => setImmediate(report))
  })
}

// writes `total` random bytes in pieces of 1..chunk bytes, honouring backpressure, then ends
function sendBulk (total, chunk) {
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

out({ event: 'ready', port: socket.address().port, id: localId })

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const cmd = JSON.parse(line)
  if (cmd.cmd === 'connect') connect(cmd.remoteId, cmd.port)
  else if (cmd.cmd === 'send') {
    const buf = b4a.from(cmd.hex, 'hex')
    if (cmd.try) stream.trySend(buf)
    else stream.send(buf)
  } else if (cmd.cmd === 'bulk') sendBulk(cmd.bytes, cmd.chunk || 65536)
  else if (cmd.cmd === 'end') stream.end()
})
rl.on('close', () => process.exit(0))
