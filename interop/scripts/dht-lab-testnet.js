// A JS HyperDHT testnet (@hyperswarm/testnet 3.1.4) that prints like `hyperpunch testnet`.
// usage: node dht-lab-testnet.js [--nodes n] [--host h] [--bootstrap host:port,...]
// stdout: first line `bootstrap: host:port,...` (every node of this testnet); runs until
// SIGINT/SIGTERM, then destroys the nodes and exits 0.
'use strict'
const createTestnet = require('@hyperswarm/testnet')

function arg (name, dflt) {
  const i = process.argv.indexOf(name)
  return i === -1 ? dflt : process.argv[i + 1]
}

async function main () {
  const nodes = Number(arg('--nodes', '3'))
  const host = arg('--host', '127.0.0.1')
  const boot = arg('--bootstrap', '')
  const opts = { host }
  if (boot) opts.bootstrap = boot.split(',').map((s) => ({ host: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) }))
  const testnet = await createTestnet(nodes, opts)
  const addrs = testnet.nodes.map((n) => `${host}:${n.address().port}`)
  process.stdout.write('bootstrap: ' + addrs.join(',') + '\n')
  let closing = false
  const stop = async () => {
    if (closing) return
    closing = true
    await testnet.destroy()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack) + '\n')
  process.exit(1)
})
