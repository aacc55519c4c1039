// hyperbeedeebee 2.0.0 reference vectors (js-bson 4.7.2, node-cbor 8.1.0, hyperbee 2.27.3): the
// bee entries (key, value) a fixed sequence of DB writes leaves (documents as BSON, index
// metadata, CBOR index keys of scalars, floats, dates, arrays, booleans, null, ObjectIds, nested
// documents, Buffers inserted and Binaries re-indexed), plus the blocks of that sequence, plus
// the hello-peers "Autodeebee" op (BSON {type, key, value, prefix}) for one put and one del.
// Values in "docs" are tagged JSON: {"$date": ms}, {"$bin": hex}, {"$oid": hex}.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const { DB, BSON } = require('hyperbeedeebee')

const hex = (b) => b4a.toString(b, 'hex')

function untag (v) {
  if (Array.isArray(v)) return v.map(untag)
  if (v !== null && typeof v === 'object') {
    if ('$date' in v) return new Date(v.$date)
    if ('$bin' in v) return b4a.from(v.$bin, 'hex')
    if ('$oid' in v) return new BSON.ObjectId(v.$oid)
    const o = {}
    for (const k of Object.keys(v)) o[k] = untag(v[k])
    return o
  }
  return v
}

const ID = (n) => ({ $oid: '65f1a2b3c4d5e6f708090a' + n.toString(16).padStart(2, '0') })

const DOCS = [
  { text: 'milk', done: false, _id: ID(0) },
  { text: 'eggs', done: true, tags: ['a', 'b'], n: 1.5, _id: ID(1) },
  { text: 'Äpfel', done: true, n: 2147483648, when: { $date: 1709251200000 }, _id: ID(2) },
  { text: 'x', n: -3, tags: [], bin: { $bin: '0102ff' }, nested: { a: 1, b: [true, null] }, _id: ID(3) },
  { text: 'ref', ref: ID(0), n: 0.1, when: { $date: 1709251200123 }, done: null, _id: ID(4) }
]
const INDEXES = [['done', 'text'], ['tags'], ['n'], ['when'], ['ref', 'bin'], ['nested']]

module.exports = async function () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-vectors-'))
  const core = new Hypercore(dir)
  const bee = new Hyperbee(core)
  await bee.ready()
  const db = new DB(bee)
  const todo = db.collection('todo')
  await todo.createIndex(INDEXES[0])
  await todo.createIndex(INDEXES[1])
  for (const d of DOCS.slice(0, 3)) await todo.insert(untag(d))
  for (const fields of INDEXES.slice(2)) await todo.createIndex(fields)
  for (const d of DOCS.slice(3)) await todo.insert(untag(d))
  await todo.update({ text: { $eq: 'milk' } }, { $set: { done: true }, $push: { tags: 'z' } })
  const entries = []
  for await (const { key, value } of bee.createReadStream()) entries.push({ key: hex(key), value: hex(value) })
  const blocks = []
  for (let i = 0; i < core.length; i++) blocks.push(hex(await core.get(i)))
  await bee.close()
  fs.rmSync(dir, { recursive: true, force: true })

  const milk = untag(DOCS[0])
  const autodeebee = [
    { type: 'put', key: milk._id.id, value: BSON.serialize(milk), prefix: b4a.from('todo\x00doc\x00') },
    { type: 'del', key: milk._id.id, prefix: b4a.from('todo\x00doc\x00') }
  ].map((op) => ({
    type: op.type,
    key: hex(op.key),
    value: op.value ? hex(op.value) : null,
    prefix: hex(op.prefix),
    encoded: hex(BSON.serialize(op))
  }))
  return {
    docs: DOCS,
    indexes: INDEXES,
    update: { query: { text: { $eq: 'milk' } }, update: { $set: { done: true }, $push: { tags: 'z' } } },
    entries,
    blocks,
    autodeebee
  }
}
