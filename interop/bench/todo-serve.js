// The JS twin of `hyperpunch todo serve --local`, for bench/bench_todo.py: one Node process with a
// JS DHT testnet (@hyperswarm/testnet), the pinned @hyperswarm/dht-relay 0.4.3 relay (`relay()` on
// a `ws` server at /relay) and the built page over HTTP on ONE port (GET /list -> the key), plus the
// list's always-on peer: the same client code as the page (browser/todo/client.js) on a native
// HyperDHT, in memory, creating the list (its indexer) and adding every page as a writer. The pages
// use the relay in non-custodial mode, as they do with `hyperpunch todo serve`.
//
// usage: node todo-serve.js '{"web": "<built page dir>"}'
// stdout: {"event":"ready","url":"http://127.0.0.1:<port>/#<key>","key":…,"pid":…}
// stdin: a line or EOF -> shuts down, {"event":"closed"}
// TODO_SERVE_DEBUG=1: the always-on peer's debug lines (every connection and writer key it gets) on stderr
'use strict'
const http = require('http')
const fs = require('fs')
const path = require('path')
const readline = require('readline')
const HyperDHT = require('hyperdht')
const createTestnet = require('@hyperswarm/testnet')
const { relay } = require('@hyperswarm/dht-relay')
const Stream = require('@hyperswarm/dht-relay/ws')
const { WebSocketServer } = require('ws')

const HOST = '127.0.0.1'
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' }
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

async function main () {
  const opts = JSON.parse(process.argv[2] || '{}')
  const web = path.resolve(opts.web)
  const { openTodoList } = await import('../browser/todo/client.js')
  const testnet = await createTestnet(3, { host: HOST })
  const bootstrap = testnet.bootstrap
  const relayDht = new HyperDHT({ bootstrap, host: HOST })
  // The always-on peer's node says it is reachable (firewalled: false; it is, on loopback), so its server answers a
  // connect with "open, connect to me" and waits for the first packet. With the default (firewall
  // unknown) the server takes the LAN path, sets up a holepuncher and aborts the raw stream when its
  // punch rounds end with no packet on it; a page's non-custodial connect through this relay
  // (dht-relay 0.4.3 on hyperdht 6.34) sends its first packet only once the page's secret-stream
  // header has crossed the WebSocket (the relay's StreamProxy sends nothing of its own), which lost
  // that race always from Chromium (about one time in two from Node): the pages stayed read-only.
  const peerDht = new HyperDHT({ bootstrap, host: HOST, firewalled: false })
  await Promise.all([relayDht.fullyBootstrapped(), peerDht.fullyBootstrapped()])
  const debug = process.env.TODO_SERVE_DEBUG ? (m) => process.stderr.write('todo-serve: ' + m + '\n') : undefined
  const list = await openTodoList({ dht: peerDht, debug })
  if (debug) {
    const orig = list._onWriterKey.bind(list)
    list._onWriterKey = (key) => { debug('writer key ' + (key && key.toString('hex')) + ' writable=' + list.base.writable); return orig(key) }
    const origConn = list._onConnection.bind(list)
    list._onConnection = (conn, remoteKey) => {
      debug('connection from ' + remoteKey.toString('hex'))
      return origConn(conn, remoteKey)
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/list') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(list.key + '\n')
      return
    }
    const name = url.pathname === '/' ? 'index.html' : path.basename(url.pathname)
    fs.readFile(path.join(web, name), (err, body) => {
      if (err) { res.writeHead(404); res.end('not found'); return }
      res.writeHead(200, { 'content-type': TYPES[path.extname(name)] || 'application/octet-stream' })
      res.end(body)
    })
  })
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url, 'http://x').pathname !== '/relay') { socket.destroy(); return }
    wss.handleUpgrade(req, socket, head, (ws) => relay(relayDht, new Stream(false, ws)))
  })
  await new Promise((resolve) => server.listen(0, HOST, resolve))
  const port = server.address().port
  out({ event: 'ready', url: `http://${HOST}:${port}/#${list.key}`, key: list.key, pid: process.pid })

  const rl = readline.createInterface({ input: process.stdin })
  await new Promise((resolve) => { rl.once('line', resolve); rl.once('close', resolve) })
  rl.close()
  for (const ws of wss.clients) ws.terminate()
  server.close()
  await list.close()
  await peerDht.destroy()
  await relayDht.destroy()
  await testnet.destroy()
  out({ event: 'closed' })
  process.exit(0)
}

main().catch((err) => {
  out({ event: 'error', message: String(err && err.stack) })
  process.exit(1)
})
