// corestore 7.12.5 reference vectors: key derivation of named cores (seed, key pair, default v1
// manifest -> core key, discovery key) under fixed primary keys, in the default namespace and in
// nested namespaces (store.namespace(a).namespace(b)), computed by real Corestore instances
// (primaryKey passed with unsafe: true) and by store.createKeyPair. Also the key of a core made
// from an explicit key pair. Bytes are hex strings.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const sodium = require('sodium-universal')
const crypto = require('hypercore-crypto')
const Corestore = require('corestore')

const hex = (b) => (b === null || b === undefined ? null : b4a.toString(b, 'hex'))

const PRIMARY_KEYS = [b4a.alloc(32, 0x02), b4a.alloc(32, 0xab), b4a.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')]
const NAMES = ['a', 'main', 'long', 'short', 'core-42', '', 'ünïcødé 名前', 'x'.repeat(300)]
const NAMESPACES = [[], ['ns'], ['ns', 'inner'], ['app', 'v1', 'deep'], ['']]

function seedOf (primaryKey, ns, name) {
  // the derivation corestore documents (deriveSeed), recomputed here to expose the seed
  const [NS] = crypto.namespace('corestore', 1)
  const out = b4a.alloc(32)
  sodium.crypto_generichash_batch(out, [NS, ns, b4a.from(name)], primaryKey)
  return out
}

module.exports = async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'corestore-vectors-'))
  const cases = []
  const namespaces = []
  try {
    for (let p = 0; p < PRIMARY_KEYS.length; p++) {
      const primaryKey = PRIMARY_KEYS[p]
      const root = new Corestore(path.join(tmp, 'store' + p), { primaryKey, unsafe: true })
      await root.ready()
      for (const nsPath of NAMESPACES) {
        let store = root
        for (const part of nsPath) store = store.namespace(part)
        if (p === 0) namespaces.push({ path: nsPath, namespace: hex(store.ns) })
        for (const name of NAMES) {
          if (nsPath.length > 1 && name.length > 10) continue
          const kp = await store.createKeyPair(name)
          let core = null
          let getError = null
          try {
            core = store.get({ name })
            await core.ready()
          } catch (err) {
            getError = err.message // get({ name: '' }) is refused: an empty name is no name
          }
          if (core && !b4a.equals(kp.publicKey, core.keyPair.publicKey)) throw new Error('key pair mismatch')
          const seed = seedOf(primaryKey, store.ns, name)
          const fromSeed = crypto.keyPair(seed)
          if (!b4a.equals(fromSeed.publicKey, kp.publicKey)) throw new Error('seed mismatch')
          cases.push({
            primaryKey: hex(primaryKey),
            namespacePath: nsPath,
            namespace: hex(store.ns),
            name,
            seed: hex(seed),
            publicKey: hex(kp.publicKey),
            secretKey: hex(kp.secretKey),
            manifestVersion: core ? core.manifest.version : null,
            key: core ? hex(core.key) : null,
            discoveryKey: core ? hex(core.discoveryKey) : null,
            getError
          })
          if (core) await core.close()
        }
      }
      await root.close()
    }

    // a core from an explicit key pair (no name): key = manifest hash of the default v1 signer
    const store = new Corestore(path.join(tmp, 'kp'), { primaryKey: PRIMARY_KEYS[0], unsafe: true })
    const keyPair = crypto.keyPair(b4a.alloc(32, 0x07))
    const core = store.get({ keyPair })
    await core.ready()
    const fromKeyPair = { seed: hex(b4a.alloc(32, 0x07)), publicKey: hex(keyPair.publicKey), key: hex(core.key), discoveryKey: hex(core.discoveryKey) }
    await store.close()

    // reopening a store keeps its (random) primary key and so its named cores' keys
    const s1 = new Corestore(path.join(tmp, 'reopen'))
    const k1 = (await s1.createKeyPair('a')).publicKey
    await s1.close()
    const s2 = new Corestore(path.join(tmp, 'reopen'))
    const k2 = (await s2.createKeyPair('a')).publicKey
    await s2.close()
    if (!b4a.equals(k1, k2)) throw new Error('reopen changed keys')

    const [NS] = crypto.namespace('corestore', 1)
    return { NS: hex(NS), defaultNamespace: hex(b4a.alloc(32)), namespaces, cases, fromKeyPair }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}
