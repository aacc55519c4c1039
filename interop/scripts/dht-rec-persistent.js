// Drive hyperdht 6.34's lib/persistent.js with crafted requests (no network) and report what it answers.
// stdin: {"id": hex (the storing node's id), "wallNow": ms (Date.now() during the run),
//         "steps": [{"command": n, "target": hex|null, "token": hex|null, "value": hex|null,
//                    "from": {host, port}}]}
// stdout: {"answers": [{"kind": "reply"|"error"|"none", "value": hex|null, "error": n,
//                        "token": bool, "closerNodes": bool}],
//          "router": {targetHex: {"relay": {host, port}, "record": hex}}}
'use strict'
const Persistent = require('hyperdht/lib/persistent')
const { COMMANDS } = require('hyperdht/lib/constants')
const b4a = require('b4a')

const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const buf = (h) => (h === null || h === undefined ? null : b4a.from(h, 'hex'))
const toKey = (k) => (typeof k === 'string' ? k : hex(k))

function main (input) {
  Date.now = () => input.wallNow
  const forwards = new Map()
  const dht = {
    id: buf(input.id),
    _router: {
      get: (k) => forwards.get(toKey(k)) || null,
      set: (k, v) => forwards.set(toKey(k), v),
      delete: (k) => forwards.delete(toKey(k))
    },
    plugins: new Map()
  }
  const maxSize = 65536
  const maxAge = 20 * 60 * 1000
  const p = new Persistent(dht, {
    records: { maxSize, maxAge },
    refreshes: { maxSize, maxAge },
    mutables: { maxSize: maxSize / 2, maxAge: 48 * 60 * 60 * 1000 },
    immutables: { maxSize: maxSize / 2, maxAge: 48 * 60 * 60 * 1000 },
    bumps: { maxSize, maxAge }
  })

  const answers = []
  for (const s of input.steps) {
    let answer = { kind: 'none' }
    const req = {
      command: s.command,
      target: buf(s.target),
      token: buf(s.token),
      value: buf(s.value),
      from: { host: s.from.host, port: s.from.port, id: null },
      reply (value, opts = {}) {
        answer = { kind: 'reply', value: hex(value), error: 0, token: opts.token !== false, closerNodes: opts.closerNodes !== false }
      },
      error (code, opts = {}) {
        answer = { kind: 'error', value: null, error: code, token: opts.token === true, closerNodes: opts.closerNodes !== false }
      }
    }
    switch (req.command) {
      case COMMANDS.FIND_PEER: p.onfindpeer(req); break
      case COMMANDS.LOOKUP: p.onlookup(req); break
      case COMMANDS.ANNOUNCE: p.onannounce(req); break
      case COMMANDS.UNANNOUNCE: p.onunannounce(req); break
      case COMMANDS.MUTABLE_PUT: p.onmutableput(req); break
      case COMMANDS.MUTABLE_GET: p.onmutableget(req); break
      case COMMANDS.IMMUTABLE_PUT: p.onimmutableput(req); break
      case COMMANDS.IMMUTABLE_GET: p.onimmutableget(req); break
      case COMMANDS.PLUGIN: p.onplugin(req); break
    }
    answers.push(answer)
  }
  const router = {}
  for (const [k, v] of forwards) router[k] = { relay: { host: v.relay.host, port: v.relay.port }, record: hex(v.record) }
  p.destroy()
  process.stdout.write(JSON.stringify({ answers, router }) + '\n')
}

let data = ''
process.stdin.on('data', (d) => { data += d })
process.stdin.on('end', () => main(JSON.parse(data)))
