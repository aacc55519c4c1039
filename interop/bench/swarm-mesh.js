// Time for N peers on one topic to be fully meshed (hyperswarm 4.17.2 on hyperdht 6.34): the twin
// of bench/bench_swarm.py (see its docstring for the procedure; the same modes are offered here).
// usage: node swarm-mesh.js [mode=refresh|rescan|sequential|concurrent] [firewall=firewalled|open|default]
//                           [testnet size] [peers] [rounds] [warmup] [metric=time|memory]
// prints {"value": median seconds}, or with metric=memory the median over rounds of the resident
// memory the mesh added (after ready(), garbage collected, to meshed, garbage collected) per
// connection end, in KiB
'use strict'
const Hyperswarm = require('hyperswarm')
const DHT = require('hyperdht')
const createTestnet = require('@hyperswarm/testnet')
const crypto = require('hypercore-crypto')
const b4a = require('b4a')
const v8 = require('v8')
const vm = require('vm')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

function settledRss () {
  gc()
  gc()
  return process.memoryUsage().rss
}

const HOST = '127.0.0.1'
const MESH_TIMEOUT = 60000
const POLL = 10
const SETTLE = 300

function remotes (swarm) {
  const counts = new Map()
  for (const conn of swarm.connections) {
    const k = b4a.toString(conn.remotePublicKey, 'hex')
    counts.set(k, (counts.get(k) || 0) + 1)
  }
  return counts
}

class Mesh {
  constructor (bootstrap, peers, firewall) {
    if (!['firewalled', 'open', 'default'].includes(firewall)) throw new Error('unknown firewall mode ' + firewall)
    this.firewall = firewall
    this.done = false
    this._resolve = null
    this.meshedPromise = new Promise((resolve) => { this._resolve = resolve })
    this.swarms = []
    for (let i = 0; i < peers; i++) {
      const swarm = new Hyperswarm({ dht: new DHT({ bootstrap, host: HOST, firewalled: firewall !== 'open' }) })
      swarm.on('connection', (conn) => {
        conn.on('error', () => {})
        this.check()
      })
      swarm.on('update', () => this.check())
      this.swarms.push(swarm)
    }
    this.keys = this.swarms.map((s) => b4a.toString(s.keyPair.publicKey, 'hex'))
  }

  async ready () {
    await Promise.all(this.swarms.map((s) => s.dht.fullyBootstrapped()))
    if (this.firewall === 'firewalled') {
      for (const s of this.swarms) {
        s.dht.firewalled = true
        s.dht.io.firewalled = true
      }
    }
  }

  meshed () {
    for (let i = 0; i < this.swarms.length; i++) {
      const counts = remotes(this.swarms[i])
      if (counts.size !== this.swarms.length - 1 || counts.has(this.keys[i])) return false
      for (const n of counts.values()) if (n !== 1) return false
    }
    return true
  }

  rearm () {
    this.done = false
    this.meshedPromise = new Promise((resolve) => { this._resolve = resolve })
  }

  check () {
    if (!this.done && this.meshed()) {
      this.done = true
      this._resolve()
    }
  }

  report () {
    const names = new Map(this.keys.map((k, i) => [k, 'p' + i]))
    return this.swarms.map((s, i) => {
      const counts = remotes(s)
      const missing = this.keys.filter((k, j) => j !== i && !counts.has(k)).map((k) => names.get(k))
      const dup = [...counts].filter(([, n]) => n !== 1).map(([k]) => names.get(k) || '?')
      return `p${i}: ${counts.size} peers, missing ${JSON.stringify(missing)}, duplicated ${JSON.stringify(dup)}`
    }).join('\n')
  }

  async destroy () {
    await Promise.allSettled(this.swarms.map((s) => s.destroy()))
  }
}

async function bounded (promise, what, mesh) {
  let timer = null
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`swarm bench: timed out after ${MESH_TIMEOUT / 1000}s waiting for ${what}\n${mesh.report()}`)), MESH_TIMEOUT)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function waitMeshed (mesh) {
  // events resolve the promise; polling covers anything they miss
  const poll = setInterval(() => mesh.check(), POLL)
  try {
    mesh.check()
    await bounded(mesh.meshedPromise, 'a full mesh', mesh)
  } finally {
    clearInterval(poll)
  }
}

// refresh every peer, wait for every swarm's flush; again for the peers still missing one
async function rescan (mesh, handles) {
  let lagging = handles
  const want = mesh.swarms.length - 1
  try {
    while (!mesh.done && !mesh.stopRescan) {
      await Promise.all(lagging.map((h) => h.refresh()))
      await Promise.all(mesh.swarms.map((s) => s.flush()))
      mesh.check()
      lagging = handles.filter((h, i) => remotes(mesh.swarms[i]).size < want)
    }
  } catch {} // the round is over (or timed out) and the swarms are being destroyed
}

async function round (bootstrap, mode, firewall, peers, metric) {
  const mesh = new Mesh(bootstrap, peers, firewall)
  let rescanning = null
  try {
    await bounded(mesh.ready(), 'DHT bootstrap', mesh)
    const rss0 = metric === 'memory' ? settledRss() : 0
    const topic = crypto.randomBytes(32)
    const start = process.hrtime.bigint()
    if (mode === 'sequential') {
      for (const swarm of mesh.swarms) {
        await bounded(swarm.join(topic, { server: true, client: true }).flushed(), 'join flushed', mesh)
      }
    } else if (mode === 'refresh') {
      const handles = mesh.swarms.map((s) => s.join(topic, { server: true, client: true }))
      await bounded(Promise.all(handles.map((h) => h.flushed())), 'join flushed', mesh)
      await bounded(Promise.all(handles.map((h) => h.refresh())), 'refresh', mesh)
    } else if (mode === 'rescan') {
      const handles = mesh.swarms.map((s) => s.join(topic, { server: true, client: true }))
      await bounded(Promise.all(handles.map((h) => h.flushed())), 'join flushed', mesh)
      rescanning = rescan(mesh, handles)
    } else if (mode === 'concurrent') {
      for (const swarm of mesh.swarms) swarm.join(topic, { server: true, client: true })
    } else {
      throw new Error('unknown mode ' + mode)
    }
    await waitMeshed(mesh)
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9
    mesh.stopRescan = true
    if (rescanning) await rescanning
    const perConnection = metric === 'memory' ? (settledRss() - rss0) / (peers * (peers - 1)) / 1024 : 0
    // untimed sanity check: the mesh still holds (or settles back) once late duplicates resolve
    await new Promise((resolve) => setTimeout(resolve, SETTLE))
    mesh.rearm()
    await waitMeshed(mesh)
    return metric === 'memory' ? perConnection : elapsed
  } finally {
    mesh.stopRescan = true
    if (rescanning) await rescanning
    await mesh.destroy()
  }
}

async function main () {
  const mode = process.argv[2] || 'refresh'
  const firewall = process.argv[3] || 'firewalled'
  const [size, peers, rounds, warmup] = [5, 10, 5, 1].map((d, i) => Number(process.argv[4 + i] ?? d))
  const metric = process.argv[8] || 'time'
  if (!['time', 'memory'].includes(metric)) throw new Error('unknown metric ' + metric)
  const testnet = await createTestnet(size, { host: HOST })
  const times = []
  try {
    for (let i = 0; i < warmup + rounds; i++) {
      const s = await round(testnet.bootstrap, mode, firewall, peers, metric)
      if (i >= warmup) times.push(s)
    }
  } finally {
    await testnet.destroy()
  }
  times.sort((a, b) => a - b)
  const mid = times.length >> 1
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2
  console.log(JSON.stringify({ value: median }))
}

main().catch((err) => { console.error(err); process.exit(1) })
