// A dht-rpc 6.27 testnet on 127.0.0.1 for the Python interop tests, speaking JSON lines.
// usage: node dhtrpc-testnet.js <count> [bootstrap host:port,host:port]
//   Without bootstrap: node 0 is a bootstrapper (persistent, not firewalled) and count-1 more
//   persistent nodes join it. With bootstrap: count persistent nodes join the given nodes.
//   Every node answers user command 42 with reply("js:" + value) and counts requests carrying a
//   (valid) token; other user commands get UNKNOWN_COMMAND.
// stdout: {"event":"ready","bootstrap":[{host,port}],"nodes":[{host,port,id}]}
// stdin commands (one JSON per line), each answered by one {"event":"result","id":n,...}:
//   {"cmd":"find_node","id":n,"node":i,"target":hex}  -> closest [{host,port,id}], replies count
//   {"cmd":"query","id":n,"node":i,"target":hex,"command":c,"value":hex,"commit":bool}
//   {"cmd":"request","id":n,"node":i,"to":{host,port},"command":c,"value":hex,"token":hex?}
//   {"cmd":"ping","id":n,"node":i,"to":{host,port}}
//   {"cmd":"table","id":n,"node":i}    -> nodes in the routing table [{host,port,id}]
//   {"cmd":"stats","id":n}             -> per node {requests42, tokened42}
//   {"cmd":"spawn","id":n,"count":c,"bootstrap":[{host,port}]} -> more nodes joining those
//   {"cmd":"close"}
'use strict'
const DHT = require('dht-rpc')
const UDX = require('udx-native')
const readline = require('readline')
const b4a = require('b4a')

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const HOST = '127.0.0.1'
const nodes = []
const stats = []

function instrument (dht) {
  const s = { requests42: 0, tokened42: 0 }
  stats.push(s)
  dht.on('request', (req) => {
    if (req.command !== 42) {
      req.error(DHT.ERROR_UNKNOWN_COMMAND)
      return
    }
    s.requests42++
    if (req.token) s.tokened42++
    req.reply(b4a.concat([b4a.from('js:'), req.value || b4a.alloc(0)]))
  })
  nodes.push(dht)
  return dht
}

async function freePort () {
  const udx = new UDX()
  const s = udx.createSocket()
  s.bind(0, HOST)
  const port = s.address().port
  await s.close()
  return port
}

const describe = (dht) => ({ host: HOST, port: dht.io.serverSocket.address().port, id: hex(dht.id) })

async function spawn (count, bootstrap) {
  const made = []
  for (let i = 0; i < count; i++) {
    made.push(instrument(new DHT({ bootstrap, host: HOST, ephemeral: false })))
  }
  await Promise.all(made.map((d) => d.fullyBootstrapped()))
  return made
}

async function main () {
  const count = Number(process.argv[2] || 4)
  let bootstrap = (process.argv[3] || '').split(',').filter(Boolean).map((s) => {
    const [host, port] = s.split(':')
    return { host, port: Number(port) }
  })
  if (bootstrap.length === 0) {
    const port = await freePort()
    const b = instrument(DHT.bootstrapper(port, HOST, { host: HOST }))
    await b.fullyBootstrapped()
    bootstrap = [{ host: HOST, port }]
    await spawn(count - 1, bootstrap)
  } else {
    await spawn(count, bootstrap)
  }
  out({ event: 'ready', bootstrap, nodes: nodes.map(describe) })

  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const msg = JSON.parse(line)
    if (msg.cmd === 'close') break
    handle(msg).catch((err) => out({ event: 'result', id: msg.id, error: err.code || err.message }))
  }
  await Promise.all(nodes.map((d) => d.destroy()))
  process.exit(0)
}

async function handle (msg) {
  const dht = nodes[msg.node || 0]
  if (msg.cmd === 'find_node') {
    const q = dht.findNode(b4a.from(msg.target, 'hex'))
    let replies = 0
    for await (const _ of q) replies++ // eslint-disable-line no-unused-vars
    out({ event: 'result', id: msg.id, replies, closest: q.closestNodes.map((n) => ({ host: n.host, port: n.port, id: hex(n.id) })) })
  } else if (msg.cmd === 'query') {
    const q = dht.query({ target: b4a.from(msg.target, 'hex'), command: msg.command, value: msg.value ? b4a.from(msg.value, 'hex') : null }, { commit: !!msg.commit })
    const values = []
    for await (const r of q) values.push({ host: r.from.host, port: r.from.port, value: hex(r.value), token: !!r.token })
    out({ event: 'result', id: msg.id, values, closest: q.closestNodes.map((n) => ({ host: n.host, port: n.port, id: hex(n.id) })) })
  } else if (msg.cmd === 'request') {
    const res = await dht.request({ command: msg.command, value: msg.value ? b4a.from(msg.value, 'hex') : null, token: msg.token ? b4a.from(msg.token, 'hex') : null, target: msg.target ? b4a.from(msg.target, 'hex') : null }, msg.to)
    out({ event: 'result', id: msg.id, error: res.error, value: hex(res.value), token: hex(res.token), from: { host: res.from.host, port: res.from.port, id: hex(res.from.id) }, to: res.to, closer: (res.closerNodes || []).map((n) => ({ host: n.host, port: n.port })) })
  } else if (msg.cmd === 'ping') {
    const res = await dht.ping(msg.to)
    out({ event: 'result', id: msg.id, from: { host: res.from.host, port: res.from.port, id: hex(res.from.id) }, to: res.to })
  } else if (msg.cmd === 'table') {
    out({ event: 'result', id: msg.id, nodes: dht.table.toArray().map((n) => ({ host: n.host, port: n.port, id: hex(n.id) })) })
  } else if (msg.cmd === 'stats') {
    out({ event: 'result', id: msg.id, stats })
  } else if (msg.cmd === 'spawn') {
    const made = await spawn(msg.count, msg.bootstrap)
    out({ event: 'result', id: msg.id, nodes: made.map(describe) })
  } else {
    out({ event: 'result', id: msg.id, error: 'unknown cmd ' + msg.cmd })
  }
}

main().catch((err) => { out({ event: 'error', message: String(err && err.stack) }); process.exit(1) })
