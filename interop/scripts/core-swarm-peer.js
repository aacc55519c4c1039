// A hypercore 11.37.1 peer on hyperswarm 4.17.2 (DHT bound to 127.0.0.1) for the hyperpunch
// core-over-swarm tests, speaking JSON lines.
//
//   node core-swarm-peer.js '{"bootstrap": ["host:port"], "key"?: hex}'
//   no "key": a new writable core; with "key": a reader of that core. Both join the core's
//   discovery key as server + client and replicate the core over every connection.
//
// Block i is the text "block <i>" (tests/hypercore_swarm/core_helpers.py uses the same function).
// stdout events: ready {key, discoveryKey, length}; flushed; appended {length}; truncated {length,
// fork}; updated {ok, length}; downloaded {length}; digest {start, end, sha256}; block {index, text}
// (tail); info {length, fork, contiguousLength, peers}; has {start, end, all}.
// stdin commands ({"cmd": ...}): append {start, count} (blocks "block i"); append-texts {texts};
// truncate {length}; update; download {start, end}; digest {start, end}; has {start, end};
// tail {start} (block events, live, following truncations); info; exit.
'use strict'
const os = require('os')
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const readline = require('readline')
const Hyperswarm = require('hyperswarm')
const DHT = require('hyperdht')
const Hypercore = require('hypercore')
const b4a = require('b4a')

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => b4a.toString(b, 'hex')
const block = (i) => b4a.from(`block ${i}`)
const bootstrap = (opts.bootstrap || []).map((s) => {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
})

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-swarm-peer-'))
const core = new Hypercore(path.join(dir, 'core'), opts.key ? b4a.from(opts.key, 'hex') : null)
const swarm = new Hyperswarm({ dht: new DHT({ bootstrap, host: '127.0.0.1' }) })
swarm.on('connection', (conn) => {
  conn.on('error', () => {})
  core.replicate(conn)
})

async function digest (start, end) {
  const h = crypto.createHash('sha256')
  for (let i = start; i < end; i++) {
    const v = await core.get(i, { wait: false })
    h.update(v || b4a.alloc(0))
    h.update('\n')
  }
  return h.digest('hex')
}

// a live tail that follows truncations: after a truncation below the cursor it restarts there
async function tail (start) {
  let i = start
  core.on('truncate', (length) => { if (length < i) i = length })
  while (true) {
    const at = i
    const v = await core.get(at)
    if (at !== i) continue // truncated meanwhile: re-read from the new position
    out({ event: 'block', index: at, text: b4a.toString(v), fork: core.fork })
    i = at + 1
  }
}

async function run (cmd) {
  switch (cmd.cmd) {
    case 'append': {
      for (let i = cmd.start; i < cmd.start + cmd.count; i += 10000) {
        const batch = []
        for (let j = i; j < Math.min(cmd.start + cmd.count, i + 10000); j++) batch.push(block(j))
        await core.append(batch)
      }
      return out({ event: 'appended', length: core.length })
    }
    case 'append-texts':
      await core.append(cmd.texts.map((t) => b4a.from(t)))
      return out({ event: 'appended', length: core.length })
    case 'truncate':
      await core.truncate(cmd.length)
      return out({ event: 'truncated', length: core.length, fork: core.fork })
    case 'update': {
      const ok = await core.update({ wait: true })
      return out({ event: 'updated', ok, length: core.length })
    }
    case 'download':
      await core.download({ start: cmd.start, end: cmd.end }).done()
      return out({ event: 'downloaded', length: core.length })
    case 'digest':
      return out({ event: 'digest', start: cmd.start, end: cmd.end, sha256: await digest(cmd.start, cmd.end) })
    case 'has':
      return out({ event: 'has', start: cmd.start, end: cmd.end, all: await core.has(cmd.start, cmd.end) })
    case 'tail':
      tail(cmd.start || 0).catch((err) => out({ event: 'tail-end', message: String(err) }))
      return
    case 'info':
      return out({ event: 'info', length: core.length, fork: core.fork, contiguousLength: core.contiguousLength, peers: core.peers.length })
  }
}

async function main () {
  await core.ready()
  out({ event: 'ready', key: hex(core.key), discoveryKey: hex(core.discoveryKey), length: core.length })
  swarm.join(core.discoveryKey, { server: true, client: true })
  swarm.flush().then(() => out({ event: 'flushed' }), () => {})
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    if (cmd.cmd === 'exit') break
    await run(cmd)
  }
  await swarm.destroy()
  await core.close()
  fs.rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: err.stack || String(err) })
  process.exit(1)
})
