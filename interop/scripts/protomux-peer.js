// A protomux 3.12.1 peer over @hyperswarm/secret-stream over TCP 127.0.0.1, for hyperpunch's
// interop tests, speaking JSON lines.
//
//   node protomux-peer.js server '{"frames": bool}'          listen on port 0 (responder)
//   node protomux-peer.js client '{"port": N, "frames": bool}' connect (initiator)
//
// stdout events: listening {port}; connected {isInitiator}; frame {hex} (every decrypted message
// received, when "frames"); open {name, handshake}; message {name, type, value}; close {name,
// remote}; destroy {name}; create-null {name}; notify {protocol, id}; sent {name, result};
// state {channels}; pong {id}; stream-close {error}.
// stdin commands ({"cmd": ...}): create {name, protocol, id?, handshake?, messages: [kind|null],
// open?, echo?} (kinds: uint string raw buffer; raw/buffer values are hex); send {name, type,
// value}; close {name}; cork; uncork; pair {protocol, create?: create spec (+ indexed)}; unpair
// {protocol}; raw {hex}
// (a frame written to the stream, bypassing protomux); batch {cmds} (run several in one tick);
// state; ping {id}; end; destroy; exit.
'use strict'
const net = require('net')
const readline = require('readline')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Protomux = require('protomux')
const c = require('compact-encoding')
const b4a = require('b4a')

const [mode, raw] = process.argv.slice(2)
const opts = JSON.parse(raw || '{}')
const hex = (b) => b4a.toString(b, 'hex')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const CODECS = { uint: c.uint, string: c.string, raw: c.raw, buffer: c.buffer }
const toJs = (kind, v) => (kind === 'raw' || kind === 'buffer') ? b4a.from(v, 'hex') : v
const toJson = (kind, v) => (v === null || v === undefined) ? null : (kind === 'raw' || kind === 'buffer') ? hex(v) : v

let mux = null
let stream = null
const channels = {}
const kindsOf = {}
const pending = []

function create (spec) {
  const kinds = spec.messages || []
  const name = spec.name
  const ch = mux.createChannel({
    protocol: spec.protocol,
    id: spec.id ? b4a.from(spec.id, 'hex') : null,
    handshake: spec.handshake ? CODECS[spec.handshake] : null,
    messages: kinds.map((kind, type) => kind === null
      ? null
      : {
          encoding: CODECS[kind],
          onmessage (v, session) {
            out({ event: 'message', name, type, value: toJson(kind, v) })
            if (spec.echo) session.messages[type].send(v)
          }
        }),
    onopen (handshake) { out({ event: 'open', name, handshake: spec.handshake ? toJson(spec.handshake, handshake) : null }) },
    onclose (isRemote) { out({ event: 'close', name, remote: isRemote }) },
    ondestroy () { out({ event: 'destroy', name }) }
  })
  if (ch === null) return out({ event: 'create-null', name })
  channels[name] = ch
  kindsOf[name] = kinds
  if (spec.open !== undefined) ch.open(spec.handshake ? toJs(spec.handshake, spec.open) : undefined)
}

function run (cmd) {
  switch (cmd.cmd) {
    case 'create': return create(cmd)
    case 'send': {
      const ch = channels[cmd.name]
      const result = ch.messages[cmd.type].send(toJs(kindsOf[cmd.name][cmd.type], cmd.value))
      if (cmd.report) out({ event: 'sent', name: cmd.name, result })
      return
    }
    case 'close': return channels[cmd.name].close()
    case 'cork': return mux.cork()
    case 'uncork': return mux.uncork()
    case 'pair':
      return mux.pair({ protocol: cmd.protocol, id: cmd.id ? b4a.from(cmd.id, 'hex') : null }, (id) => {
        out({ event: 'notify', protocol: cmd.protocol, id: id ? hex(id) : null })
        if (!cmd.create) return
        // indexed: the channel's name and handshake get the id (as a number) appended
        const suffix = cmd.create.indexed && id ? BigInt('0x' + hex(id)).toString() : ''
        const spec = { ...cmd.create, id: id ? hex(id) : null, name: cmd.create.name + suffix }
        if (suffix && spec.open !== undefined) spec.open = spec.open + suffix
        create(spec)
      })
    case 'unpair': return mux.unpair({ protocol: cmd.protocol })
    case 'raw': return stream.write(b4a.from(cmd.hex, 'hex'))
    case 'batch': for (const sub of cmd.cmds) run(sub); return
    case 'state':
      return out({
        event: 'state',
        channels: Object.fromEntries(Object.entries(channels).map(([n, ch]) => [n, { opened: ch.opened, closed: ch.closed, destroyed: ch.destroyed }]))
      })
    case 'ping': return out({ event: 'pong', id: cmd.id })
    case 'end': return stream.end()
    case 'destroy': return mux.destroy()
    case 'exit': return process.exit(0)
    default: throw new Error('unknown command ' + cmd.cmd)
  }
}

function attach (socket, isInitiator) {
  stream = new NoiseSecretStream(isInitiator, socket)
  mux = new Protomux(stream)
  if (opts.frames) stream.on('data', (data) => out({ event: 'frame', hex: hex(data) }))
  stream.on('connect', () => {
    out({ event: 'connected', isInitiator: stream.isInitiator })
    for (const cmd of pending.splice(0)) run(cmd)
  })
  stream.on('error', () => {})
  stream.on('close', () => {
    // let protomux's own close handler run first, so channel close events come before this
    setImmediate(() => out({ event: 'stream-close' }))
  })
}

if (mode === 'server') {
  const server = net.createServer((socket) => {
    server.close()
    attach(socket, false)
  })
  server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }))
} else {
  const socket = net.connect(opts.port, '127.0.0.1')
  attach(socket, true)
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const cmd = JSON.parse(line)
  try {
    if (mux === null || !stream.handshakeHash) pending.push(cmd)
    else run(cmd)
  } catch (err) {
    out({ event: 'error', message: String(err && err.stack) })
  }
})
rl.on('close', () => process.exit(0))
