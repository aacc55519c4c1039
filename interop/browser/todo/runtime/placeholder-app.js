// A bare page on the todo client until the real page (app.js, index.html, style.css) lands:
// the list key from location.hash (or GET /list), the relay at ws(s)://<host>/relay, a list with
// an add box. build.sh bundles it only when there is no app.js.
import { openTodoList } from '../client.js'

const $ = (id) => document.getElementById(id)

async function main () {
  let key = location.hash.slice(1)
  if (!/^[0-9a-f]{64}$/.test(key)) {
    key = (await (await fetch('/list')).text()).trim()
    location.hash = key
  }
  const relayUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/relay'
  const list = await openTodoList({ listKey: key, relayUrl })
  window.todoList = list
  const render = async () => {
    const ul = $('todos')
    ul.textContent = ''
    for (const t of await list.todos()) {
      const li = document.createElement('li')
      li.textContent = (t.done ? '[x] ' : '[ ] ') + t.text
      ul.appendChild(li)
    }
  }
  const status = (s) => {
    $('status').textContent = s.connection + ', ' + s.peers + ' peer(s)' + (s.writable ? '' : ', read-only, waiting to be added')
  }
  list.on('change', render)
  list.on('status', status)
  status(list.status)
  await render()
  $('add').addEventListener('submit', async (e) => {
    e.preventDefault()
    try {
      await list.add($('text').value)
      $('text').value = ''
    } catch (err) {
      $('status').textContent = err.message
    }
  })
}

main().catch((err) => { $('status').textContent = 'error: ' + err.message })
