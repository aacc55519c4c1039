// Linearize writer cores with autobase 7.28.1's own Linearizer: reads JSON on stdin
// { indexers: [keyHex], writers: [{ key, blocks: [hex] }] }, decodes each block with autobase's
// OplogMessage, and adds each writer's next node (whole batches) once the heads it names are
// loaded, round-robin, then update() and shift the indexed nodes' writers -- as autobase's
// _addRemoteHeads / Writer._ensureNodeDependencies / apply state do. Prints
// { indexed: ["<key hex>:<length>", ...] } in indexed order.
'use strict'
const c = require('compact-encoding')
const b4a = require('b4a')
const messages = require('autobase/lib/messages.js')
const Linearizer = require('autobase/lib/linearizer.js')
const NodeBuffer = require('autobase/lib/node-buffer.js')

class Writer {
  constructor (key, indexer) {
    this.core = { key }
    this.isActiveIndexer = indexer
    this.isRemoved = false
    this.nodes = new NodeBuffer(0)
    this.length = 0
    this.available = 0
    this.pending = []
  }

  get indexed () { return this.nodes.offset }
  head () { return this.nodes.get(this.length - 1) }
  get (seq) { return seq < this.length ? this.nodes.get(seq) : null }

  shift () {
    if (this.length <= this.nodes.offset) return false
    let node = this.nodes.shift().clear()
    while (node.batch > 1) node = this.nodes.shift().clear()
    return true
  }
}

function main (input) {
  const indexers = input.indexers.map((k) => b4a.from(k, 'hex'))
  const writers = new Map()
  const byHex = (k) => writers.get(b4a.toString(k, 'hex'))
  for (const k of indexers) writers.set(b4a.toString(k, 'hex'), new Writer(k, true))
  for (const w of input.writers) {
    if (!writers.has(w.key)) writers.set(w.key, new Writer(b4a.from(w.key, 'hex'), false))
    writers.get(w.key).pending.push(...w.blocks.map((h) => c.decode(messages.OplogMessage, b4a.from(h, 'hex'))))
  }
  const l = new Linearizer([...writers.values()].filter((w) => w.isActiveIndexer))
  const indexed = []

  const ready = (w, msg) => msg.node.heads.every((h) => {
    const hw = byHex(h.key)
    return hw && (hw === w || hw.nodes.length >= h.length)
  })

  const load = (w, msg) => {
    const heads = msg.node.heads.slice()
    const deps = new Set()
    for (let i = 0; i < heads.length; i++) {
      let node = byHex(heads[i].key).nodes.get(heads[i].length - 1)
      if (!node) {
        for (const n of l.heads) if (n.length === heads[i].length && b4a.equals(n.writer.core.key, heads[i].key)) node = n
      }
      if (!node) { heads.splice(i--, 1); continue }
      deps.add(node)
    }
    const offset = w.nodes.length
    if (offset > w.indexed) deps.add(w.nodes.get(offset - 1))
    const node = Linearizer.createNode(w, w.nodes.length + 1, msg.node.value, heads, msg.node.batch, deps, !!msg.optimistic)
    w.nodes.push(node)
    w.available++
    w.length++
    return node
  }

  while (true) {
    let added = 0
    for (const w of writers.values()) {
      let end = 0
      while (end < w.pending.length && w.pending[end].node.batch !== 1) end++
      if (end >= w.pending.length || !ready(w, w.pending[0])) continue
      for (const msg of w.pending.splice(0, end + 1)) l.addHead(load(w, msg))
      added += end + 1
    }
    const u = l.update()
    if (u) {
      for (const n of u.indexed) {
        indexed.push(b4a.toString(n.writer.core.key, 'hex') + ':' + n.length)
        if (n.batch === 1) n.writer.shift()
      }
    }
    if (added === 0) break
  }
  return { indexed }
}

let data = ''
process.stdin.on('data', (d) => { data += d })
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(main(JSON.parse(data))) + '\n')
})
