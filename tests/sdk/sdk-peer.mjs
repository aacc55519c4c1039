// A hyper-sdk 4.5.1 peer (in-memory storage, DHT bound to 127.0.0.1) for the hyperpunch SDK
// interop tests, speaking JSON lines.
//
//   node sdk-peer.mjs '{"bootstrap": ["host:port"], "autoJoin"?: bool}'
// stdout: ready {publicKey}; peer-add / peer-remove {publicKey} (SDK-wide); core-peer-add /
//   core-peer-remove {id, publicKey} (watched cores); one reply per command: {event: "ok", id, ...}.
// stdin {"cmd": ..., "id": n}: get {x (string, or hex with "hex": true)} -> {key, url, length,
//   writable}; append {x, texts} -> {length}; truncate {x, length} -> {length, fork}; read {x, index} -> {text}; update {x} -> {length};
//   watch {x} (core peer events); joinCore {x}; join {topic}; joinPeer {publicKey}; bee-put {x, key,
//   value}; bee-get {x, key} -> {value}; ext {x, name} (register a json extension, incoming
//   messages -> ext-message {name, message}); ext-send {x, name, message} (broadcast); exit.
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const mod = async (p) => {
  const m = await import(pathToFileURL(path.join(root, 'interop', 'sdk', 'node_modules', p)).href)
  return m.default || m
}
const { create } = await import(pathToFileURL(path.join(root, 'interop', 'sdk', 'node_modules', 'hyper-sdk', 'index.js')).href)
const DHT = await mod('hyperdht/index.js')
const b4a = await mod('b4a/index.js')

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => b4a.toString(b, 'hex')
const bootstrap = (opts.bootstrap || []).map((s) => {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
})

const dht = new DHT({ bootstrap, host: '127.0.0.1' })
const sdk = await create({ storage: false, autoJoin: opts.autoJoin !== false, swarmOpts: { dht } })
sdk.on('peer-add', (info) => out({ event: 'peer-add', publicKey: hex(info.publicKey) }))
sdk.on('peer-remove', (info) => out({ event: 'peer-remove', publicKey: hex(info.publicKey) }))
sdk.swarm.on('connection', (conn) => conn.on('error', () => {}))

const arg = (msg) => (msg.hex ? b4a.from(msg.x, 'hex') : msg.x)
const extensions = new Map()
const bee = (msg) => sdk.getBee(arg(msg), { keyEncoding: 'utf-8', valueEncoding: 'utf-8' })

async function handle (msg) {
  switch (msg.cmd) {
    case 'get': {
      const core = await sdk.get(arg(msg))
      return { key: hex(core.key), url: core.url, z32: core.id, length: core.length, peers: core.peers.length, writable: core.writable, discoveryKey: hex(core.discoveryKey) }
    }
    case 'append': {
      const core = await sdk.get(arg(msg))
      await core.append(msg.texts.map((t) => b4a.from(t)))
      return { length: core.length }
    }
    case 'truncate': {
      const core = await sdk.get(arg(msg))
      await core.truncate(msg.length)
      return { length: core.length, fork: core.fork }
    }
    case 'read': {
      const core = await sdk.get(arg(msg))
      const v = await core.get(msg.index)
      return { text: b4a.toString(v) }
    }
    case 'update': {
      const core = await sdk.get(arg(msg))
      await core.update()
      return { length: core.length }
    }
    case 'watch': {
      const core = await sdk.get(arg(msg))
      core.on('peer-add', (peer) => out({ event: 'core-peer-add', x: msg.x, publicKey: hex(peer.remotePublicKey) }))
      core.on('peer-remove', (peer) => out({ event: 'core-peer-remove', x: msg.x, publicKey: hex(peer.remotePublicKey) }))
      // peers that came while get() joined (before these listeners) are reported now
      for (const peer of core.peers) out({ event: 'core-peer-add', x: msg.x, publicKey: hex(peer.remotePublicKey) })
      return { peers: core.peers.length }
    }
    case 'joinCore': {
      const core = await sdk.get(arg(msg))
      await sdk.joinCore(core)
      return {}
    }
    case 'join': {
      const d = sdk.join(msg.topic)
      await d.flushed()
      return {}
    }
    case 'joinPeer': {
      sdk.joinPeer(b4a.from(msg.publicKey, 'hex'))
      return {}
    }
    case 'bee-put': {
      const b = await bee(msg)
      await b.put(msg.key, msg.value)
      return { url: b.url, version: b.version }
    }
    case 'bee-get': {
      const b = await bee(msg)
      await b.core.update()
      const node = await b.get(msg.key)
      return { value: node ? node.value : null, url: b.url }
    }
    case 'ext': {
      const core = await sdk.get(arg(msg))
      const ext = core.registerExtension(msg.name, {
        encoding: 'json',
        onmessage: (message, peer) => out({ event: 'ext-message', name: msg.name, message, publicKey: hex(peer.remotePublicKey) })
      })
      extensions.set(msg.name, ext)
      return {}
    }
    case 'ext-send': {
      extensions.get(msg.name).broadcast(msg.message)
      return {}
    }
    case 'exit': {
      await sdk.close()
      await dht.destroy()
      out({ event: 'ok', id: msg.id })
      process.exit(0)
    }
  }
  throw new Error('unknown command ' + msg.cmd)
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const msg = JSON.parse(line)
  handle(msg).then(
    (res) => out({ event: 'ok', id: msg.id, ...res }),
    (err) => out({ event: 'error', id: msg.id, message: err.stack || String(err) })
  )
})
rl.on('close', async () => { await sdk.close(); await dht.destroy(); process.exit(0) })
out({ event: 'ready', publicKey: hex(sdk.publicKey) })
