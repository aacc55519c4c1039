// Prints the reference vectors hyperpunch's tests compare against, computed by the pinned JS
// modules with fixed seeds and ephemerals. Each file in ./vectors exports an (async) function
// returning a JSON-able object; the output is { "<file name>": <object>, ... } in name order.
// Regenerate with `make vectors`; the suite fails when the committed file drifts from this output.
'use strict'
const fs = require('fs')
const path = require('path')

async function main () {
  const dir = path.join(__dirname, 'vectors')
  const out = {}
  for (const file of fs.readdirSync(dir).filter(f => f.endsWith('.js')).sort()) {
    out[file.slice(0, -3)] = await require(path.join(dir, file))()
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n')
}

main().catch(err => { console.error(err); process.exit(1) })
