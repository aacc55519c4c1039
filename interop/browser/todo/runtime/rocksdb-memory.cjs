// An in-memory stand-in for rocksdb-native 3.x, the part hypercore-storage 3.x (corestore 7) uses:
// sessions per column family, snapshots, read and write batches (get / put / delete /
// deleteRange, flush and tryFlush), ordered iterators (gt/gte/lt/lte, reverse, limit) and the
// no-op maintenance calls. The browser bundle aliases `rocksdb-native` to this module; Node can
// hand an instance to Corestore directly (`new Corestore(new MemoryRocks())`) for a store that
// lives only as long as the process.
//
// Data model: each column family is one array of [key, value] sorted by key bytes. A snapshot
// (and an iterator, which like RocksDB's sees the data as of its creation) keeps a reference to
// the arrays of that moment; the next write copies an array that is shared (copy on write).
'use strict'
const b4a = require('b4a')
const { Readable } = require('streamx')

const EMPTY = b4a.alloc(0)

function toKey (k) {
  if (typeof k === 'string') return b4a.from(k)
  return k
}

function copy (buf) {
  const out = b4a.allocUnsafe(buf.byteLength)
  out.set(buf)
  return out
}

// index of the first entry whose key is >= key
function lowerBound (entries, key) {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (b4a.compare(entries[mid][0], key) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

class ColumnFamily {
  constructor (name, opts = {}) {
    this.name = name
    this.options = opts
  }
}

class Family {
  constructor () {
    this.entries = []
    this.shared = false
  }

  _own () {
    if (this.shared) {
      this.entries = this.entries.slice()
      this.shared = false
    }
  }

  put (key, value) {
    this._own()
    const i = lowerBound(this.entries, key)
    const entry = [copy(key), value === null ? EMPTY : copy(toKey(value))]
    if (i < this.entries.length && b4a.equals(this.entries[i][0], key)) this.entries[i] = entry
    else this.entries.splice(i, 0, entry)
  }

  delete (key) {
    const i = lowerBound(this.entries, key)
    if (i < this.entries.length && b4a.equals(this.entries[i][0], key)) {
      this._own()
      this.entries.splice(i, 1)
    }
  }

  deleteRange (start, end) {
    const i = lowerBound(this.entries, start)
    const j = lowerBound(this.entries, end)
    if (j > i) {
      this._own()
      this.entries.splice(i, j - i)
    }
  }

  capture () {
    this.shared = true
    return this.entries
  }
}

class State {
  constructor (path) {
    this.path = path
    this.families = new Map()
    this.opened = true
    this.closed = false
    this.closing = false
    this.sessions = new Set()
    this.stats = { gets: 0, puts: 0, deletes: 0, rangeDeletes: 0, readBatches: 0, writeBatches: 0 }
  }

  family (name) {
    let f = this.families.get(name)
    if (!f) {
      f = new Family()
      this.families.set(name, f)
    }
    return f
  }
}

class Snapshot {
  constructor (state) {
    this.state = state
    this.arrays = new Map()
    for (const [name, f] of state.families) this.arrays.set(name, f.capture())
  }

  entries (name) {
    return this.arrays.get(name) || []
  }
}

function familyName (cf) {
  if (cf === null || cf === undefined) return 'default'
  if (typeof cf === 'string') return cf
  return cf.name || cf._name || 'default'
}

function lookup (entries, key) {
  const i = lowerBound(entries, key)
  if (i < entries.length && b4a.equals(entries[i][0], key)) return copy(entries[i][1])
  return null
}

class Batch {
  constructor (db) {
    this._db = db
    this._ops = []
    this._destroyed = false
  }

  destroy () {
    this._destroyed = true
    for (const op of this._ops) if (op.reject) op.reject(new Error('Batch is destroyed'))
    this._ops = []
  }

  tryFlush () {
    this._run()
  }

  async flush () {
    if (this._destroyed) throw new Error('Batch is destroyed')
    this._run()
  }

  _take () {
    if (this._db.closed) throw new Error('RocksDB session is closed')
    const ops = this._ops
    this._ops = []
    return ops
  }
}

class ReadBatch extends Batch {
  get (key) {
    return new Promise((resolve, reject) => {
      this._ops.push({ key: toKey(key), resolve, reject })
    })
  }

  _run () {
    let ops
    try {
      ops = this._take()
    } catch (err) {
      for (const op of this._ops.splice(0)) op.reject(err)
      return
    }
    const db = this._db
    const entries = db._entries()
    db._state.stats.readBatches++
    for (const op of ops) {
      db._state.stats.gets++
      op.resolve(lookup(entries, op.key))
    }
  }
}

class WriteBatch extends Batch {
  _push (op) {
    if (this._db.snapshotted) throw new Error('Cannot write to a snapshot')
    const p = new Promise((resolve, reject) => {
      op.resolve = resolve
      op.reject = reject
    })
    this._ops.push(op)
    return p
  }

  put (key, value) { return this._push({ type: 'put', key: toKey(key), value }) }
  tryPut (key, value) { this.put(key, value).catch(noop) }
  delete (key) { return this._push({ type: 'del', key: toKey(key) }) }
  tryDelete (key) { this.delete(key).catch(noop) }
  deleteRange (start, end) { return this._push({ type: 'range', key: toKey(start), end: toKey(end) }) }
  tryDeleteRange (start, end) { this.deleteRange(start, end).catch(noop) }

  _run () {
    const ops = this._take()
    const db = this._db
    const family = db._state.family(db._cf)
    db._state.stats.writeBatches++
    for (const op of ops) {
      if (op.type === 'put') family.put(op.key, op.value)
      else if (op.type === 'del') family.delete(op.key)
      else family.deleteRange(op.key, op.end)
    }
    for (const op of ops) op.resolve()
  }
}

class Iterator extends Readable {
  constructor (db, opts) {
    super()
    const entries = db._snapshot ? db._snapshot.entries(db._cf) : db._state.family(db._cf).capture()
    const { gt = null, gte = null, lt = null, lte = null, reverse = false, values = true, limit = Infinity } = opts
    let lo = 0
    let hi = entries.length
    if (gte) lo = lowerBound(entries, toKey(gte))
    if (gt) {
      const k = toKey(gt)
      lo = Math.max(lo, lowerBound(entries, k))
      while (lo < hi && b4a.compare(entries[lo][0], k) <= 0) lo++
    }
    if (lt) hi = Math.min(hi, lowerBound(entries, toKey(lt)))
    if (lte) {
      const k = toKey(lte)
      let j = lowerBound(entries, k)
      if (j < entries.length && b4a.equals(entries[j][0], k)) j++
      hi = Math.min(hi, j)
    }
    this._entries = entries
    this._lo = lo
    this._hi = hi
    this._reverse = reverse
    this._values = values
    this._left = limit < 0 ? Infinity : limit
  }

  _read (cb) {
    let n = 0
    while (n < 64 && this._left > 0 && this._lo < this._hi) {
      const e = this._reverse ? this._entries[--this._hi] : this._entries[this._lo++]
      this._left--
      n++
      this.push({ key: copy(e[0]), value: this._values ? copy(e[1]) : null })
    }
    if (this._left <= 0 || this._lo >= this._hi) this.push(null)
    cb(null)
  }
}

function noop () {}

class MemoryRocks {
  constructor (path = 'memory/db', opts = {}) {
    const { state = new State(path), columnFamily = 'default', snapshot = null } = opts
    this._state = state
    this._cf = familyName(columnFamily)
    this._snapshot = snapshot
    this._index = 0
    this._root = !opts.state
    state.sessions.add(this)
  }

  get opened () { return this._state.opened }
  get closed () { return this._root ? this._state.closed : this._index === -1 }
  get path () { return this._state.path }
  get stats () { return this._state.stats }
  get snapshotted () { return this._snapshot !== null }
  get defaultColumnFamily () { return this._cf }

  _entries () {
    return this._snapshot ? this._snapshot.entries(this._cf) : this._state.family(this._cf).entries
  }

  session ({ columnFamily = this._cf, snapshot = this._snapshot !== null } = {}) {
    if (this.closed) throw new Error('RocksDB session is closed')
    return new MemoryRocks(null, {
      state: this._state,
      columnFamily,
      snapshot: snapshot ? this._snapshot || new Snapshot(this._state) : null
    })
  }

  columnFamily (cf, opts) { return this.session({ ...opts, columnFamily: familyName(cf) }) }
  snapshot () { return this.session({ snapshot: true }) }
  isRoot () { return this._root }
  async ready () {}
  isIdle () { return true }
  async idle () {}
  async suspend () {}
  async resume () {}
  async flush () {}
  async compact () {}
  async compactRange () {}
  async approximateSize () { return 0 }

  async close () {
    this._index = -1
    this._state.sessions.delete(this)
    if (this._root) {
      this._state.closing = true
      for (const s of this._state.sessions) s._index = -1
      this._state.sessions.clear()
      this._state.closed = true
    }
  }

  iterator (range, opts) {
    if (this.closed) throw new Error('RocksDB session is closed')
    return new Iterator(this, { ...range, ...opts })
  }

  async * keys (range, opts) {
    for await (const { key } of this.iterator(range, { ...opts, values: false })) yield key
  }

  async peek (range, opts) {
    for await (const value of this.iterator({ ...range, ...opts, limit: 1 })) return value
    return null
  }

  read () {
    if (this.closed) throw new Error('RocksDB session is closed')
    return new ReadBatch(this)
  }

  write () {
    if (this.closed) throw new Error('RocksDB session is closed')
    return new WriteBatch(this)
  }

  async get (key) {
    return lookup(this._entries(), toKey(key))
  }

  async put (key, value) {
    const w = this.write()
    w.tryPut(key, value)
    await w.flush()
  }

  async delete (key) {
    const w = this.write()
    w.tryDelete(key)
    await w.flush()
  }

  async deleteRange (start, end) {
    const w = this.write()
    w.tryDeleteRange(start, end)
    await w.flush()
  }
}

module.exports = MemoryRocks
module.exports.MemoryRocks = MemoryRocks
module.exports.ColumnFamily = ColumnFamily
module.exports.constants = {}
