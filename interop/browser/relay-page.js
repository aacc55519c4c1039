// The page script of the browser test: the pinned @hyperswarm/dht-relay client, bundled by esbuild
// (interop/node_modules, at build time, no CDN) into relay-bundle.js.
// window.relayEcho(url, publicKeyHex, bytes, keyPair, custodial) connects through the relay at
// `url` with keyPair = {publicKey: hex, secretKey: hex} to the server on publicKeyHex, writes
// `bytes` random bytes, ends, and resolves with {sent, received, bytes, remotePublicKey, custodial}
// (SHA-256 hex of what went out and came back). custodial (default true) hands the secret key to
// the relay; custodial === false keeps it in the page: the page does the Noise IK steps and runs
// the secret stream itself (sodium-javascript, interop/browser/sodium-shim.js).
const DHT = require('@hyperswarm/dht-relay')
const Stream = require('@hyperswarm/dht-relay/ws')
const b4a = require('b4a')

async function sha256hex (chunks) {
  const all = b4a.concat(chunks)
  const digest = await crypto.subtle.digest('SHA-256', all)
  return b4a.toString(b4a.from(digest), 'hex')
}

function log (line) {
  const el = document.getElementById('log')
  if (el) el.textContent += line + '\n'
}

window.relayEcho = function relayEcho (url, publicKeyHex, bytes, keyPair, custodial) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url)
    const dht = new DHT(new Stream(true, socket), {
      custodial: custodial !== false,
      keyPair: { publicKey: b4a.from(keyPair.publicKey, 'hex'), secretKey: b4a.from(keyPair.secretKey, 'hex') }
    })
    log('connecting through ' + url + (custodial === false ? ' (non-custodial)' : ' (custodial)'))
    const s = dht.connect(b4a.from(publicKeyHex, 'hex'))
    const sent = []
    const received = []
    let total = 0
    s.on('error', (err) => { log('error: ' + err.message); reject(new Error(String(err && err.message))) })
    s.on('open', () => {
      log('open: ' + b4a.toString(s.remotePublicKey, 'hex'))
      let left = bytes
      while (left > 0) {
        const n = Math.min(left, 65536)
        const chunk = b4a.alloc(n)
        crypto.getRandomValues(chunk)
        sent.push(chunk)
        s.write(chunk)
        left -= n
      }
      s.end()
    })
    s.on('data', (d) => { total += d.byteLength; received.push(d) })
    s.on('end', async () => {
      s.end()
      const result = {
        sent: await sha256hex(sent),
        received: await sha256hex(received),
        bytes: total,
        remotePublicKey: b4a.toString(s.remotePublicKey, 'hex'),
        custodial: custodial !== false
      }
      log('echoed ' + total + ' bytes, checksums ' + (result.sent === result.received ? 'equal' : 'DIFFER'))
      await dht.destroy()
      resolve(result)
    })
  })
}
