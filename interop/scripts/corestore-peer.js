// A corestore 7.12.5 peer over @hyperswarm/secret-stream over TCP 127.0.0.1, for hyperpunch's
// corestore interop tests, speaking JSON lines. One store in a fresh temporary directory.
//
//   node corestore-peer.js '{"listen": true}'    server on port 0 (prints ready {port})
//   node corestore-peer.js '{}'                  client: connect later with {"cmd": "connect"}
//
// Block i of core c is utf8 "core <c> block <i>" (the Python tests use the same function).
// stdin commands ({"cmd": ...}) and their replies:
//   fill {cores, blocks, prefix?} -> filled {keys}: named cores "<prefix><c>" (default "core-"),
//       each with `blocks` blocks; the sessions are closed again (cores stay in storage).
//   connect {port} -> connected                 replicate over a new client stream
//   read {keys, blocks} -> read {ok, lengths}   get every block of every key (waits), checks them
//   append {name, text} -> appended {key, length}
//   list -> list {discoveryKeys}
//   exit                                        close everything and exit 0
// Other events: ready {port?}, stream-close.
'use strict'
const net = require('net')
const os = require('os')
const fs = require('fs')
const path = require('path')
const readline = require('readline')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const Corestore = require('corestore')
const b4a = require('b4a')

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const block = (c, i) => b4a.from(`core ${c} block ${i}`)
const hex = (b) => b4a.toString(b, 'hex')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corestore-peer-'))
const store = new Corestore(path.join(dir, 'store'))
const streams = []

function attach (s) {
  streams.push(s)
  s.on('error', () => {})
  s.on('close', () => out({ event: 'stream-close' }))
  store.replicate(s)
}

async function main () {
  await store.ready()
  const ready = { event: 'ready' }
  if (opts.listen) {
    const server = net.createServer((socket) => attach(new NoiseSecretStream(false, socket)))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    ready.port = server.address().port
  }
  out(ready)
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    try {
      await run(cmd)
    } catch (err) {
      out({ event: 'error', message: err.stack || String(err) })
    }
  }
}

async function run (cmd) {
  switch (cmd.cmd) {
    case 'fill': {
      const keys = []
      const prefix = cmd.prefix || 'core-'
      for (let c = 0; c < cmd.cores; c++) {
        const core = store.get({ name: prefix + c })
        await core.ready()
        const batch = []
        for (let i = 0; i < cmd.blocks; i++) batch.push(block(c, i))
        if (batch.length) await core.append(batch)
        keys.push(hex(core.key))
        await core.close()
      }
      return out({ event: 'filled', keys })
    }
    case 'connect': {
      attach(new NoiseSecretStream(true, net.connect(cmd.port, '127.0.0.1')))
      return out({ event: 'connected' })
    }
    case 'read': {
      const cores = cmd.keys.map((k) => store.get({ key: b4a.from(k, 'hex') }))
      let ok = true
      await Promise.all(cores.map(async (core, c) => {
        await core.ready()
        for (let i = 0; i < cmd.blocks; i++) {
          const v = await core.get(i, { timeout: 30000 })
          if (!b4a.equals(v, block(c, i))) ok = false
        }
      }))
      const lengths = cores.map((c) => c.length)
      const writable = cores.some((c) => c.writable)
      await Promise.all(cores.map((c) => c.close()))
      return out({ event: 'read', ok, lengths, writable })
    }
    case 'append': {
      const core = store.get({ name: cmd.name })
      await core.ready()
      await core.append(b4a.from(cmd.text))
      const res = { event: 'appended', key: hex(core.key), length: core.length }
      await core.close()
      return out(res)
    }
    case 'list': {
      const dks = []
      for await (const dk of store.list()) dks.push(hex(dk))
      return out({ event: 'list', discoveryKeys: dks.sort() })
    }
    case 'exit': {
      for (const s of streams) s.destroy()
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
      process.exit(0)
    }
  }
}

main().catch((err) => {
  out({ event: 'error', message: err.stack || String(err) })
  process.exit(1)
})
