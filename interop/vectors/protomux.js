// Reference transcripts of protomux 3.12.1 for hyperpunch.protomux.
//
// Protomux runs over a fake stream that records every frame it writes (one write = one frame)
// and lets us feed frames in as 'data'. Each scenario is a list of steps in a tiny language that
// tests/protomux/scenario.py interprets the same way with the Python core; the transcript is the
// ordered list of events: frames written ("write"), channel callbacks, and stream destruction.
// After every step the interpreter lets pending ticks/microtasks run (setImmediate).
'use strict'
const Protomux = require('protomux')
const c = require('compact-encoding')
const b4a = require('b4a')
const { EventEmitter } = require('events')

const hex = (b) => b4a.toString(b, 'hex')

const CODECS = {
  uint: c.uint,
  string: c.string,
  raw: c.raw,
  buffer: c.buffer,
  'uint-array': c.array(c.uint),
  bool: c.bool
}

function toJs (kind, v) {
  if (kind === 'raw' || kind === 'buffer') return b4a.from(v, 'hex')
  return v
}

function toJson (kind, v) {
  if (v === null || v === undefined) return null
  if (kind === 'raw' || kind === 'buffer') return hex(v)
  return v
}

class FakeStream extends EventEmitter {
  constructor (log) {
    super()
    this.userData = null
    this.destroyed = false
    this.full = false
    this.log = log
  }

  write (buf) {
    this.log.push({ ev: 'write', hex: hex(buf) })
    return !this.full
  }

  end () { this.log.push({ ev: 'end' }) }
  pause () { this.log.push({ ev: 'pause' }) }
  resume () { this.log.push({ ev: 'resume' }) }

  destroy (err) {
    if (this.destroyed) return
    this.log.push({ ev: 'destroyed', error: err ? err.message : null })
    process.nextTick(() => {
      this.destroyed = true
      this.emit('close')
    })
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

async function runScenario (steps) {
  const log = []
  const stream = new FakeStream(log)
  const mux = new Protomux(stream)
  const channels = {}
  const deferred = {}

  function create (spec) {
    const kinds = spec.messages || []
    const hs = spec.handshake ? CODECS[spec.handshake] : null
    const name = spec.name
    const ch = mux.createChannel({
      protocol: spec.protocol,
      id: spec.id ? b4a.from(spec.id, 'hex') : null,
      aliases: spec.aliases || [],
      unique: spec.unique !== false,
      handshake: hs,
      messages: kinds.map((kind, type) => kind === null
        ? null
        : {
            encoding: CODECS[kind],
            onmessage (v, session) {
              log.push({ ev: 'message', name, type, value: toJson(kind, v) })
              if (spec.echo) session.messages[type].send(v)
              if (spec.hold) {
                // an async handler: the reply batch stays corked until a 'release' step
                return new Promise((resolve) => {
                  if (!deferred[name]) deferred[name] = []
                  deferred[name].push(() => { log.push({ ev: 'handled', name, type }); resolve() })
                })
              }
            }
          }),
      onopen (handshake, session) {
        log.push({ ev: 'open', name, handshake: spec.handshake ? toJson(spec.handshake, handshake) : null })
        for (const s of spec.onopen_send || []) session.messages[s.type].send(toJs(kinds[s.type], s.value))
      },
      onclose (isRemote) { log.push({ ev: 'close', name, remote: isRemote }) },
      ondestroy () { log.push({ ev: 'destroy', name }) },
      ondrain () { log.push({ ev: 'drain', name }) }
    })
    if (ch === null) {
      log.push({ ev: 'create-null', name })
      return null
    }
    channels[name] = ch
    if (spec.open !== undefined) ch.open(spec.handshake ? toJs(spec.handshake, spec.open) : undefined)
    return ch
  }

  function doStep (step) {
    switch (step.op) {
      case 'create': create(step); break
      case 'open': channels[step.name].open(step.handshake === undefined ? undefined : step.handshake); break
      case 'send': {
        const ch = channels[step.name]
        const kind = step.kind
        log.push({ ev: 'sent', result: ch.messages[step.type].send(toJs(kind, step.value)) })
        break
      }
      case 'close': channels[step.name].close(); break
      case 'cork': mux.cork(); break
      case 'uncork': mux.uncork(); break
      case 'pair':
        mux.pair({ protocol: step.protocol, id: step.id ? b4a.from(step.id, 'hex') : null }, (id) => {
          log.push({ ev: 'notify', protocol: step.protocol, id: id ? hex(id) : null })
          if (step.defer) {
            return new Promise((resolve) => {
              if (!deferred[step.protocol]) deferred[step.protocol] = []
              deferred[step.protocol].push(() => { if (step.create) create(step.create); resolve() })
            })
          }
          if (step.create) create(step.create)
        })
        break
      case 'release': for (const release of deferred[step.protocol].splice(0)) release(); break
      case 'unpair': mux.unpair({ protocol: step.protocol, id: step.id ? b4a.from(step.id, 'hex') : null }); break
      case 'feed': stream.emit('data', b4a.from(step.hex, 'hex')); break
      case 'full': stream.full = step.full; break
      case 'drain': stream.emit('drain'); break
      case 'end': stream.emit('end'); break
      case 'state':
        log.push({
          ev: 'state',
          idle: mux.isIdle(),
          opened: mux.opened({ protocol: step.protocol, id: step.id ? b4a.from(step.id, 'hex') : null }),
          channels: Object.fromEntries(Object.entries(channels).map(([n, ch]) => [n, { opened: ch.opened, closed: ch.closed, destroyed: ch.destroyed }]))
        })
        break
      default: throw new Error('unknown op ' + step.op)
    }
  }

  // each step runs in its own macrotask, as stream data does in real use: process.nextTick work
  // (protomux's queueTick) then runs before promise continuations
  for (const step of steps) {
    await new Promise((resolve, reject) => setImmediate(() => {
      try { doStep(step); resolve() } catch (err) { reject(err) }
    }))
    await tick()
  }
  await tick()
  return log
}

// frame builders for the inputs (all control frames are checked against JS output below)
const u = (n) => { const s = c.state(); c.uint.preencode(s, n); s.buffer = b4a.alloc(s.end); c.uint.encode(s, n); return hex(s.buffer) }
const str = (v) => hex(c.encode(c.string, v))
const openFrame = (rid, protocol, idHex = null, hs = '') => '0001' + u(rid) + str(protocol) + (idHex ? u(idHex.length / 2) + idHex : '00') + hs
const ID = '11'.repeat(32)

const SCENARIOS = {
  'open-pair-message-close': [
    { op: 'create', name: 'a', protocol: 'hp/test', handshake: 'string', messages: ['uint', 'string', 'raw', 'buffer', null, 'uint-array', 'bool'], open: 'hello' },
    { op: 'feed', hex: openFrame(1, 'hp/test', null, str('world')) },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 0 },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 300 },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 70000 },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 4294967296 },
    { op: 'send', name: 'a', type: 1, kind: 'string', value: 'hëllo ✓' },
    { op: 'send', name: 'a', type: 2, kind: 'raw', value: 'deadbeef' },
    { op: 'send', name: 'a', type: 3, kind: 'buffer', value: '00'.repeat(300) },
    { op: 'send', name: 'a', type: 5, kind: 'uint-array', value: [1, 2, 253] },
    { op: 'send', name: 'a', type: 6, kind: 'bool', value: true },
    { op: 'feed', hex: '0100' + u(7) },
    { op: 'feed', hex: '0101' + str('from js') },
    { op: 'feed', hex: '0102cafe' },
    { op: 'feed', hex: '0103' + '02abcd' },
    { op: 'feed', hex: '0104ffff' },
    { op: 'feed', hex: '0105' + '020102' },
    { op: 'feed', hex: '0109ffff' },
    { op: 'feed', hex: '0106' + '01' },
    { op: 'state', protocol: 'hp/test' },
    { op: 'close', name: 'a' },
    { op: 'state', protocol: 'hp/test' }
  ],
  'open-with-id-and-many-ids': [
    ...Array.from({ length: 260 }, (_, i) => ({ op: 'create', name: 'c' + i, protocol: 'hypercore/alpha', id: (i + 1).toString(16).padStart(64, '0'), open: null })),
    { op: 'close', name: 'c3' },
    { op: 'feed', hex: '0002' + u(4) },
    { op: 'create', name: 'again', protocol: 'hypercore/alpha', id: ID, open: null }
  ],
  'remote-close-and-id-reuse': [
    { op: 'create', name: 'a', protocol: 'p', open: null },
    { op: 'create', name: 'b', protocol: 'q', open: null },
    { op: 'feed', hex: openFrame(1, 'q') },
    { op: 'feed', hex: openFrame(2, 'p') },
    { op: 'feed', hex: '0003' + u(2) },
    { op: 'feed', hex: '0003' + u(2) },
    { op: 'feed', hex: '0003' + u(9) },
    { op: 'feed', hex: '0003' + u(0) },
    { op: 'create', name: 'c', protocol: 'r', open: null },
    { op: 'state', protocol: 'p' }
  ],
  'reject-unknown-and-unpaired': [
    { op: 'feed', hex: openFrame(1, 'unknown') },
    { op: 'pair', protocol: 'ignored' },
    { op: 'feed', hex: openFrame(2, 'ignored', ID) },
    { op: 'feed', hex: '0200' + u(5) },
    { op: 'create', name: 'late', protocol: 'nobody-answers', open: null },
    { op: 'feed', hex: '0002' + u(1) },
    { op: 'state', protocol: 'nobody-answers' }
  ],
  'pair-creates-channel': [
    { op: 'pair', protocol: 'paired', create: { name: 'p', protocol: 'paired', handshake: 'uint', messages: ['string'], open: 42, onopen_send: [{ type: 0, value: 'welcome' }] } },
    { op: 'feed', hex: openFrame(1, 'paired', null, u(7)) },
    { op: 'feed', hex: '0100' + str('thanks') }
  ],
  'pair-wildcard-with-id': [
    { op: 'pair', protocol: 'wild', create: { name: 'w', protocol: 'wild', id: ID, open: null } },
    { op: 'feed', hex: openFrame(1, 'wild', ID) },
    { op: 'unpair', protocol: 'wild' },
    { op: 'feed', hex: openFrame(2, 'wild', '22'.repeat(32)) }
  ],
  'no-pair-rejects-at-once': [
    { op: 'feed', hex: openFrame(1, 'later', null, str('hs')) },
    { op: 'feed', hex: '0100' + str('one') },
    { op: 'create', name: 'l', protocol: 'later', handshake: 'string', messages: ['string'], open: 'ok' },
    { op: 'feed', hex: '0100' + str('ignored') }
  ],
  'buffered-until-created': [
    { op: 'pair', protocol: 'later', defer: true, create: { name: 'l', protocol: 'later', handshake: 'string', messages: ['string'], open: 'ok' } },
    { op: 'feed', hex: openFrame(1, 'later', null, str('hs')) },
    { op: 'feed', hex: '0100' + str('one') },
    { op: 'feed', hex: '0100' + str('two') },
    { op: 'release', protocol: 'later' },
    { op: 'feed', hex: '0100' + str('three') }
  ],
  'buffered-pause-resume': [
    { op: 'pair', protocol: 'big', defer: true, create: { name: 'b', protocol: 'big', messages: ['raw'], open: null } },
    { op: 'feed', hex: openFrame(1, 'big') },
    // each buffered message counts 512 + its length: the 64th passes 32 KiB and pauses
    ...Array.from({ length: 66 }, (_, i) => ({ op: 'feed', hex: '0100' + (i % 256).toString(16).padStart(2, '0') })),
    { op: 'release', protocol: 'big' }
  ],
  'deferred-pair-declines': [
    { op: 'pair', protocol: 'maybe', defer: true },
    { op: 'feed', hex: openFrame(1, 'maybe') },
    { op: 'feed', hex: '0100aa' },
    { op: 'feed', hex: openFrame(2, 'maybe') },
    { op: 'release', protocol: 'maybe' },
    { op: 'feed', hex: openFrame(1, 'maybe') }
  ],
  'cork-batch': [
    { op: 'create', name: 'a', protocol: 'a', messages: ['uint', 'string'], open: null },
    { op: 'create', name: 'b', protocol: 'b', messages: ['raw'], open: null },
    { op: 'feed', hex: openFrame(1, 'b') },
    { op: 'feed', hex: openFrame(2, 'a') },
    { op: 'cork' },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 1 },
    { op: 'send', name: 'a', type: 1, kind: 'string', value: 'two' },
    { op: 'send', name: 'b', type: 0, kind: 'raw', value: '03' },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 1000 },
    { op: 'create', name: 'c', protocol: 'c', open: null },
    { op: 'close', name: 'b' },
    { op: 'uncork' },
    { op: 'cork' },
    { op: 'uncork' },
    { op: 'cork' },
    { op: 'cork' },
    { op: 'send', name: 'a', type: 1, kind: 'string', value: 'x'.repeat(300) },
    { op: 'uncork' },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 5 },
    { op: 'uncork' }
  ],
  'receive-batch-replies-batched': [
    { op: 'pair', protocol: 'echo', create: { name: 'e', protocol: 'echo', messages: ['string'], open: null, echo: true, onopen_send: [{ type: 0, value: 'hi' }] } },
    { op: 'create', name: 'k', protocol: 'known', messages: ['uint'], open: null, echo: true },
    {
      op: 'feed',
      hex: '0000' + '00' +
        [openFrame(1, 'echo').slice(2), openFrame(2, 'nope').slice(2), openFrame(3, 'known').slice(2)]
          .map((h) => u(h.length / 2) + h).join('') +
        '00' + u(1) + [('00' + str('ping')), ('00' + str('pong'))].map((h) => u(h.length / 2) + h).join('') +
        '00' + u(3) + u(2) + '0009'
    },
    { op: 'feed', hex: '0000' + u(3) + '02' + '0009' + '00' + '00' + '02' + '03' + u(1) }
  ],
  'async-handler-holds-reply-batch': [
    { op: 'create', name: 'h', protocol: 'hold', messages: ['uint'], open: null, echo: true, hold: true },
    { op: 'create', name: 'o', protocol: 'other', messages: ['uint'], open: null },
    { op: 'feed', hex: openFrame(1, 'hold') },
    { op: 'feed', hex: openFrame(2, 'other') },
    { op: 'feed', hex: '0000' + u(1) + '02' + '0001' + '02' + '0002' },
    { op: 'send', name: 'o', type: 0, kind: 'uint', value: 3 },
    { op: 'release', protocol: 'h' },
    { op: 'send', name: 'o', type: 0, kind: 'uint', value: 4 },
    { op: 'feed', hex: '0100' + u(5) },
    { op: 'send', name: 'o', type: 0, kind: 'uint', value: 6 },
    { op: 'release', protocol: 'h' }
  ],
  'backpressure-drain-end': [
    { op: 'create', name: 'a', protocol: 'a', messages: ['uint'], open: null },
    { op: 'create', name: 'b', protocol: 'b', messages: ['uint'], open: null },
    { op: 'feed', hex: openFrame(1, 'a') },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 1 },
    { op: 'full', full: true },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 2 },
    { op: 'state', protocol: 'a' },
    { op: 'cork' },
    { op: 'send', name: 'a', type: 0, kind: 'uint', value: 3 },
    { op: 'full', full: false },
    { op: 'drain' },
    { op: 'uncork' },
    { op: 'end' }
  ],
  'next-ticks-before-promise-jobs': [
    { op: 'pair', protocol: 'declines' },
    { op: 'pair', protocol: 'accepts', create: { name: 'y', protocol: 'accepts', messages: ['string'], open: null, onopen_send: [{ type: 0, value: 'first' }] } },
    {
      op: 'feed',
      hex: '0000' + '00' + [openFrame(1, 'declines').slice(2), openFrame(2, 'accepts').slice(2)].map((h) => u(h.length / 2) + h).join('')
    }
  ],
  'single-item-batch': [
    { op: 'create', name: 'k', protocol: 'known', messages: ['uint'], open: null, echo: true },
    { op: 'feed', hex: openFrame(1, 'known') },
    { op: 'feed', hex: '0000' + u(1) + '02' + '0005' },
    { op: 'feed', hex: '0000' + u(1) + '02' + '0006' + '02' + '0007' }
  ],
  'unique-and-not-unique': [
    { op: 'create', name: 'a', protocol: 'u', open: null },
    { op: 'create', name: 'b', protocol: 'u', open: null },
    { op: 'create', name: 'c', protocol: 'u', unique: false, open: null },
    { op: 'feed', hex: openFrame(1, 'u') },
    { op: 'feed', hex: openFrame(2, 'u') },
    { op: 'state', protocol: 'u' }
  ],
  aliases: [
    { op: 'create', name: 'a', protocol: 'hypercore/alpha', aliases: ['hypercore'], open: null },
    { op: 'feed', hex: openFrame(1, 'hypercore') }
  ],
  'close-before-remote-open': [
    { op: 'create', name: 'a', protocol: 'x', open: null },
    { op: 'close', name: 'a' },
    { op: 'feed', hex: openFrame(1, 'x') },
    { op: 'create', name: 'b', protocol: 'y', open: null },
    { op: 'state', protocol: 'x' }
  ]
}

// Each garbage frame is fed to a fresh mux holding one open channel (remote id 1, local id 1).
const GARBAGE = {
  'truncated-open': '0001',
  'truncated-open-protocol': '00010105',
  'open-reuses-live-slot': openFrame(1, 'other'),
  'open-skips-ids': openFrame(5, 'other'),
  'open-control-channel': openFrame(0, 'other'),
  'reject-unknown-id': '0002' + u(7),
  'message-truncated-uint': '0100fd01',
  'message-bad-string': '010105ab',
  'truncated-channel-id': 'fd01',
  'truncated-type': '01',
  'batch-truncated': '0000' + u(1) + '05' + '00',
  'batch-missing-channel': '0000',
  'unknown-control-type': '0009abcdef',
  'unknown-message-type': '0163abcdef',
  'unknown-channel': '0700aa',
  'huge-channel-id': 'ffffffffffffffffff00aa',
  'close-unknown': '0003' + u(9),
  'empty-frame': '',
  'batch-huge-length': '0000' + u(1) + 'fe00000001' + '0008',
  'nested-batch': '0000' + '00' + '06' + '0000' + u(1) + '02' + '0005',
  'nested-batch-valid': '0000' + '00' + '05' + '00' + u(1) + '02' + '0005',
  'batch-control-close': '0000' + u(1) + '02' + '0005' + '00' + '00' + '02' + '03' + u(1),
  'message-after-close': '0003' + u(1)
}

const garbageSteps = (frameHex) => [
  { op: 'create', name: 'a', protocol: 'g', messages: ['uint', 'string'], open: null },
  { op: 'feed', hex: openFrame(1, 'g') },
  { op: 'feed', hex: frameHex }
]

// cork, then 10 messages of 1 MiB: the batch is split once it reaches 8 MiB (frames as hashes)
function bigBatch () {
  const log = []
  const stream = new FakeStream(log)
  const mux = new Protomux(stream)
  const ch = mux.createChannel({ protocol: 'big', messages: [{ encoding: c.string }] })
  ch.open()
  mux.cork()
  for (let i = 0; i < 10; i++) ch.messages[0].send(String.fromCharCode(97 + i).repeat(1 << 20))
  mux.uncork()
  const sha = (h) => require('crypto').createHash('sha256').update(b4a.from(h, 'hex')).digest('hex')
  return log.filter((e) => e.ev === 'write').map((e) => ({ bytes: e.hex.length / 2, sha256: sha(e.hex) }))
}

module.exports = async () => {
  const scenarios = {}
  for (const [name, steps] of Object.entries(SCENARIOS)) {
    scenarios[name] = { steps, log: await runScenario(steps) }
  }
  const garbageOut = {}
  for (const [name, frame] of Object.entries(GARBAGE)) {
    const steps = garbageSteps(frame)
    garbageOut[name] = { steps, log: await runScenario(steps) }
  }
  return { version: require('protomux/package.json').version, scenarios, garbage: garbageOut, big_batch: bigBatch() }
}
