// Runs a list of hyperbeedeebee 2.0.0 operations on a real JS Hyperbee 2.27.3 (hypercore 11,
// temp-dir storage) and prints the blocks and the results, so hyperpunch.docdb can check it writes
// the same bytes and answers the same queries.
// stdin: {"blocks": [hex, ...] | null, "ops": [op]}
//   blocks: when given, the core is first filled with these raw blocks (a bee written elsewhere,
//   e.g. by hyperpunch), then opened as the Hyperbee the DB runs on.
//   Documents, queries and updates travel as BSON hex (js-bson 4.7.2, Buffers promoted):
//   {"coll": name, "insert": docHex}
//   {"coll": name, "createIndex": [field, ...]}
//   {"coll": name, "update": [queryHex, updateHex], "upsert": bool?, "multi": bool?}
//   {"coll": name, "find": queryHex, "sort": [field, dir]?, "skip": n?, "limit": n?, "hint": name?}
// stdout: {"blocks": [hex, ...], "results": [result per op]} where a find's result is
//   {"docs": [bsonHex, ...]} or {"error": message}, an update's {"nMatched", "nUpserted",
//   "nModified"} or {"error"}, others null or {"error"}.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const { DB, BSON } = require('hyperbeedeebee')

const buf = (h) => b4a.from(h, 'hex')
const de = (h) => BSON.deserialize(buf(h), { promoteBuffers: true })
const hex = (doc) => b4a.toString(BSON.serialize(doc), 'hex')

async function run (db, op) {
  const c = db.collection(op.coll)
  if (op.insert !== undefined) {
    await c.insert(de(op.insert).d)
    return null
  }
  if (op.createIndex) {
    await c.createIndex(op.createIndex)
    return null
  }
  if (op.update) {
    const r = await c.update(de(op.update[0]).d, de(op.update[1]).d, { upsert: !!op.upsert, multi: !!op.multi })
    return r
  }
  if (op.find !== undefined) {
    let cur = c.find(de(op.find).d)
    if (op.sort) cur = cur.sort(op.sort[0], op.sort[1])
    if (op.skip !== undefined && op.skip !== null) cur = cur.skip(op.skip)
    if (op.limit !== undefined && op.limit !== null) cur = cur.limit(op.limit)
    if (op.hint) cur = cur.hint(op.hint)
    const docs = await cur
    return { docs: docs.map(hex) }
  }
  throw new Error('unknown op ' + JSON.stringify(op))
}

async function main () {
  const input = JSON.parse(fs.readFileSync(0, 'utf-8'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-docdb-ops-'))
  const core = new Hypercore(dir)
  await core.ready()
  if (input.blocks && input.blocks.length) await core.append(input.blocks.map(buf))
  const bee = new Hyperbee(core)
  await bee.ready()
  const db = new DB(bee)
  try {
    const results = []
    for (const op of input.ops) {
      try {
        results.push(await run(db, op))
      } catch (err) {
        results.push({ error: err.message })
      }
    }
    const blocks = []
    for (let i = 0; i < core.length; i++) blocks.push(b4a.toString(await core.get(i), 'hex'))
    process.stdout.write(JSON.stringify({ blocks, results }))
  } finally {
    await bee.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
