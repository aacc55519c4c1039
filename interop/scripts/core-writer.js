// The seed example 3 writer in JS (hypercore 11.37.1 + hyperswarm 4.17.2), for the hyperpunch CLI
// interop tests: prints "hypercore key: <hex>", appends each stdin line (without its newline) as a
// block and serves the core until SIGINT/SIGTERM.
//   node core-writer.js <storage dir> <bootstrap host:port,...>
'use strict'
const readline = require('readline')
const Hyperswarm = require('hyperswarm')
const DHT = require('hyperdht')
const Hypercore = require('hypercore')
const b4a = require('b4a')

const [storage, bootstrapArg] = process.argv.slice(2)
const bootstrap = bootstrapArg.split(',').map((s) => ({ host: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) }))

let stopping = false

async function main () {
  const swarm = new Hyperswarm({ dht: new DHT({ bootstrap, host: '127.0.0.1' }) })
  const core = new Hypercore(storage)
  await core.ready()
  console.log('hypercore key:', b4a.toString(core.key, 'hex'))

  const stop = async () => { stopping = true; await swarm.destroy(); await core.close(); process.exit(0) }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  swarm.join(core.discoveryKey)
  swarm.on('connection', (conn) => { conn.on('error', () => {}); core.replicate(conn) })

  for await (const line of readline.createInterface({ input: process.stdin })) await core.append(b4a.from(line))
}

main().catch((err) => {
  if (stopping) return // the read stream ends with the closing core
  console.error(err)
  process.exit(1)
})
