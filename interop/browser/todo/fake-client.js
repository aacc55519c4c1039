// An in-memory stand-in for ./client.js (same API as the contract's openTodoList) for the page's
// own tests. The list is kept in localStorage, so every tab / iframe of one origin shares it and a
// reload keeps it; other tabs hear about changes through the 'storage' event.
//
// Test hooks on globalThis.fakeTodo: setStatus({connection, peers, writable}) simulates going
// offline or not being a writer yet; the page URL's query (?connection=offline&peers=3&writable=0)
// sets the status a page starts with.

const MAX_TEXT_BYTES = 4096
const PREFIX = 'hyperpunch-fake-todo:'

export class TodoError extends Error {
  constructor (code, message) {
    super(message || code)
    this.name = 'TodoError'
    this.code = code
  }
}

function checkText (text) {
  const trimmed = String(text).trim()
  if (trimmed === '') throw new TodoError('EMPTY_TEXT', 'todo text is empty')
  if (new TextEncoder().encode(trimmed).length > MAX_TEXT_BYTES) {
    throw new TodoError('TEXT_TOO_LONG', `todo text is longer than ${MAX_TEXT_BYTES} bytes`)
  }
  return trimmed
}

let counter = Math.floor(Math.random() * 0xffffff)
const processRandom = crypto.getRandomValues(new Uint8Array(5)) // as ObjectId: once per process

function objectId () {
  const bytes = new Uint8Array(12)
  new DataView(bytes.buffer).setUint32(0, Math.floor(Date.now() / 1000))
  bytes.set(processRandom, 4)
  counter = (counter + 1) & 0xffffff
  bytes[9] = counter >> 16
  bytes[10] = (counter >> 8) & 0xff
  bytes[11] = counter & 0xff
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
}

function initialStatus () {
  const q = new URLSearchParams(globalThis.location ? location.search : '')
  return {
    connection: q.get('connection') || 'online',
    peers: Number(q.get('peers') || 1),
    writable: q.get('writable') !== '0'
  }
}

class FakeTodoList {
  constructor (key, onStatus) {
    this.key = key
    this._slot = PREFIX + key
    this._listeners = { change: new Set(), status: new Set() }
    this._status = initialStatus()
    this._closed = false
    if (onStatus) this.on('status', onStatus)
    this._onStorage = (e) => {
      if (e.key === this._slot) this._emit('change')
    }
    globalThis.addEventListener('storage', this._onStorage)
  }

  get writable () { return this._status.writable }
  get status () { return { ...this._status } }

  on (name, fn) { this._listeners[name].add(fn); return this }
  off (name, fn) { this._listeners[name].delete(fn); return this }
  _emit (name, arg) { for (const fn of [...this._listeners[name]]) fn(arg) }

  setStatus (patch) {
    this._status = { ...this._status, ...patch }
    this._emit('status', this.status)
  }

  _load () {
    try { return JSON.parse(localStorage.getItem(this._slot) || '{}') } catch { return {} }
  }

  _write (mutate) {
    if (this._closed) throw new Error('list is closed')
    if (!this._status.writable) throw new TodoError('NOT_WRITABLE', 'not a writer of this list yet')
    const docs = this._load()
    const result = mutate(docs)
    localStorage.setItem(this._slot, JSON.stringify(docs))
    queueMicrotask(() => this._emit('change'))
    return result
  }

  async todos () {
    const docs = this._load()
    return Object.keys(docs).sort().map((id) => ({ id, text: docs[id].text, done: docs[id].done }))
  }

  async add (text) {
    const clean = checkText(text)
    return this._write((docs) => {
      const id = objectId()
      docs[id] = { text: clean, done: false }
      return id
    })
  }

  async edit (id, text) {
    const clean = checkText(text)
    this._write((docs) => {
      if (!docs[id]) throw new TodoError('NOT_FOUND', 'no such todo')
      docs[id].text = clean
    })
  }

  async setDone (id, done) {
    this._write((docs) => {
      if (!docs[id]) throw new TodoError('NOT_FOUND', 'no such todo')
      docs[id].done = Boolean(done)
    })
  }

  async remove (id) {
    this._write((docs) => {
      if (!docs[id]) throw new TodoError('NOT_FOUND', 'no such todo')
      delete docs[id]
    })
  }

  async clearCompleted () {
    this._write((docs) => {
      for (const id of Object.keys(docs)) if (docs[id].done) delete docs[id]
    })
  }

  async close () {
    this._closed = true
    globalThis.removeEventListener('storage', this._onStorage)
  }
}

export async function openTodoList ({ listKey, onStatus } = {}) {
  if (!/^[0-9a-f]{64}$/.test(String(listKey))) throw new TodoError('BAD_KEY', 'list key must be 64 hex')
  const list = new FakeTodoList(listKey, onStatus)
  globalThis.fakeTodo = list
  return list
}
