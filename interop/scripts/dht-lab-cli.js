// The JS twin of `hyperpunch dht serve|connect` (hyperdht 6.34), printing the same lines.
// usage: node dht-lab-cli.js serve [--seed hex] --bootstrap host:port,... [--host h]
//        node dht-lab-cli.js connect <public key hex> --bootstrap host:port,... [--host h]
// serve: `listening on: <key>`, then `got connection!` per client; client data goes to stdout,
//        stdin lines go to every client; ends the client's connection when the client ends.
// connect: `Connecting to: <key>`, `got connection!`; stdin is piped to the server and the
//        server's data to stdout; stdin EOF ends our side, the process exits when the stream closes.
'use strict'
const DHT = require('hyperdht')
const b4a = require('b4a')
const readline = require('readline')

function arg (name, dflt) {
  const i = process.argv.indexOf(name)
  return i === -1 ? dflt : process.argv[i + 1]
}

async function main () {
  const mode = process.argv[2]
  const bootstrap = arg('--bootstrap', '').split(',').filter(Boolean)
  const node = new DHT({ bootstrap, host: arg('--host', '127.0.0.1') })
  await node.fullyBootstrapped()
  const stop = async () => { await node.destroy(); process.exit(0) }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  if (mode === 'serve') {
    const seed = arg('--seed', null)
    const keyPair = DHT.keyPair(seed ? b4a.from(seed, 'hex') : undefined)
    const clients = new Set()
    const server = node.createServer((socket) => {
      console.log('got connection!')
      clients.add(socket)
      socket.on('data', (d) => process.stdout.write(d))
      socket.on('end', () => socket.end())
      socket.on('error', () => {})
      socket.on('close', () => clients.delete(socket))
    })
    await server.listen(keyPair)
    console.log('listening on: ' + b4a.toString(keyPair.publicKey, 'hex'))
    const rl = readline.createInterface({ input: process.stdin })
    rl.on('line', (line) => { for (const c of clients) c.write(line + '\n') })
  } else if (mode === 'connect') {
    const key = process.argv[3]
    console.log('Connecting to: ' + key)
    const socket = node.connect(b4a.from(key, 'hex'))
    socket.on('open', () => {
      console.log('got connection!')
      process.stdin.pipe(socket).pipe(process.stdout)
    })
    socket.on('error', (err) => {
      process.stderr.write('error: ' + (err.code || err.message) + '\n')
      process.exitCode = 1
    })
    socket.on('close', () => node.destroy())
  } else {
    throw new Error('usage: dht-lab-cli.js serve|connect ...')
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack) + '\n')
  process.exit(1)
})
