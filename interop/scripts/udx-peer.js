// A udx-native peer for the Python UDX interop tests, speaking JSON lines.
// usage: node udx-peer.js <localId> <send|recv> [size]
// stdout: {"event":"ready","port"} then, after {"cmd":"connect","remoteId","port","host"} on stdin:
//   send: writes <size> random bytes then END; reports {"event":"sent","sha","bytes"}
//   recv: hashes everything; on END reports {"event":"received","sha","bytes"} and ends its side
//   both: {"event":"end"} when the remote END arrives, {"event":"closed","error"} on close
const UDX = require('udx-native')
const crypto = require('crypto')
const readline = require('readline')

const localId = Number(process.argv[2] || 1)
const mode = process.argv[3] || 'recv'
const size = Number(process.argv[4] || 0)

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const udx = new UDX()
const socket = udx.createSocket()
socket.bind(0, '127.0.0.1')
const messages = []
socket.on('message', (buf, rinfo) => {
  out({ event: 'socket-message', hex: buf.toString('hex'), port: rinfo.port })
})

const stream = udx.createStream(localId)
const hash = crypto.createHash('sha256')
let received = 0

stream.on('data', (data) => {
  received += data.byteLength
  hash.update(data)
})
stream.on('message', (buf) => messages.push(buf.toString('hex')))
stream.on('end', () => {
  const sha = hash.digest('hex')
  out({ event: 'end', sha, bytes: received })
  if (mode === 'recv') {
    out({ event: 'received', sha, bytes: received })
    stream.end()
  }
})
stream.on('error', (err) => out({ event: 'stream-error', code: err.code || String(err) }))
stream.on('close', () => {
  out({ event: 'closed', messages, mtu: stream.mtu, retransmits: stream.retransmits })
  socket.close()
})

async function sendBulk() {
  const chunk = 1 << 16
  const data = crypto.randomBytes(size)
  const sha = crypto.createHash('sha256').update(data).digest('hex')
  for (let off = 0; off < size; off += chunk) {
    if (!stream.write(data.subarray(off, Math.min(size, off + chunk)))) {
      await new Promise((resolve) => stream.once('drain', resolve))
    }
  }
  stream.end()
  out({ event: 'sent', sha, bytes: size })
}

out({ event: 'ready', port: socket.address().port, id: localId })

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const msg = JSON.parse(line)
  if (msg.cmd === 'connect') {
    stream.connect(socket, msg.remoteId, msg.port, msg.host || '127.0.0.1')
    out({ event: 'connected' })
    if (mode === 'send') sendBulk().catch((err) => out({ event: 'error', message: String(err) }))
  } else if (msg.cmd === 'message') {
    stream.send(Buffer.from(msg.hex, 'hex'))
  } else if (msg.cmd === 'raw') {
    socket.send(Buffer.from(msg.hex, 'hex'), msg.port, msg.host || '127.0.0.1')
  } else if (msg.cmd === 'destroy') {
    stream.destroy()
  } else if (msg.cmd === 'exit') {
    process.exit(0)
  }
})
rl.on('close', () => process.exit(0))
