// The upstream dht-relay client on a WebSocket whose Protomux it shares with a channel of our own
// ("hyperpunch/relay-side", utf8 messages), while a Hypercore replicates over a relayed connection
// (JS repo tests mux.mjs + replication.mjs; dht-relay issue #25). Speaks JSON lines.
// usage: node relay-mux-replicate.js <json opts>
//   opts: {url, custodial?: bool (default true), serverKey: hex, coreKey: hex, storage: dir}
// The relay side must answer each "ping <i>" on the side channel with "pong <i>".
// For each block i it sends "ping i", then reads block i through the relayed connection.
// stdout: {"event":"replicated","length":n,"sha256":hex of the blocks in order,"pongs":n}
//      or {"event":"error","message":...}
'use strict'
const DHT = require('@hyperswarm/dht-relay')
const Stream = require('@hyperswarm/dht-relay/ws')
const Protomux = require('protomux')
const Hypercore = require('hypercore')
const c = require('compact-encoding')
const WebSocket = require('ws')
const crypto = require('crypto')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  const ws = new WebSocket(opts.url)
  const mux = new Protomux(new Stream(true, ws))
  let pongs = 0
  let wantPongs = -1
  let allPongs = null
  const pongsDone = new Promise((resolve) => { allPongs = resolve })
  const side = mux.createChannel({ protocol: 'hyperpunch/relay-side' })
  const msg = side.addMessage({
    encoding: c.string,
    onmessage (text) {
      if (text === 'pong ' + pongs) pongs++
      if (pongs === wantPongs) allPongs()
    }
  })
  side.open()
  const dht = new DHT(mux, { custodial: opts.custodial !== false })

  const core = new Hypercore(opts.storage, b4a.from(opts.coreKey, 'hex'))
  await core.ready()
  const conn = dht.connect(b4a.from(opts.serverKey, 'hex'))
  conn.on('error', (err) => { out({ event: 'error', message: String(err && err.message) }); process.exit(1) })
  core.replicate(conn)
  await core.update({ wait: true })
  const hash = crypto.createHash('sha256')
  for (let i = 0; i < core.length; i++) {
    msg.send('ping ' + i)
    hash.update(await core.get(i))
  }
  wantPongs = core.length
  if (pongs === wantPongs) allPongs()
  await pongsDone
  out({ event: 'replicated', length: core.length, sha256: hash.digest('hex'), pongs })
  conn.destroy()
  await core.close()
  await dht.destroy()
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
