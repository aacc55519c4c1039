// A hypercore 11.37.1 replication peer over @hyperswarm/secret-stream over TCP 127.0.0.1, for
// hyperpunch's replication interop tests, speaking JSON lines.
//
//   node hypercore-repl-peer.js '{"listen": true}'                      writer (new core), server
//   node hypercore-repl-peer.js '{"port": N, "key": hex}'                reader of key, client
//   options: "listen" (server on port 0) or "port" (connect); "key" (reader) else a new writer
//   core; "size" block size (default 64).
//
// Block i is the uint32 LE i repeated to "size" bytes (the Python tests use the same function).
// stdout events: ready {key, discoveryKey, length, port?}; connected; appended {length};
// updated {ok, length}; downloaded {length}; digest {start, end, sha256}; block {index, hex};
// append {length} (live, after "live"); truncated {length, fork}; has {start, end, all};
// stream-close; pong {id}.
// stdin commands ({"cmd": ...}): append {start, count}; update; download {start, end};
// digest {start, end}; get {index}; has {start, end}; live; truncate {length};
// append-raw {hex}; info; ping {id}; exit.
// info -> {length, fork, contiguousLength, peers}.
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const readline = require('readline')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Hypercore = require('hypercore')
const b4a = require('b4a')

const opts = JSON.parse(process.argv[2] || '{}')
const SIZE = opts.size || 64
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const block = (i) => { const b = b4a.alloc(SIZE); for (let j = 0; j + 4 <= SIZE; j += 4) b.writeUInt32LE(i >>> 0, j); return b }

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-repl-peer-'))
let core = null
let stream = null

function attach (s) {
  stream = s
  s.on('error', () => {})
  s.on('close', () => out({ event: 'stream-close' }))
  core.replicate(s)
  out({ event: 'connected' })
}

async function main () {
  core = new Hypercore(path.join(dir, 'core'), opts.key ? b4a.from(opts.key, 'hex') : null)
  await core.ready()
  const ready = { event: 'ready', key: b4a.toString(core.key, 'hex'), discoveryKey: b4a.toString(core.discoveryKey, 'hex'), length: core.length }
  if (opts.listen) {
    const server = net.createServer((socket) => attach(new NoiseSecretStream(false, socket)))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    ready.port = server.address().port
  }
  out(ready)
  if (opts.port) attach(new NoiseSecretStream(true, net.connect(opts.port, '127.0.0.1')))

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    await run(cmd)
    if (cmd.cmd === 'exit') break
  }
}

async function digest (start, end) {
  const h = crypto.createHash('sha256')
  for (let i = start; i < end; i++) h.update(await core.get(i, { wait: false }) || b4a.alloc(0))
  return h.digest('hex')
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
    case 'append-raw': {
      await core.append(b4a.from(cmd.hex, 'hex'))
      return out({ event: 'appended', length: core.length })
    }
    case 'update': {
      const ok = await core.update({ wait: true })
      return out({ event: 'updated', ok, length: core.length })
    }
    case 'download': {
      await core.download({ start: cmd.start, end: cmd.end }).done()
      return out({ event: 'downloaded', length: core.length })
    }
    case 'digest':
      return out({ event: 'digest', start: cmd.start, end: cmd.end, sha256: await digest(cmd.start, cmd.end) })
    case 'get': {
      const v = await core.get(cmd.index)
      return out({ event: 'block', index: cmd.index, hex: b4a.toString(v, 'hex') })
    }
    case 'has':
      return out({ event: 'has', start: cmd.start, end: cmd.end, all: await core.has(cmd.start, cmd.end) })
    case 'live':
      core.on('append', () => out({ event: 'append', length: core.length }))
      return
    case 'truncate':
      await core.truncate(cmd.length)
      return out({ event: 'truncated', length: core.length, fork: core.fork })
    case 'info':
      return out({ event: 'info', length: core.length, fork: core.fork, contiguousLength: core.contiguousLength, peers: core.peers.length })
    case 'ping':
      return out({ event: 'pong', id: cmd.id })
    case 'exit':
      if (stream) stream.destroy()
      await core.close()
      fs.rmSync(dir, { recursive: true, force: true })
      process.exit(0)
  }
}

main().catch((err) => { console.error(err); process.exit(1) })
