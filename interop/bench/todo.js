// The todo app measured through a server: the twin of bench/bench_todo.py. The pages are the
// built page (browser/todo/build.sh) in Debian's headless Chromium, driven over the DevTools
// protocol (no extra npm package: `ws` + fetch); all timing is taken inside the pages.
// usage: node todo.js latency|memory [json opts]
//   opts.url (+ opts.pid): measure through that server (bench_todo.py runs `hyperpunch todo serve
//   --local` and passes its link and pid); else start todo-serve.js (JS testnet + the JS relay + a
//   JS always-on peer) serving opts.web (the built page; none: build it into a temp dir) and
//   measure through it.
//   latency: two pages on the list, both writers; median (and p90) ms of 20 adds (after 3 warm-up)
//            from submit in page A to the row being in page B's DOM (page A's performance.now()
//            at requestSubmit, page B's MutationObserver; both as timeOrigin + now)
//   memory:  MiB the server process's resident memory grows by while 20 pages are open, writers,
//            online and connected to the always-on peer (VmRSS from /proc/<pid>/status)
// prints {"value": figure} (latency also {"p90": ms})
'use strict'
const { spawn, execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')
const WebSocket = require('ws')

const INTEROP = path.resolve(__dirname, '..')
const WAIT = Number(process.env.TODO_BENCH_WAIT || 180000) // ms; every wait ends as soon as its condition holds
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function lines (stream, onLine) {
  readline.createInterface({ input: stream }).on('line', onLine)
}

// ---- the JS server ----

async function jsServer (built) {
  const web = built || fs.mkdtempSync(path.join(os.tmpdir(), 'todo-bench-web-'))
  if (!built) execFileSync('sh', ['browser/todo/build.sh', web], { cwd: INTEROP, stdio: ['ignore', 'ignore', 'inherit'] })
  const child = spawn(process.execPath, [path.join(__dirname, 'todo-serve.js'), JSON.stringify({ web })], {
    cwd: INTEROP,
    stdio: ['pipe', 'pipe', 'inherit']
  })
  const ready = await new Promise((resolve, reject) => {
    lines(child.stdout, (line) => {
      const msg = JSON.parse(line)
      if (msg.event === 'ready') resolve(msg)
      else if (msg.event === 'error') reject(new Error(msg.message))
    })
    child.once('exit', (code) => reject(new Error('todo-serve.js exited ' + code)))
  })
  return {
    url: ready.url,
    pid: ready.pid,
    async close () {
      child.stdin.end('close\n')
      await new Promise((resolve) => child.once('exit', resolve))
      if (!built) fs.rmSync(web, { recursive: true, force: true })
    }
  }
}

// ---- Chromium over the DevTools protocol ----

async function launchChromium () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'todo-bench-chromium-'))
  const proc = spawn('/usr/bin/chromium', [
    '--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--no-first-run',
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows', '--remote-debugging-port=0',
    '--user-data-dir=' + dir, 'about:blank'
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true }) // its own process group: closed as one
  const endpoint = await new Promise((resolve, reject) => {
    lines(proc.stderr, (line) => {
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(line)
      if (m) resolve(new URL(m[1]))
    })
    proc.once('exit', (code) => reject(new Error('chromium exited ' + code)))
  })
  return {
    http: `http://${endpoint.host}`,
    async close () {
      const exited = proc.exitCode !== null ? Promise.resolve() : new Promise((resolve) => proc.once('exit', resolve))
      try { process.kill(-proc.pid, 'SIGTERM') } catch { proc.kill('SIGTERM') }
      await exited
      // Chromium's helper processes may still be writing the profile for a moment: wait for the
      // group to be gone, retry, and never fail a measurement on cleanup
      for (let i = 0; i < 50; i++) {
        try { process.kill(-proc.pid, 0) } catch { break }
        await sleep(100)
      }
      for (let i = 0; ; i++) {
        try {
          fs.rmSync(dir, { recursive: true, force: true })
          break
        } catch (err) {
          if (i === 20) { console.error('todo.js: could not remove ' + dir + ': ' + err.message); break }
          await sleep(100)
        }
      }
    }
  }
}

class Page {
  static async open (browser, url) {
    const res = await fetch(`${browser.http}/json/new?${encodeURIComponent(url)}`, { method: 'PUT' })
    if (!res.ok) throw new Error('DevTools /json/new: HTTP ' + res.status)
    const target = await res.json()
    const ws = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 1 << 28 })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return new Page(ws)
  }

  constructor (ws) {
    this.ws = ws
    this.nextId = 1
    this.pending = new Map()
    ws.on('message', (data) => {
      const msg = JSON.parse(data)
      const p = this.pending.get(msg.id)
      if (!p) return
      this.pending.delete(msg.id)
      if (msg.error) p.reject(new Error(JSON.stringify(msg.error)))
      else p.resolve(msg.result)
    })
  }

  send (method, params) {
    const id = this.nextId++
    this.ws.send(JSON.stringify({ id, method, params }))
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }))
  }

  async eval (expression) {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })
    if (r.exceptionDetails) throw new Error('in page: ' + JSON.stringify(r.exceptionDetails))
    return r.result.value
  }

  async until (expression, what, timeout = WAIT) {
    const deadline = Date.now() + timeout
    for (;;) {
      const v = await this.eval(expression).catch(() => undefined) // the page may be navigating
      if (v) return v
      if (Date.now() > deadline) {
        const state = await this.eval("location.href + ' | ' + (document.body && document.body.innerText.slice(0, 300))").catch((e) => String(e))
        throw new Error('timed out waiting for ' + what + '; page: ' + state)
      }
      await sleep(25)
    }
  }

  close () { this.ws.close() }
}

const READY = "document.body && document.body.dataset.ready === 'true'"
const WRITABLE = READY + " && document.getElementById('readonly').hidden && !document.getElementById('new-todo').disabled"
const ONLINE = READY + " && document.getElementById('connection').dataset.state === 'online'" +
  " && parseInt(document.getElementById('peers').textContent, 10) >= 1"
// page B: the moment each row's text first appears in the list (a MutationObserver, same clock base)
const WATCH = `(() => {
  window.__seen = {}
  const list = document.getElementById('todo-list')
  const check = () => {
    const now = performance.timeOrigin + performance.now()
    for (const el of list.querySelectorAll('li.todo .text')) if (!(el.textContent in window.__seen)) window.__seen[el.textContent] = now
  }
  new MutationObserver(check).observe(list, { childList: true, subtree: true, characterData: true })
  check()
  return true
})()`
const submit = (text) => `(() => {
  const input = document.getElementById('new-todo')
  input.value = ${JSON.stringify(text)}
  const t0 = performance.timeOrigin + performance.now()
  document.getElementById('new-form').requestSubmit()
  return t0
})()`

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

// nearest-rank percentile (p90 of 20 samples = the 18th smallest)
function percentile (xs, p) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]
}

async function measureLatency (browser, url, rounds = 20, warmup = 3) {
  const a = await Page.open(browser, url)
  const b = await Page.open(browser, url)
  await a.until(WRITABLE, 'page A to be a writer')
  await b.until(WRITABLE, 'page B to be a writer')
  await b.eval(WATCH)
  const times = []
  const tag = Math.random().toString(36).slice(2, 8)
  for (let i = 0; i < warmup + rounds; i++) {
    const text = `bench ${tag} ${i}`
    const t0 = await a.eval(submit(text))
    const seen = await b.until(`window.__seen[${JSON.stringify(text)}]`, `"${text}" in page B`)
    if (i >= warmup) times.push(seen - t0)
  }
  a.close()
  b.close()
  return { value: median(times), p90: percentile(times, 90) }
}

function rssKiB (pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error('no VmRSS for pid ' + pid)
  return Number(m[1])
}

async function measureMemory (browser, url, pid, pages = 20) {
  const before = rssKiB(pid)
  const open = []
  for (let i = 0; i < pages; i++) open.push(await Page.open(browser, url))
  for (const [i, p] of open.entries()) await p.until(WRITABLE + ' && ' + ONLINE, `page ${i} writable and online with a peer`)
  await sleep(2000) // let the sessions settle (no condition to wait on: a figure, not a test)
  let after = 0
  for (let i = 0; i < 5; i++) { after = Math.max(after, rssKiB(pid)); await sleep(200) }
  for (const p of open) p.close()
  return { value: (after - before) / 1024 }
}

async function main () {
  const mode = process.argv[2] || 'latency'
  const opts = JSON.parse(process.argv[3] || '{}')
  const server = opts.url ? { url: opts.url, pid: opts.pid, async close () {} } : await jsServer(opts.web)
  const browser = await launchChromium()
  try {
    const result = mode === 'memory'
      ? await measureMemory(browser, server.url, server.pid)
      : await measureLatency(browser, server.url)
    console.log(JSON.stringify(result))
  } finally {
    await browser.close()
    await server.close()
  }
  process.exit(0)
}

main().catch((err) => { console.error(err); process.exit(1) })
