// The seed example 3 reader in JS (hypercore 11.37.1 + hyperswarm 4.17.2), for the hyperpunch CLI
// interop tests: prints "Skipping <n> earlier blocks..." then "Block <i>: <text>" live, until
// SIGINT/SIGTERM.
//   node core-reader.js <storage dir> <bootstrap host:port,...> <key hex>
'use strict'
const Hyperswarm = require('hyperswarm')
const DHT = require('hyperdht')
const Hypercore = require('hypercore')
const b4a = require('b4a')

const [storage, bootstrapArg, key] = process.argv.slice(2)
const bootstrap = bootstrapArg.split(',').map((s) => ({ host: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) }))

let stopping = false

async function main () {
  const swarm = new Hyperswarm({ dht: new DHT({ bootstrap, host: '127.0.0.1' }) })
  const core = new Hypercore(storage, b4a.from(key, 'hex'))
  await core.ready()

  const stop = async () => { stopping = true; await swarm.destroy(); await core.close(); process.exit(0) }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  const foundPeers = core.findingPeers()
  swarm.join(core.discoveryKey)
  swarm.on('connection', (conn) => { conn.on('error', () => {}); core.replicate(conn) })
  swarm.flush().then(() => foundPeers())

  await core.update()
  let position = core.length
  console.log(`Skipping ${core.length} earlier blocks...`)
  for await (const block of core.createReadStream({ start: core.length, live: true })) {
    console.log(`Block ${position++}: ${block}`)
  }
}

main().catch((err) => {
  if (stopping) return // the read stream ends with the closing core
  console.error(err)
  process.exit(1)
})
