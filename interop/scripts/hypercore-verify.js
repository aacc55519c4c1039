// Feeds Merkle proofs made by hyperpunch to a real JS hypercore 11.37.1 (a reader core created
// from the key alone) through core.core.verify(), the path replication uses, and reports what the
// JS algorithm accepted. stdin: {"key": hex, "proofs": [hex of wire.data messages]}.
// stdout: {"results": [true | false | "ERROR_CODE"], "length", "fork", "byteLength", "treeHash",
// "signature", "blocks": [hex or null]}.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const c = require('compact-encoding')
const b4a = require('b4a')
const Hypercore = require('hypercore')
const m = require('hypercore/lib/messages.js')
const { MerkleTree } = require('hypercore/lib/merkle-tree.js')

async function main () {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-hypercore-verify-'))
  const core = new Hypercore(dir, b4a.from(input.key, 'hex'))
  await core.ready()
  try {
    const results = []
    for (const h of input.proofs) {
      const proof = c.decode(m.wire.data, b4a.from(h, 'hex'))
      try {
        results.push(await core.core.verify(proof, null))
      } catch (err) {
        results.push(err.code || String(err.message))
      }
    }
    const blocks = []
    for (let i = 0; i < core.length; i++) {
      const b = await core.get(i, { wait: false })
      blocks.push(b ? b4a.toString(b, 'hex') : null)
    }
    const state = core.core.state
    const out = {
      results,
      length: core.length,
      fork: core.fork,
      byteLength: core.byteLength,
      treeHash: b4a.toString(MerkleTree.hash(state), 'hex'),
      signature: state.signature ? b4a.toString(state.signature, 'hex') : null,
      blocks
    }
    process.stdout.write(JSON.stringify(out) + '\n')
  } finally {
    await core.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => { console.error(err); process.exit(1) })
