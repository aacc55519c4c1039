// The todo list client (issue 17; the contract: the README's todo section and hyperpunch.todo.ops):
// one list = one Autobase 7 base whose view is a Hyperbee `todo`; ops are hello-peers' BSON
// "Autodeebee" ops; todos use the hyperbeedeebee layout (collection `todo`, key `todo\0doc\0` +
// ObjectId). The same file runs in the browser bundle (relay DHT over a WebSocket, in-memory
// storage) and in Node (a native HyperDHT, storage on disk or in memory).
//
//   const list = await openTodoList({ listKey, relayUrl | dht, storage, onStatus })
//
// Peers: the list's topic is the base's discovery key. With a native DHT the client announces
// itself on it (a server on its key pair) and looks it up; over a relay it is a client only
// (lookup + connect). Every connection replicates the whole store and carries one Protomux
// channel 'hyperpunch/todo-writers' (id = discovery key, handshake = our local writer key): a
// writable peer adds every key it receives that is not a writer yet (indexer: false).
//
// Relay: non-custodial (the relay never sees a secret key; the page runs its own Noise). Only a
// relay that answers a connect with NON_CUSTODIAL_UNSUPPORTED makes it fall back to custodial,
// and then with a throwaway DHT key pair: the writer key never leaves the page. The socket
// dropping sets status.connection 'offline' (writes keep working locally); it reconnects with
// backoff (0.5 s doubling to 8 s), looks the topic up again, replicates and merges. A relayed
// lookup that gets no answer in 8 s is dropped (and the socket renewed when no peer is connected).
// Storage in the browser is in memory (runtime/rocksdb-memory.cjs): a reloaded page is a new
// writer that gets the list back from its peers.
import Corestore from 'corestore'
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import Protomux from 'protomux'
import c from 'compact-encoding'
import b4a from 'b4a'
import BSON from 'bson'
import RelayDHT from '@hyperswarm/dht-relay'
import RelayStream from '@hyperswarm/dht-relay/ws'
import MemoryRocks from './runtime/rocksdb-memory.cjs'

export const PROTOCOL = 'hyperpunch/todo-writers'
export const PREFIX = b4a.from('todo\x00doc\x00')
const PREFIX_END = b4a.from('todo\x00doc\x01')
export const MAX_NODE_BYTES = 65536
export const MAX_TEXT_BYTES = 4096
const RELAY_QUERY_TIMEOUT = 8000

export class TodoError extends Error {
  constructor (code, message) {
    super(code + ': ' + message)
    this.code = code
  }
}

const hex = (b) => b4a.toString(b, 'hex')
// binary = BSON binary subtype 0 (what every writer of the op format writes); other subtypes are
// refused: bson 4 turns subtype 4 into a UUID (and throws on one that is not 16 bytes)
const isBinary = (v) => v instanceof BSON.Binary && v.sub_type === 0

function binaryBytes (v) {
  // bson 4 Binary: .buffer holds .position meaningful bytes
  return b4a.from(v.buffer.subarray(0, v.position))
}

// ---- ops (the same bytes the Python peer writes: hyperpunch.docdb.multiwriter.encode_op) ----

export function encodePut (key, value, prefix = PREFIX) {
  return BSON.serialize({ type: 'put', key: new BSON.Binary(key), value: new BSON.Binary(value), prefix: new BSON.Binary(prefix) })
}

export function encodeDel (key, prefix = PREFIX) {
  return BSON.serialize({ type: 'del', key: new BSON.Binary(key), prefix: new BSON.Binary(prefix) })
}

export function encodeAddWriter (key) {
  return BSON.serialize({ type: 'addWriter', key: new BSON.Binary(key), indexer: false })
}

export function encodeTodo (idBytes, text, done) {
  return BSON.serialize({ _id: new BSON.ObjectId(b4a.from(idBytes)), text, done })
}

function utf8Length (s) {
  return b4a.byteLength(s, 'utf-8')
}

function decodeBson (buf) {
  // valid BSON = one whole document: its length field is the value's length
  if (buf.byteLength < 5) return null
  const size = buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24)
  if (size !== buf.byteLength) return null
  try {
    return BSON.deserialize(buf, { promoteBuffers: false, promoteValues: true })
  } catch {
    return null
  }
}

// A todo document value as the contract allows it, or null.
export function decodeTodo (value) {
  const doc = decodeBson(value)
  if (doc === null) return null
  if (typeof doc.text !== 'string' || utf8Length(doc.text) > MAX_TEXT_BYTES) return null
  if (typeof doc.done !== 'boolean') return null
  return doc
}

// The contract's apply input check: an op object, or null when the node is to be skipped.
export function parseOp (value) {
  try {
    return checkOp(value)
  } catch {
    return null // whatever a hostile writer put there, apply never throws on it
  }
}

function checkOp (value) {
  if (value === null || value === undefined) return null
  const buf = b4a.from(value)
  if (buf.byteLength > MAX_NODE_BYTES) return null
  const op = decodeBson(buf)
  if (op === null) return null
  if (op.type !== 'put' && op.type !== 'del' && op.type !== 'addWriter') return null
  if (!isBinary(op.key)) return null
  const key = binaryBytes(op.key)
  if (op.type === 'addWriter') {
    if (key.byteLength !== 32) return null
    return { type: 'addWriter', key }
  }
  if (!isBinary(op.prefix)) return null
  const full = b4a.concat([binaryBytes(op.prefix), key])
  if (full.byteLength < PREFIX.byteLength || !b4a.equals(full.subarray(0, PREFIX.byteLength), PREFIX)) return null
  if (op.type === 'del') return { type: 'del', key: full }
  if (!isBinary(op.value)) return null
  const doc = binaryBytes(op.value)
  if (decodeTodo(doc) === null) return null
  return { type: 'put', key: full, value: doc }
}

export async function apply (nodes, view, host) {
  for (const node of nodes) {
    const op = parseOp(node.value)
    if (op === null) continue
    if (op.type === 'addWriter') await host.addWriter(op.key, { indexer: false })
    else if (op.type === 'put') await view.put(op.key, op.value)
    else await view.del(op.key)
  }
}

export function openView (store) {
  return new Hyperbee(store.get('todo'), { extension: false, keyEncoding: 'binary', valueEncoding: 'binary' })
}

export function validateText (text) {
  const t = String(text === undefined || text === null ? '' : text).trim()
  if (t.length === 0) throw new TodoError('EMPTY_TEXT', 'a todo needs some text')
  if (utf8Length(t) > MAX_TEXT_BYTES) throw new TodoError('TEXT_TOO_LONG', 'a todo has at most ' + MAX_TEXT_BYTES + ' bytes of text')
  return t
}

// ---- a tiny event emitter (no 'events' polyfill in the bundle) ----

class Emitter {
  constructor () { this._handlers = new Map() }
  on (name, fn) {
    if (!this._handlers.has(name)) this._handlers.set(name, new Set())
    this._handlers.get(name).add(fn)
    return this
  }

  off (name, fn) {
    const set = this._handlers.get(name)
    if (set) set.delete(fn)
    return this
  }

  emit (name, ...args) {
    const set = this._handlers.get(name)
    if (!set) return
    for (const fn of [...set]) {
      try { fn(...args) } catch (err) { console.error('todo: a ' + name + ' handler threw', err) }
    }
  }
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms)
  if (signal) signal.push(() => { clearTimeout(t); resolve() })
})

// ---- the list ----

class TodoList extends Emitter {
  constructor (store, base, opts) {
    super()
    this.store = store
    this.base = base
    this._opts = opts
    this._closing = false
    this._wakers = []
    this._conns = new Map() // remote public key hex -> connection
    this._open = new Set() // connections whose handshake completed
    this._pendingWriters = new Map() // hex -> key, seen while we could not add them
    this._added = new Set() // hex of keys we appended an addWriter for
    this._connection = 'connecting'
    this._dht = null
    this._ownsDht = false
    this._server = null
    this._socket = null
    this._custodial = opts.custodial === true
    this._keyPair = opts.keyPair || null
    this._lastStatus = ''
    this._changeQueued = false
    this._loops = []
    this._debug = typeof opts.debug === 'function' ? opts.debug : () => {}
    if (opts.onStatus) this.on('status', opts.onStatus)
  }

  get key () { return hex(this.base.key) }
  get discoveryKey () { return this.base.discoveryKey }
  get writable () { return this.base.writable }
  get status () {
    return { connection: this._connection, peers: this._openPeers(), writable: this.base.writable }
  }

  _openPeers () {
    let n = 0
    for (const conn of this._conns.values()) if (this._open.has(conn)) n++
    return n
  }

  _emitStatus () {
    const s = this.status
    const sig = JSON.stringify(s)
    if (sig === this._lastStatus) return
    this._lastStatus = sig
    this.emit('status', s)
  }

  _setConnection (state) {
    if (state !== this._connection) this._debug('connection: ' + state)
    this._connection = state
    this._emitStatus()
  }

  _queueChange () {
    if (this._changeQueued || this._closing) return
    this._changeQueued = true
    queueMicrotask(() => {
      this._changeQueued = false
      if (!this._closing) this.emit('change')
    })
  }

  async _start () {
    this.base.on('update', () => this._queueChange())
    this.base.on('writable', () => {
      this._emitStatus()
      this._queueChange()
      this._flushPendingWriters()
    })
    this.base.on('unwritable', () => this._emitStatus())
    this.base.on('error', (err) => console.error('todo: autobase error', err))
    if (this._opts.relayUrl) this._loops.push(this._relayLoop())
    else if (this._opts.dht) {
      this._dht = this._opts.dht
      this._loops.push(this._nativeLoop())
    } else {
      this._setConnection('offline')
    }
  }

  // -- peers --

  _onConnection (conn, remoteKey) {
    const id = hex(remoteKey)
    conn.on('error', () => {})
    const old = this._conns.get(id)
    if (old && !old.destroyed && old !== conn) {
      // one replication stream per peer: Hyperswarm's tie-break, the bigger key initiates
      const local = conn.publicKey || (this._keyPair && this._keyPair.publicKey)
      const expectedInitiator = local ? b4a.compare(local, remoteKey) > 0 : true
      if (expectedInitiator !== conn.isInitiator) {
        conn.destroy()
        return
      }
      this._conns.set(id, conn)
      old.destroy()
    }
    this._conns.set(id, conn)
    conn.on('open', () => {
      this._debug('open ' + id)
      this._open.add(conn)
      this._emitStatus()
    })
    conn.on('close', () => {
      this._open.delete(conn)
      if (this._conns.get(id) === conn) this._conns.delete(id)
      this._emitStatus()
    })
    if (this._closing) { conn.destroy(); return }
    this.store.replicate(conn)
    const mux = Protomux.from(conn)
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      id: this.base.discoveryKey,
      handshake: c.fixed32,
      onopen: (key) => this._onWriterKey(key)
    })
    if (channel) channel.open(this.base.local.key)
    this._emitStatus()
  }

  async _onWriterKey (key) {
    if (!key || key.byteLength !== 32 || b4a.equals(key, this.base.local.key)) return
    const id = hex(key)
    if (this._added.has(id)) return
    if (!this.base.writable) {
      this._pendingWriters.set(id, key)
      return
    }
    try {
      if (this.base.system && await this.base.system.has(key)) return
    } catch {}
    if (this._added.has(id) || this._closing) return
    this._added.add(id)
    this._pendingWriters.delete(id)
    try {
      await this.base.append(encodeAddWriter(key))
    } catch (err) {
      this._added.delete(id)
      if (!this._closing) this._pendingWriters.set(id, key)
    }
  }

  _flushPendingWriters () {
    for (const key of [...this._pendingWriters.values()]) this._onWriterKey(key)
  }

  _connect (publicKey) {
    const id = hex(publicKey)
    const self = this._keyPair && hex(this._keyPair.publicKey)
    if (id === self) return
    const have = this._conns.get(id)
    if (have && !have.destroyed) return
    this._debug('connect ' + id)
    const conn = this._dht.connect(publicKey, { keyPair: this._keyPair })
    conn.on('error', (err) => {
      this._debug('connection to ' + id + ' failed: ' + String((err && err.message) || err))
      this._onConnectError(err)
    })
    this._onConnection(conn, publicKey)
    return conn
  }

  async _lookupOnce (topic, track = null) {
    const found = []
    const q = this._dht.lookup(topic)
    if (track) track.push(q)
    for await (const data of q) {
      this._debug('lookup reply: ' + (data.peers || []).length + ' peer(s)')
      for (const peer of data.peers || []) {
        found.push(peer.publicKey)
        this._connect(peer.publicKey)
      }
    }
    return found
  }

  // Native HyperDHT (Node): announce as a server and look the topic up, again and again.
  async _nativeLoop () {
    const dht = this._dht
    const DHTClass = dht.constructor
    if (!this._keyPair) this._keyPair = dht.defaultKeyPair || DHTClass.keyPair()
    const topic = this.base.discoveryKey
    if (this._opts.announce !== false) {
      this._server = dht.createServer((conn) => this._onConnection(conn, conn.remotePublicKey))
      await this._server.listen(this._keyPair)
    }
    let round = 0
    while (!this._closing) {
      try {
        if (this._server && round % 20 === 0) await dht.announce(topic, this._keyPair).finished()
        await this._lookupOnce(topic)
        this._setConnection('online')
      } catch (err) {
        if (this._closing) return
        this._setConnection('offline')
      }
      round++
      await sleep(Math.min(500 * round, 5000), this._wakers)
    }
  }

  // The relay (browser): one WebSocket, a dht-relay client on it, lookups + connects; when the
  // socket drops the list is offline (local writes still work) until a new socket is up.
  async _relayLoop () {
    const url = this._opts.relayUrl
    const WS = this._opts.WebSocket || globalThis.WebSocket
    let failures = 0
    while (!this._closing) {
      this._setConnection('connecting')
      const socket = new WS(url)
      this._socket = socket
      const closed = new Promise((resolve) => {
        socket.addEventListener('close', resolve)
        socket.addEventListener('error', resolve)
      })
      const opened = await Promise.race([
        new Promise((resolve) => socket.addEventListener('open', () => resolve(true))),
        closed.then(() => false)
      ])
      if (opened && !this._closing) {
        failures = 0
        const wasCustodial = this._custodial
        // a fresh DHT key pair per relay session (it is only the transport identity; the writer
        // key never leaves the page): the relay still tears the last session down
        const dht = new RelayDHT(new RelayStream(true, socket), { custodial: this._custodial })
        this._keyPair = dht.defaultKeyPair
        this._dht = dht
        this._debug('relay session: ' + (this._custodial ? 'custodial' : 'non-custodial'))
        this._setConnection('online')
        const session = this._relaySession(dht, closed)
        await closed
        await session
        this._dht = null
        try { await dht.destroy() } catch {}
        for (const conn of this._conns.values()) conn.destroy()
        this._conns.clear()
        if (this._closing) break
        if (this._custodial !== wasCustodial) continue // switch of mode: reconnect at once
      } else {
        try { socket.close() } catch {}
      }
      if (this._closing) break
      this._setConnection('offline')
      failures++
      await sleep(Math.min(250 * 2 ** Math.min(failures, 6), 8000), this._wakers)
    }
  }

  async _relaySession (dht, closed) {
    let down = false
    closed.then(() => { down = true })
    const topic = this.base.discoveryKey
    let round = 0
    while (!down && !this._closing) {
      try {
        // a relay session that answers no lookup within RELAY_QUERY_TIMEOUT is dead: reconnect
        let timer = null
        const stalled = new Promise((resolve) => { timer = setTimeout(() => resolve(true), RELAY_QUERY_TIMEOUT) })
        const queries = []
        const done = await Promise.race([this._lookupOnce(topic, queries).then(() => false), stalled, closed.then(() => false)])
        clearTimeout(timer)
        if (done === true) {
          for (const q of queries) q.destroy()
          if (this._openPeers() > 0) {
            this._debug('relay lookup stalled: dropped it, peers still connected')
          } else {
            this._debug('relay lookup stalled and no peer connected: reconnecting')
            if (this._socket) this._socket.close()
            break
          }
        }
      } catch (err) {
        this._debug('relay lookup failed: ' + String((err && err.message) || err))
      }
      round++
      await Promise.race([sleep(Math.min(500 * round, 5000), this._wakers), closed])
    }
  }

  // The relay tells a non-custodial connect it can't run it (NON_CUSTODIAL_UNSUPPORTED): switch
  // to custodial mode (the relay then holds this page's DHT key pair, never its writer key).
  _onConnectError (err) {
    if (this._custodial || this._opts.custodialFallback === false || !this._opts.relayUrl) return
    const msg = String((err && err.message) || err)
    if (msg.includes('NON_CUSTODIAL_UNSUPPORTED') || msg.includes('non-custodial connect is not supported')) {
      this._custodial = true
      if (this._socket) this._socket.close()
    }
  }

  // -- reads --

  async todos () {
    await this.base.ready()
    const out = []
    for await (const { key, value } of this.base.view.createReadStream({ gte: PREFIX, lt: PREFIX_END })) {
      if (key.byteLength !== PREFIX.byteLength + 12) continue // not an ObjectId key: not a todo
      const doc = decodeTodo(value)
      if (doc === null) continue
      out.push({ id: hex(key.subarray(PREFIX.byteLength)), text: doc.text, done: doc.done })
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return out
  }

  async _get (id) {
    if (typeof id !== 'string' || !/^[0-9a-f]{24}$/.test(id)) throw new TodoError('NOT_FOUND', 'no todo ' + id)
    const node = await this.base.view.get(b4a.concat([PREFIX, b4a.from(id, 'hex')]))
    const doc = node && decodeTodo(node.value)
    if (!doc) throw new TodoError('NOT_FOUND', 'no todo ' + id)
    return doc
  }

  _mustWrite () {
    if (!this.base.writable) throw new TodoError('NOT_WRITABLE', 'read-only, waiting to be added')
  }

  // -- writes --

  async add (text) {
    const t = validateText(text)
    this._mustWrite()
    const oid = new BSON.ObjectId()
    const id = b4a.from(oid.id)
    await this.base.append(encodePut(id, encodeTodo(id, t, false)))
    return hex(id)
  }

  async edit (id, text) {
    const t = validateText(text)
    this._mustWrite()
    const doc = await this._get(id)
    const idb = b4a.from(id, 'hex')
    await this.base.append(encodePut(idb, encodeTodo(idb, t, doc.done)))
  }

  async setDone (id, done) {
    this._mustWrite()
    const doc = await this._get(id)
    const idb = b4a.from(id, 'hex')
    await this.base.append(encodePut(idb, encodeTodo(idb, doc.text, !!done)))
  }

  async remove (id) {
    this._mustWrite()
    await this._get(id)
    await this.base.append(encodeDel(b4a.from(id, 'hex')))
  }

  async clearCompleted () {
    this._mustWrite()
    const done = (await this.todos()).filter((t) => t.done)
    if (done.length === 0) return 0
    await this.base.append(done.map((t) => encodeDel(b4a.from(t.id, 'hex'))))
    return done.length
  }

  // -- lifecycle --

  // Drop the relay socket now (tests: the page keeps working locally, then reconnects).
  dropConnection () {
    if (this._socket) this._socket.close()
  }

  async close () {
    if (this._closing) return
    this._closing = true
    for (const wake of this._wakers.splice(0)) wake()
    if (this._socket) { try { this._socket.close() } catch {} }
    for (const conn of this._conns.values()) conn.destroy()
    this._conns.clear()
    if (this._server) { try { await this._server.close() } catch {} }
    await Promise.allSettled(this._loops)
    await this.base.close()
    await this.store.close()
  }
}

// Open (or, without listKey, create) a list. Options:
//   listKey   hex base key to join; none = create a new list (this peer is its indexer)
//   relayUrl  ws(s)://…/relay: reach the DHT through a dht-relay (browser; WebSocket = opts.WebSocket
//             or the global one); custodial: false unless the relay can't (then true); custodial: true forces it
//   dht       a native HyperDHT (Node); announce: false = client only
//   storage   a directory (Node), a MemoryRocks, or nothing (in memory)
//   onStatus  called with list.status whenever it changes
export async function openTodoList (opts = {}) {
  const storage = opts.storage || new MemoryRocks()
  const store = new Corestore(storage, opts.primaryKey ? { primaryKey: opts.primaryKey } : {})
  const bootstrap = opts.listKey ? b4a.from(opts.listKey, 'hex') : null
  if (bootstrap !== null && bootstrap.byteLength !== 32) throw new TodoError('BAD_KEY', 'a list key is 64 hex characters')
  const base = new Autobase(store, bootstrap, {
    valueEncoding: 'binary',
    ackInterval: opts.ackInterval || 1000,
    open: openView,
    apply
  })
  await base.ready()
  const list = new TodoList(store, base, opts)
  await list._start()
  return list
}
