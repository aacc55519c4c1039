// Prints what live hyper-sdk 4.5.1 derives (keys, discovery keys, URLs, topics, the noise key, the
// first signature of a named core) for a fixed primary key, as one JSON document on stdout.
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const mod = (p) => import(pathToFileURL(path.join(root, 'interop', 'sdk', 'node_modules', p)).href)
const { create } = await mod('hyper-sdk/index.js')
const { default: b4a } = await mod('b4a/index.js')

const input = JSON.parse(process.argv[2])
const primaryKey = b4a.from(input.primaryKey, 'hex')
// no network: a stand-in swarm (create() takes opts.swarm as it is)
const fakeSwarm = () => ({
  keyPair: null, connections: new Set(), peers: new Map(),
  on () {}, async listen () {}, async destroy () {}, async flush () {},
  join () { return { async flushed () {}, async destroy () {} } }, async leave () {}
})
const sdk = await create({
  storage: false,
  autoJoin: false,
  corestoreOpts: { primaryKey },
  swarm: fakeSwarm()
})
const hex = (b) => b4a.toString(b, 'hex')
const out = { names: {}, topics: {}, forms: {}, namespaced: {}, signatures: {} }
out.noise = hex((await sdk.corestore.createKeyPair('noise')).publicKey)
for (const name of input.names) {
  const core = await sdk.get(name)
  out.names[name] = { key: hex(core.key), discoveryKey: hex(core.discoveryKey), url: core.url, id: core.id, writable: core.writable }
}
for (const t of input.topics) {
  const topic = sdk.makeTopicKey(t)
  const core = await sdk.get(topic)
  out.topics[t] = { topic: hex(topic), key: hex(core.key), discoveryKey: hex(core.discoveryKey), writable: core.writable, length: core.length }
}
for (const f of input.forms) {
  try {
    const core = await sdk.get(f)
    out.forms[f] = { key: hex(core.key) }
  } catch (err) {
    out.forms[f] = { error: err.message }
  }
}
for (const [ns, name] of input.namespaced) {
  const core = sdk.namespace(ns).get({ name })
  await core.ready()
  out.namespaced[ns + '/' + name] = hex(core.key)
}
for (const [name, blocks] of input.appends) {
  const core = await sdk.get(name)
  for (const b of blocks) await core.append(b4a.from(b))
  out.signatures[name] = { length: core.length, signature: hex(core.core.tree.signature), hash: hex(core.core.tree.hash()) }
}
await sdk.close()
process.stdout.write(JSON.stringify(out))
