// Applies an operation list to a real JS hyperbee 2.27.3 (on hypercore 11, temp-dir storage) and
// prints every block it wrote, so hyperpunch can check it writes the same bytes.
// stdin: {"metadata": {"contentFeed": hex|null, "userData": hex|null} | null,
//         "ops": [op]} where op is one of
//   {"put": [keyHex, valueHex], "sub": prefixHex?, "cas": bool?}
//   {"del": keyHex, "sub": prefixHex?}
//   {"batch": [op, ...]}               (puts/dels inside one db.batch(), then flush)
//   "cas": true uses cas = (prev, next) => !equals(prev.value, next.value)
// stdout: {"blocks": [hex, ...]} (block 0 is the header)
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')

const buf = (h) => b4a.from(h, 'hex')
const cas = (prev, next) => !(prev.value === next.value || (prev.value !== null && next.value !== null && b4a.equals(prev.value, next.value)))

async function apply (db, target, op) {
  const t = op.sub !== undefined && op.sub !== null ? (target.sub ? target.sub(buf(op.sub)) : null) : target
  if (op.put) {
    const [k, v] = op.put
    await t.put(buf(k), v === null ? null : buf(v), op.cas ? { cas } : undefined)
  } else if (op.del !== undefined) {
    await t.del(buf(op.del), op.cas ? { cas } : undefined)
  }
}

async function applySubBatch (db, b, op) {
  // inside a batch, sub keys are prefixed by hand (db.sub() cannot wrap a batch)
  const prefix = op.sub !== undefined && op.sub !== null ? b4a.concat([buf(op.sub), b4a.alloc(1)]) : b4a.alloc(0)
  if (op.put) {
    const [k, v] = op.put
    await b.put(b4a.concat([prefix, buf(k)]), v === null ? null : buf(v), op.cas ? { cas } : undefined)
  } else {
    await b.del(b4a.concat([prefix, buf(op.del)]), op.cas ? { cas } : undefined)
  }
}

async function main () {
  const input = JSON.parse(fs.readFileSync(0, 'utf-8'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-hyperbee-ops-'))
  const core = new Hypercore(dir)
  const md = input.metadata
  const metadata = md ? { contentFeed: md.contentFeed ? buf(md.contentFeed) : null, userData: md.userData ? buf(md.userData) : null } : null
  const db = new Hyperbee(core, metadata ? { metadata } : {})
  await db.ready()
  try {
    for (const op of input.ops) {
      if (op.batch) {
        const b = db.batch()
        for (const o of op.batch) await applySubBatch(db, b, o)
        await b.flush()
      } else {
        await apply(db, db, op)
      }
    }
    const blocks = []
    for (let i = 0; i < core.length; i++) blocks.push(b4a.toString(await core.get(i), 'hex'))
    process.stdout.write(JSON.stringify({ blocks }))
  } finally {
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
