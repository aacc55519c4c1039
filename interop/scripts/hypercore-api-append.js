// Runs a writer workload on a real JS hypercore 11.37.1 (RocksDB storage in a temp dir) from a
// fixed key pair and reports everything hyperpunch must reproduce byte for byte.
// stdin: {"mode": "append", "seed": hex32, "encryptionKey": hex32 | null,
//         "ops": [{"append": [hex, ...]} | {"truncate": n}]}
//   stdout: {"key", "discoveryKey", "results": [{"length", "byteLength"} | null per op],
//            "length", "byteLength", "fork", "padding", "treeHash", "signature",
//            "raw": [hex of stored block], "blocks": [hex of decrypted block]}
// stdin: {"mode": "json", "texts": [JSON text]}
//   stdout: {"blocks": [hex]}: each text parsed and stored with valueEncoding 'json'
// stdin: {"mode": "decrypt", "key": hex32, "encryptionKey": hex32, "blocks": [hex raw]}
//   stdout: {"blocks": [hex plaintext]} (JS DefaultEncryption.decrypt of blocks made elsewhere)
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')

const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const buf = (h) => b4a.from(h, 'hex')

async function append (input) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-hypercore-api-'))
  const keyPair = crypto.keyPair(buf(input.seed))
  const opts = { keyPair }
  if (input.encryptionKey) opts.encryptionKey = buf(input.encryptionKey)
  const core = new Hypercore(dir, opts)
  await core.ready()
  try {
    const results = []
    for (const op of input.ops) {
      if (op.append) {
        const r = await core.append(op.append.map(buf))
        results.push({ length: r.length, byteLength: r.byteLength })
      } else {
        await core.truncate(op.truncate)
        results.push(null)
      }
    }
    const raw = []
    const blocks = []
    for (let i = 0; i < core.length; i++) {
      raw.push(hex(await core.get(i, { raw: true })))
      blocks.push(hex(await core.get(i)))
    }
    return {
      key: hex(core.key),
      discoveryKey: hex(core.discoveryKey),
      results,
      length: core.length,
      byteLength: core.byteLength,
      fork: core.fork,
      padding: core.padding,
      treeHash: hex(await core.treeHash()),
      signature: hex(core.state.signature),
      raw,
      blocks
    }
  } finally {
    await core.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function decrypt (input) {
  const enc = new Hypercore.DefaultEncryption(buf(input.encryptionKey), buf(input.key))
  const core = { compat: false, key: buf(input.key) }
  const blocks = input.blocks.map((h, i) => {
    const b = buf(h)
    enc.decrypt(i, b, core)
    return hex(b.subarray(enc.padding()))
  })
  return { blocks }
}

async function json (input) {
  const core = new Hypercore(RAM(), { valueEncoding: 'json' })
  await core.ready()
  try {
    await core.append(input.texts.map((t) => JSON.parse(t)))
    const blocks = []
    for (let i = 0; i < core.length; i++) blocks.push(hex(await core.get(i, { raw: true })))
    return { blocks }
  } finally {
    await core.close()
  }
}

function RAM () {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hp-hypercore-json-'))
}

async function main () {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'))
  const modes = { decrypt, json, append }
  const out = await modes[input.mode](input)
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
