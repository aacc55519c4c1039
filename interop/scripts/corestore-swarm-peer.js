// The seed example 4 with JS corestore 7.12.5 + hyperswarm, for the hyperpunch CLI interop tests.
// JSON lines on stdout; argv[2] is a JSON object {mode, bootstrap: ["host:port"], key?}.
//
//   mode "write": cores "main", "short", "long" in a temp store; prints ready {mainKey}. stdin
//     commands {"cmd": "line", "text"}: a text of 5+ characters goes to "long", a shorter one to
//     "short" (printing appended {core: "long"|"short"}); the first time a core has data its key is
//     appended to "main" as one raw 32-byte block. Joins each core's discovery key as a server.
//   mode "read": follows main core `key` (joined as client+server) live; for each 32-byte block it
//     follows that core and prints block {core, index, text}; a block of another size prints
//     skipped {index, length}.
//   {"cmd": "exit"} closes everything and exits 0.
'use strict'
const os = require('os')
const fs = require('fs')
const path = require('path')
const readline = require('readline')
const Hyperswarm = require('hyperswarm')
const Corestore = require('corestore')
const b4a = require('b4a')

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => b4a.toString(b, 'hex')
const bootstrap = (opts.bootstrap || []).map((s) => {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
})

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corestore-swarm-'))
const store = new Corestore(path.join(dir, 'store'))
const swarm = new Hyperswarm({ bootstrap })
swarm.on('connection', (conn) => {
  conn.on('error', () => {})
  store.replicate(conn)
})

async function follow (core) {
  await core.ready()
  for await (const block of core.createReadStream({ live: true })) {
    out({ event: 'block', core: hex(core.key), index: follow.index.get(core) || 0, text: b4a.toString(block) })
    follow.index.set(core, (follow.index.get(core) || 0) + 1)
  }
}
follow.index = new Map()

async function write () {
  const main = store.get({ name: 'main' })
  const short = store.get({ name: 'short' })
  const long = store.get({ name: 'long' })
  await Promise.all([main.ready(), short.ready(), long.ready()])
  const announced = new Set()
  for (let i = 0; i < main.length; i++) announced.add(hex(await main.get(i)))
  for (const core of [main, short, long]) swarm.join(core.discoveryKey, { server: true, client: false })
  await swarm.flush()
  out({ event: 'ready', mainKey: hex(main.key) })
  return async (cmd) => {
    if (cmd.cmd !== 'line') return
    const target = cmd.text.length >= 5 ? long : short
    await target.append(b4a.from(cmd.text))
    if (!announced.has(hex(target.key))) {
      announced.add(hex(target.key))
      await main.append(target.key)
    }
    out({ event: 'appended', core: target === long ? 'long' : 'short' })
  }
}

async function read () {
  const main = store.get({ key: b4a.from(opts.key, 'hex') })
  await main.ready()
  swarm.join(main.discoveryKey)
  out({ event: 'ready' })
  const seen = new Set()
  ;(async () => {
    let i = 0
    for await (const block of main.createReadStream({ live: true })) {
      if (block.byteLength !== 32) out({ event: 'skipped', index: i, length: block.byteLength })
      else if (!seen.has(hex(block))) {
        seen.add(hex(block))
        follow(store.get({ key: block })).catch(() => {})
      }
      i++
    }
  })().catch(() => {})
  return async () => {}
}

async function main () {
  const handle = opts.mode === 'write' ? await write() : await read()
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    if (cmd.cmd === 'exit') break
    await handle(cmd)
  }
  await swarm.destroy()
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: err.stack || String(err) })
  process.exit(1)
})
