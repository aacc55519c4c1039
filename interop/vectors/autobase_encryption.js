// autobase 7.28.1 block encryption vectors (issue 13): a real Autobase run with a fixed
// encryptionKey under a fixed Corestore primary key (one writer, a plain 'view' core of json
// values). Recorded: the keys autobase derives (writer block key as hypercore DefaultEncryption
// derives it for the local core; the compat view block keys of 'view' and '_system' as
// lib/encryption.js derives them), the stored (encrypted, padded) bytes of the first local,
// view and system blocks and their plaintexts, and the view and system cores (key, length, tree
// hash). The same run without an encryption key gives the keys an unencrypted base has (the view
// namespaces hash the encryption key, so they differ). And `encrypt: true` with no key: the key
// autobase derives from the store and keeps in the local core's user data. Bytes are hex strings.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const Corestore = require('corestore')
const Autobase = require('autobase')
const b4a = require('b4a')

const hex = (b) => b4a.toString(b, 'hex')
const PRIMARY = b4a.alloc(32, 5)
const ENCRYPTION_KEY = b4a.alloc(32, 9)

function makeBase (store, encryptionKey, encrypt = false) {
  return new Autobase(store, null, {
    encrypt,
    valueEncoding: 'json',
    ackInterval: 0,
    ackThreshold: 0,
    fastForward: false,
    encryptionKey,
    open: (s) => s.get('view', { valueEncoding: 'json' }),
    apply: async (nodes, view) => {
      for (const { value } of nodes) await view.append(value)
    }
  })
}

async function stored (core, length) {
  const out = []
  for (let i = 0; i < length; i++) {
    out.push({
      raw: hex(await core.get(i, { raw: true })),
      plain: hex(await core.get(i, { valueEncoding: 'binary' }))
    })
  }
  return out
}

async function run (encryptionKey) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-enc-vectors-'))
  const store = new Corestore(path.join(tmp, 's'), { primaryKey: PRIMARY, unsafe: true })
  const base = makeBase(store, encryptionKey)
  await base.ready()
  await base.append('a0')
  await base.append(['a1', { b: 2 }])
  await base.update()
  const out = {
    primaryKey: hex(PRIMARY),
    encryptionKey: encryptionKey ? hex(encryptionKey) : null,
    values: ['a0', ['a1', { b: 2 }]],
    key: hex(base.key),
    local: hex(base.local.key),
    baseEncryptionKey: base.encryptionKey ? hex(base.encryptionKey) : null,
    localBlocks: await stored(base.local, base.local.length),
    view: {
      key: hex(base.view.key),
      length: base.view.length,
      treeHash: hex(await base.view.treeHash(base.view.length)),
      blocks: await stored(base.view, base.view.length)
    },
    system: {
      key: hex(base.core.key),
      indexedLength: base.indexedLength,
      treeHash: hex(await base.core.treeHash(base.indexedLength)),
      blocks: await stored(base.core, Math.min(2, base.indexedLength))
    }
  }
  if (encryptionKey) {
    const writer = base.getWriterEncryption()
    const wk = writer.compatKeys({ key: base.local.key })
    out.writerBlockKey = hex(wk.block)
    out.writerBlindingKey = hex(wk.blinding)
    out.viewBlockKeys = {}
    for (const name of ['view', '_system']) {
      out.viewBlockKeys[name] = hex(base.encryption.getViewEncryption(name).compatKeys().block)
    }
    out.localManifestVersion = base.local.manifest.version
    out.viewManifestVersion = base.view.manifest.version
    out.systemManifestVersion = base.core.manifest.version
  }
  await base.close()
  await store.close()
  fs.rmSync(tmp, { recursive: true, force: true })
  return out
}

async function generated () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'autobase-enc-vectors-'))
  const store = new Corestore(path.join(tmp, 's'), { primaryKey: PRIMARY, unsafe: true })
  const base = makeBase(store, null, true)
  await base.ready()
  const out = {
    primaryKey: hex(PRIMARY),
    encryptionKey: hex(base.encryptionKey),
    localUserData: hex(await base.local.getUserData('autobase/encryption'))
  }
  await base.close()
  await store.close()
  fs.rmSync(tmp, { recursive: true, force: true })
  return out
}

module.exports = async function () {
  return { encrypted: await run(ENCRYPTION_KEY), plain: await run(null), generated: await generated() }
}
