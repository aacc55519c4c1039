// Hyperswarm 4.17.2 policy vectors: PeerInfo priorities, retry-timer choice, bulk-timer batching,
// the duplicate-connection rule and the max-peers factor, computed by the pinned JS modules.
'use strict'
const { EventEmitter } = require('events')
const PeerInfo = require('hyperswarm/lib/peer-info')
const RetryTimer = require('hyperswarm/lib/retry-timer')
const BulkTimer = require('hyperswarm/lib/bulk-timer')
const Hyperswarm = require('hyperswarm')
const DHT = require('hyperdht')

const hex = (b) => Buffer.from(b).toString('hex')

function priorities () {
  const out = []
  for (let attempts = 0; attempts <= 6; attempts++) {
    for (const tried of [false, true]) {
      for (const proven of [false, true]) {
        for (const explicit of [false, true]) {
          for (const banned of [false, true]) {
            for (const queued of [false, true]) {
              const p = new PeerInfo({ publicKey: Buffer.alloc(32), relayAddresses: null })
              Object.assign(p, { attempts, tried, proven, explicit, banned, queued })
              const ok = p._updatePriority()
              out.push({ attempts, tried, proven, explicit, banned, queued, ok, priority: p.priority, attemptsAfter: p.attempts, prioritized: p.prioritized })
            }
          }
        }
      }
    }
  }
  return out
}

function disconnects () {
  const realNow = Date.now
  const out = []
  try {
    for (const attempts of [0, 2, 5]) {
      for (const duration of [null, 1000, 14999, 15000, 60000]) {
        const p = new PeerInfo({ publicKey: Buffer.alloc(32), relayAddresses: null })
        p.attempts = attempts
        Date.now = () => 1000000
        if (duration !== null) p._connected()
        Date.now = () => 1000000 + (duration || 0)
        p._disconnected()
        out.push({ attempts, duration, attemptsAfter: p.attempts, proven: p.proven, disconnectedTime: p.disconnectedTime - 1000000 })
      }
    }
  } finally {
    Date.now = realNow
  }
  return out
}

function retryChoice () {
  const timer = new RetryTimer(() => {}, { backoffs: [1000, 2000, 3000, 4000], jitter: 0 })
  const names = new Map([[timer._sTimer, 'S'], [timer._mTimer, 'M'], [timer._lTimer, 'L'], [timer._xTimer, 'X']])
  const out = []
  for (let attempts = 0; attempts <= 6; attempts++) {
    for (const proven of [false, true]) {
      for (const explicit of [false, true]) {
        for (const banned of [false, true]) {
          for (const reconnecting of [false, true]) {
            const p = new PeerInfo({ publicKey: Buffer.alloc(32), relayAddresses: null })
            Object.assign(p, { attempts, proven, explicit, banned, reconnecting })
            const t = timer._selectRetryTimer(p)
            out.push({ attempts, proven, explicit, banned, reconnecting, timer: t ? names.get(t) : null })
          }
        }
      }
    }
  }
  timer.destroy()
  return out
}

function bulkTimer () {
  // drive BulkTimer's interval by hand: ops are "add:<item>" or "tick"
  const realSet = global.setInterval
  const realClear = global.clearInterval
  let tick = null
  let interval = null
  global.setInterval = (fn, ms) => { tick = fn; interval = ms; return 1 }
  global.clearInterval = () => {}
  try {
    const fired = []
    const t = new BulkTimer(1000, (batch) => fired.push(batch.slice()))
    const ops = ['add:a', 'tick', 'add:b', 'add:c', 'tick', 'tick', 'tick', 'add:d', 'tick', 'add:e', 'tick', 'tick']
    const log = []
    for (const op of ops) {
      if (op === 'tick') tick()
      else t.add(op.slice(4))
      log.push({ op, firedSoFar: fired.map(b => b.join('')) })
    }
    t.destroy()
    return { period: 1000, interval, ops, log }
  } finally {
    global.setInterval = realSet
    global.clearInterval = realClear
  }
}

function fakeConn (publicKey, remotePublicKey, isInitiator, read, written) {
  const c = new EventEmitter()
  Object.assign(c, { publicKey, remotePublicKey, isInitiator, rawBytesRead: read, rawBytesWritten: written })
  c.destroyed = false
  c.keepAlives = 0
  c.destroy = () => { c.destroyed = true }
  c.sendKeepAlive = () => { c.keepAlives++ }
  return c
}

function dedup () {
  const stubDht = { createServer: () => ({ listen: async () => {}, close: async () => {} }), on: () => {}, destroy: async () => {} }
  const a = DHT.keyPair(Buffer.alloc(32, 1))
  const b = DHT.keyPair(Buffer.alloc(32, 2))
  const out = []
  for (const [local, remote] of [[a, b], [b, a]]) {
    for (const [read, written] of [[0, 0], [10, 0], [0, 10], [10, 10]]) {
      for (const existingInitiator of [true, false]) {
        const swarm = new Hyperswarm({ keyPair: local, dht: stubDht })
        const existing = fakeConn(local.publicKey, remote.publicKey, existingInitiator, read, written)
        swarm._allConnections.add(existing)
        const conn = fakeConn(local.publicKey, remote.publicKey, false, 0, 0)
        const events = []
        swarm.on('connection', () => events.push('connection'))
        swarm._handleServerConnection(conn)
        const keptNew = existing.destroyed && !conn.destroyed
        let afterSwap = null
        if (keptNew) {
          swarm._allConnections.delete(existing)
          existing.emit('close')
          afterSwap = swarm._allConnections.get(remote.publicKey) === conn
        }
        out.push({
          localPublicKey: hex(local.publicKey),
          remotePublicKey: hex(remote.publicKey),
          existingBytesRead: read,
          existingBytesWritten: written,
          existingIsInitiator: existingInitiator,
          newIsInitiator: false,
          existingDestroyed: existing.destroyed,
          newDestroyed: conn.destroyed,
          keepAlivesOnExisting: existing.keepAlives,
          newTrackedAfterSwap: afterSwap,
          connectionEvents: events.length
        })
        swarm._timer.destroy()
      }
    }
  }
  return out
}

function maxPeers () {
  const stubDht = { createServer: () => ({}), on: () => {} }
  const out = []
  for (const explicit of [0, 1, 2, 3, 4, 7]) {
    for (const conns of [0, 5, 15, 16, 21, 22, 31, 32, 63, 64]) {
      const swarm = new Hyperswarm({ dht: stubDht })
      for (let i = 0; i < explicit; i++) swarm.explicitPeers.add({ i })
      for (let i = 0; i < conns; i++) swarm._allConnections.add({ remotePublicKey: Buffer.alloc(32, i + 1) })
      out.push({ explicit, connections: conns, maxPeers: 64, within: swarm._withinMaxPeers() })
      swarm._timer.destroy()
    }
  }
  return out
}

module.exports = async () => ({
  peer_info_priority: priorities(),
  peer_info_disconnect: disconnects(),
  retry_timer_choice: retryChoice(),
  bulk_timer: bulkTimer(),
  dedup: dedup(),
  max_peers: maxPeers()
})
