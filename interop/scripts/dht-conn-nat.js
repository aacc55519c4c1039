// Runs hyperdht 6.34's lib/nat.js and Holepuncher.matchAddress on cases from stdin (JSON) and
// prints what they decide, for the Python NAT-analysis tests.
// stdin: {"nat": [{"firewalled": bool, "samples": [{"addr": [host, port], "from": [host, port]}],
//                  "freezeAt": n?}],
//         "match": [{"mine": [[host, port]], "theirs": [[host, port]]}], "bogon": [host]}
// stdout: {"nat": [[{"firewall": n, "addresses": [[host, port]] | null, "sampled": n}] per step],
//          "match": [[host, port] | null], "bogon": [[isPrivate, isReserved, isBogon]]}
'use strict'
const Nat = require('hyperdht/lib/nat')
const Holepuncher = require('hyperdht/lib/holepuncher')
const bogon = require('bogon')

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const cases = JSON.parse(input)
  const nat = cases.nat.map((c) => {
    const n = new Nat({ firewalled: c.firewalled, nodes: { length: 0, latest: null } }, null, null)
    const steps = []
    c.samples.forEach((s, i) => {
      if (c.freezeAt === i) n.freeze()
      n.add({ host: s.addr[0], port: s.addr[1] }, { host: s.from[0], port: s.from[1] })
      steps.push({
        firewall: n.firewall,
        addresses: n.addresses ? n.addresses.map((a) => [a.host, a.port]) : null,
        sampled: n.sampled
      })
    })
    return steps
  })
  const match = cases.match.map((c) => {
    const r = Holepuncher.matchAddress(
      c.mine.map(([host, port]) => ({ host, port })),
      c.theirs.map(([host, port]) => ({ host, port }))
    )
    return r ? [r.host, r.port] : null
  })
  const hosts = (cases.bogon || []).map((h) => [bogon.isPrivate(h), bogon.isReserved(h), bogon.isBogon(h)])
  process.stdout.write(JSON.stringify({ nat, match, bogon: hosts }))
})
