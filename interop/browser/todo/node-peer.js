// A headless todo peer on the same client code as the page (client.js), for tests and scripts.
//
//   node node-peer.js '<json opts>'
//     opts: listKey (hex; none = create a list), bootstrap (["host:port"]; native HyperDHT),
//           relayUrl (ws://…/relay: through a dht-relay instead), custodial, storage (a directory;
//           none = in memory), announce (false = client only)
//
// Writes JSON lines on stdout:
//   {"ready": true, "key": <list hex>, "local": <writer key hex>, "writable": bool}
//   {"status": {connection, peers, writable}}              whenever it changes
//   {"todos": [{id, text, done}, ...]}                       whenever the list changes
//   {"ok": <command name>, "id"?: ...} / {"error": <code>, "message", "command"}  per command
// Reads JSON commands on stdin, one per line:
//   {"add": text} {"edit": [id, text]} {"done": [id, bool]} {"rm": id} {"clear": true}
//   {"todos": true} (prints the list now) {"raw": <hex>} (appends raw bytes as one node: a hostile
//   writer) {"drop": true} (closes the relay socket; it reconnects) {"exit": true}
import readline from 'readline'
import HyperDHT from 'hyperdht'
import b4a from 'b4a'
import { openTodoList } from './client.js'

const opts = JSON.parse(process.argv[2] || '{}')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

function parseBootstrap (list) {
  return (list || []).map((s) => {
    const i = s.lastIndexOf(':')
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
  })
}

async function main () {
  let dht = null
  const listOpts = {
    listKey: opts.listKey || null,
    storage: opts.storage || null,
    custodial: opts.custodial === true,
    announce: opts.announce !== false,
    debug: (line) => process.stderr.write(new Date().toISOString().slice(14, 23) + ' ' + line + '\n')
  }
  if (opts.relayUrl) {
    listOpts.relayUrl = opts.relayUrl
    listOpts.WebSocket = globalThis.WebSocket || (await import('ws')).default
  } else {
    dht = new HyperDHT({ bootstrap: parseBootstrap(opts.bootstrap), host: '127.0.0.1' })
    await dht.ready()
    listOpts.dht = dht
  }
  const list = await openTodoList(listOpts)
  let last = ''
  const printTodos = async (force) => {
    const todos = await list.todos()
    const line = JSON.stringify(todos)
    if (!force && line === last) return
    last = line
    out({ todos })
  }
  list.on('status', (status) => out({ status }))
  list.on('change', () => printTodos(false).catch((err) => out({ error: 'READ', message: String(err) })))
  out({ ready: true, key: list.key, local: b4a.toString(list.base.local.key, 'hex'), writable: list.writable })
  out({ status: list.status })
  await printTodos(true)

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    const name = Object.keys(cmd)[0]
    if (name === 'exit') break
    try {
      if (name === 'add') out({ ok: 'add', id: await list.add(cmd.add) })
      else if (name === 'edit') { await list.edit(cmd.edit[0], cmd.edit[1]); out({ ok: 'edit' }) }
      else if (name === 'done') { await list.setDone(cmd.done[0], cmd.done[1]); out({ ok: 'done' }) }
      else if (name === 'rm') { await list.remove(cmd.rm); out({ ok: 'rm' }) }
      else if (name === 'clear') out({ ok: 'clear', removed: await list.clearCompleted() })
      else if (name === 'todos') await printTodos(true)
      else if (name === 'raw') { await list.base.append(b4a.from(cmd.raw, 'hex')); out({ ok: 'raw' }) }
      else if (name === 'peers') out({ ok: 'peers', peers: corePeers(list.base.local) })
      else if (name === 'drop') { list.dropConnection(); out({ ok: 'drop' }) }
      else out({ error: 'BAD_COMMAND', message: 'unknown command ' + name, command: name })
    } catch (err) {
      out({ error: err.code || 'ERROR', message: String(err.message || err), command: name })
    }
  }
  rl.close()
  await list.close()
  if (dht) await dht.destroy()
  out({ closed: true })
  process.exit(0)
}

// diagnostics: how the local writer core's replicator sees each peer
function corePeers (core) {
  return core.core.replicator.peers.map((p) => ({
    paused: p.paused,
    removed: p.removed,
    remoteLength: p.remoteLength,
    remoteFork: p.remoteFork,
    inflight: p.inflight,
    remoteRequests: p.remoteRequests.size,
    receiverQueue: p.receiverQueue.length,
    receiverBusy: p.receiverBusy,
    drained: p.protomux.drained,
    pushedLength: p.pushedLength,
    remoteAllowPush: p.remoteAllowPush,
    stats: { backoffs: p.stats.backoffs, notAvailable: p.stats.notAvailableBackoffs }
  }))
}

main().catch((err) => {
  out({ error: 'FATAL', message: err.stack || String(err) })
  process.exit(1)
})
