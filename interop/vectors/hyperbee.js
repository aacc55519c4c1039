// hyperbee 2.27.3 reference vectors: the protobuf messages of lib/messages.js (Header with and
// without metadata, YoloIndex, Node, the extension's cache / get / iterator messages), the
// compact-encoding buffer framing hypercore puts around an extension message, and the blocks a
// small fixed sequence of operations writes (puts, an overwrite, deletes forcing a merge). Bytes
// are hex strings.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const b4a = require('b4a')
const c = require('compact-encoding')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const { Header, Node, YoloIndex, Extension } = require('hyperbee/lib/messages')

const hex = (b) => (b === null || b === undefined ? null : b4a.toString(b, 'hex'))

module.exports = async function () {
  const headers = [
    { protocol: 'hyperbee', metadata: null },
    { protocol: 'hyperbee', metadata: { contentFeed: b4a.alloc(32, 7), userData: null } },
    { protocol: 'hyperbee', metadata: { contentFeed: null, userData: b4a.from('user data') } }
  ].map((h) => ({
    protocol: h.protocol,
    contentFeed: h.metadata && hex(h.metadata.contentFeed),
    userData: h.metadata && hex(h.metadata.userData),
    hasMetadata: h.metadata !== null,
    encoded: hex(Header.encode(h))
  }))
  const indexes = [
    { levels: [] },
    { levels: [{ keys: [], children: [] }] },
    { levels: [{ keys: [1], children: [] }] },
    { levels: [{ keys: [3, 200, 70000], children: [1, 0, 2, 1, 300, 0, 5, 2] }, { keys: [9], children: [] }] }
  ].map((x) => ({ levels: x.levels, encoded: hex(YoloIndex.encode(x)) }))
  const nodes = [
    { key: b4a.from('a'), value: b4a.from('b'), index: YoloIndex.encode({ levels: [{ keys: [1], children: [] }] }) },
    { key: b4a.from('deleted'), value: null, index: YoloIndex.encode({ levels: [] }) },
    { key: b4a.alloc(300, 0xfe), value: b4a.alloc(0), index: YoloIndex.encode({ levels: [{ keys: [1, 2], children: [] }] }) }
  ].map((n) => ({ key: hex(n.key), value: hex(n.value), index: hex(n.index), encoded: hex(Node.encode(n)) }))
  const extension = [
    { cache: { start: 3, end: 10, blocks: [3, 9, 4] } },
    { get: { version: 42, key: b4a.from('key') } },
    { get: { version: 0, key: null } },
    { iterator: { version: 7, gte: b4a.from('a'), gt: null, lte: null, lt: b4a.from('z'), limit: 0, reverse: true, checkpoint: [6, 0, 3, 2, 1, 0] } },
    { iterator: { version: 300, gte: null, gt: b4a.alloc(0), lte: b4a.from('q'), lt: null, limit: 5, reverse: false, checkpoint: [] } }
  ].map((m) => {
    const encoded = Extension.encode(m)
    return { message: JSON.parse(JSON.stringify(m, (k, v) => (v && v.type === 'Buffer' ? hex(b4a.from(v.data)) : v))), encoded: hex(encoded), framed: hex(c.encode(c.buffer, encoded)) }
  })

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperbee-vectors-'))
  const core = new Hypercore(dir)
  const db = new Hyperbee(core)
  await db.ready()
  const ops = []
  for (let i = 0; i < 20; i++) ops.push(['put', 'k' + String(i).padStart(2, '0'), 'v' + i])
  ops.push(['put', 'k05', 'again'])
  for (let i = 0; i < 14; i++) ops.push(['del', 'k' + String(i).padStart(2, '0')])
  for (const [op, k, v] of ops) {
    if (op === 'put') await db.put(b4a.from(k), b4a.from(v))
    else await db.del(b4a.from(k))
  }
  const blocks = []
  for (let i = 0; i < core.length; i++) blocks.push(hex(await core.get(i)))
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })

  return { headers, indexes, nodes, extension, ops, blocks }
}
