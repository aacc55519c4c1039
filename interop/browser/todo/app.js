// The todo page: plain DOM, no framework. The list itself lives in ./client.js (openTodoList);
// this file only renders it and turns clicks and keys into client calls.
//
// Re-renders patch rows in place (keyed by todo id), so a peer's change never steals the focus
// or throws away a half-typed edit.
import { openTodoList } from './client.js'

const MESSAGES = {
  EMPTY_TEXT: "A todo can't be empty.",
  TEXT_TOO_LONG: 'Text is too long (max 4096 bytes).',
  NOT_WRITABLE: 'read-only, waiting to be added',
  NOT_FOUND: 'That todo was deleted by someone else.'
}

const $ = (id) => document.getElementById(id)
const ui = {
  connection: $('connection'),
  peers: $('peers'),
  readonly: $('readonly'),
  fatal: $('fatal'),
  form: $('new-form'),
  input: $('new-todo'),
  add: $('add'),
  newError: $('new-error'),
  list: $('todo-list'),
  empty: $('empty'),
  count: $('count'),
  filters: [...document.querySelectorAll('[data-filter]')],
  clear: $('clear-completed'),
  invite: $('invite-link'),
  copy: $('copy-invite'),
  copyNote: $('copy-note'),
  announce: $('announce')
}

const state = {
  list: null,
  todos: [],
  filter: 'all',
  writable: false,
  editing: null, // id of the todo being edited, or null
  saving: null // id of the todo whose edit is being written, or null
}
const rows = new Map() // id -> <li>

function message (err) {
  const code = err && err.code
  if (code && MESSAGES[code]) return MESSAGES[code]
  return (err && err.message) || String(err)
}

function announce (text) {
  ui.announce.textContent = ''
  // a fresh text node each time so screen readers repeat an identical message
  requestAnimationFrame(() => { ui.announce.textContent = text })
}

function short (text) {
  return text.length > 60 ? text.slice(0, 57) + '…' : text
}

// ---- key and relay --------------------------------------------------------------------------

async function listKey () {
  const fromHash = decodeURIComponent(location.hash.slice(1)).trim().toLowerCase()
  if (fromHash) {
    if (!/^[0-9a-f]{64}$/.test(fromHash)) throw new Error('The link has no valid list key (64 hex characters after #).')
    return fromHash
  }
  const res = await fetch('/list', { cache: 'no-store' })
  if (!res.ok) throw new Error(`Could not get the list key from the server (HTTP ${res.status}).`)
  const key = (await res.text()).trim().toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('The server sent a bad list key.')
  history.replaceState(null, '', '#' + key)
  return key
}

function relayUrl () {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/relay`
}

// ---- status ---------------------------------------------------------------------------------

function renderStatus (status) {
  if (!status) return
  const conn = status.connection || 'connecting'
  ui.connection.textContent = conn
  ui.connection.dataset.state = conn
  ui.connection.className = 'conn conn-' + conn
  const peers = Number(status.peers) || 0
  ui.peers.textContent = peers === 1 ? '1 peer' : `${peers} peers`
  setWritable(Boolean(status.writable))
}

function setWritable (writable) {
  const changed = writable !== state.writable
  state.writable = writable
  ui.readonly.hidden = writable || !state.list
  ui.input.disabled = !writable
  ui.add.disabled = !writable
  if (!writable && state.editing !== null) stopEditing(false)
  if (changed) render()
}

// ---- rendering ------------------------------------------------------------------------------

function visible (todo) {
  if (todo.id === state.editing) return true // never yank an open editor away
  if (state.filter === 'active') return !todo.done
  if (state.filter === 'done') return todo.done
  return true
}

function makeRow (todo) {
  const li = document.createElement('li')
  li.className = 'todo'
  li.dataset.id = todo.id
  const body = document.createElement('div')
  body.className = 'body'
  const toggle = document.createElement('input')
  toggle.type = 'checkbox'
  toggle.className = 'toggle'
  const text = document.createElement('span')
  text.className = 'text'
  body.append(toggle, text)
  const actions = document.createElement('div')
  actions.className = 'actions'
  const edit = button('edit', 'Edit')
  const del = button('delete', 'Delete')
  const save = button('save', 'Save')
  const cancel = button('cancel', 'Cancel')
  save.hidden = true
  cancel.hidden = true
  actions.append(edit, del, save, cancel)
  const error = document.createElement('p')
  error.className = 'error item-error'
  error.hidden = true
  error.id = 'error-' + todo.id
  li.append(body, actions, error)
  return li
}

function button (cls, label) {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = cls
  b.textContent = label
  return b
}

function updateRow (li, todo) {
  const q = (sel) => li.querySelector(sel)
  li.classList.toggle('done', todo.done)
  const toggle = q('.toggle')
  if (toggle.checked !== todo.done) toggle.checked = todo.done
  toggle.disabled = !state.writable
  toggle.setAttribute('aria-label', `Done: ${short(todo.text)}`)
  const text = q('.text')
  if (text.textContent !== todo.text) text.textContent = todo.text
  q('.edit').setAttribute('aria-label', `Edit: ${short(todo.text)}`)
  q('.delete').setAttribute('aria-label', `Delete: ${short(todo.text)}`)
  const editing = todo.id === state.editing
  const input = q('.edit-input')
  if (editing && !input) {
    const field = document.createElement('input')
    field.type = 'text'
    field.className = 'edit-input'
    field.value = todo.text
    field.setAttribute('aria-label', 'Edit todo text (Enter saves, Escape cancels)')
    field.setAttribute('aria-describedby', 'error-' + todo.id)
    text.hidden = true
    text.after(field)
  } else if (!editing && input) {
    input.remove()
    text.hidden = false
    q('.item-error').hidden = true
  }
  q('.edit').hidden = editing
  q('.delete').hidden = editing
  q('.save').hidden = !editing
  q('.cancel').hidden = !editing
  for (const b of li.querySelectorAll('.actions button')) b.disabled = !state.writable
}

function render () {
  const shown = state.todos.filter(visible)
  const keep = new Set(shown.map((t) => t.id))
  for (const [id, li] of rows) {
    if (!keep.has(id)) {
      li.remove()
      rows.delete(id)
    }
  }
  let cursor = ui.list.firstElementChild
  for (const todo of shown) {
    let li = rows.get(todo.id)
    if (!li) {
      li = makeRow(todo)
      rows.set(todo.id, li)
    }
    updateRow(li, todo)
    if (li === cursor) cursor = cursor.nextElementSibling
    else ui.list.insertBefore(li, cursor)
  }
  const left = state.todos.filter((t) => !t.done).length
  const doneCount = state.todos.length - left
  ui.count.textContent = left === 1 ? '1 item left' : `${left} items left`
  ui.clear.disabled = !state.writable || doneCount === 0
  ui.empty.hidden = shown.length > 0 || !state.list
  ui.empty.textContent = state.todos.length === 0 ? 'Nothing to do yet.' : 'Nothing here.'
  for (const b of ui.filters) b.setAttribute('aria-pressed', String(b.dataset.filter === state.filter))
}

// Re-read the list. Calls during a read coalesce into one more read after it, so a burst of
// 'change' events costs two reads, and a caller's promise settles after a read that began
// after its call.
let reading = null
let readAgain = false

function refresh () {
  if (!state.list) return Promise.resolve()
  if (reading) {
    readAgain = true
    return reading
  }
  reading = (async () => {
    await null // `reading` is set before the body runs
    try {
      do {
        readAgain = false
        const todos = await state.list.todos()
        state.todos = todos
        if (state.editing !== null && !todos.some((t) => t.id === state.editing)) {
          state.editing = null
          announce('The todo you were editing was deleted by someone else.')
        }
        render()
      } while (readAgain)
    } catch (err) {
      announce(message(err))
    } finally {
      reading = null // in the same step as the last read: no call can fall in between
    }
  })()
  return reading
}

// ---- actions --------------------------------------------------------------------------------

function showNewError (err) {
  ui.newError.textContent = err ? message(err) : ''
  ui.newError.hidden = !err
  ui.input.setAttribute('aria-invalid', String(Boolean(err)))
}

async function addTodo () {
  try {
    await state.list.add(ui.input.value)
    ui.input.value = ''
    showNewError(null)
    announce('Added.')
  } catch (err) {
    showNewError(err)
  }
  await refresh()
}

function startEditing (id) {
  if (!state.writable) return
  if (state.editing !== null && state.editing !== id) stopEditing(false)
  state.editing = id
  render()
  const field = rows.get(id)?.querySelector('.edit-input')
  if (field) {
    field.focus()
    field.setSelectionRange(field.value.length, field.value.length)
  }
}

function stopEditing (focusRow) {
  const id = state.editing
  state.editing = null
  render()
  if (focusRow && id !== null) rows.get(id)?.querySelector('.edit')?.focus()
}

async function saveEdit (id) {
  const li = rows.get(id)
  const field = li?.querySelector('.edit-input')
  if (!field || state.editing !== id || state.saving === id) return
  state.saving = id // Enter then focusout must not save twice
  try {
    await save(id, li, field)
  } finally {
    state.saving = null
  }
}

async function save (id, li, field) {
  const todo = state.todos.find((t) => t.id === id)
  const refocus = li.contains(document.activeElement)
  if (todo && field.value === todo.text) {
    stopEditing(refocus)
    return
  }
  try {
    await state.list.edit(id, field.value)
  } catch (err) {
    const error = li.querySelector('.item-error')
    error.textContent = message(err)
    error.hidden = false
    field.setAttribute('aria-invalid', 'true')
    if (err && err.code === 'NOT_FOUND') stopEditing(false)
    return
  }
  if (state.editing === id) stopEditing(refocus)
  announce('Saved.')
  await refresh()
}

async function act (fn, after) {
  try {
    await fn()
    if (after) announce(after)
  } catch (err) {
    showNewError(err)
  }
  await refresh()
}

function removeTodo (id) {
  // keep the keyboard user's place: focus the next row (or the previous, or the new-todo input)
  const li = rows.get(id)
  const next = li?.nextElementSibling || li?.previousElementSibling
  const hadFocus = li?.contains(document.activeElement)
  return act(() => state.list.remove(id), 'Deleted.').then(() => {
    if (!hadFocus) return
    const target = next && next.isConnected ? next.querySelector('.toggle') : ui.input
    target.focus()
  })
}

async function copyInvite () {
  const link = ui.invite.value
  try {
    if (!navigator.clipboard || !navigator.clipboard.writeText) throw new Error('no clipboard')
    await navigator.clipboard.writeText(link)
    ui.copyNote.textContent = 'Invite link copied.'
  } catch {
    ui.invite.focus()
    ui.invite.select()
    let copied = false
    try { copied = document.execCommand('copy') } catch {}
    ui.copyNote.textContent = copied ? 'Invite link copied.' : 'Link selected: press Ctrl+C (⌘C) to copy it.'
  }
}

// ---- events ---------------------------------------------------------------------------------

ui.form.addEventListener('submit', (e) => {
  e.preventDefault()
  if (state.list && state.writable) addTodo()
})
ui.input.addEventListener('input', () => { if (!ui.newError.hidden) showNewError(null) })

ui.list.addEventListener('change', (e) => {
  const li = e.target.closest('li.todo')
  if (!li || !e.target.classList.contains('toggle')) return
  const done = e.target.checked
  act(() => state.list.setDone(li.dataset.id, done))
})

ui.list.addEventListener('click', (e) => {
  const b = e.target.closest('button')
  const li = e.target.closest('li.todo')
  if (!b || !li) return
  const id = li.dataset.id
  if (b.classList.contains('edit')) startEditing(id)
  else if (b.classList.contains('delete')) removeTodo(id)
  else if (b.classList.contains('save')) saveEdit(id)
  else if (b.classList.contains('cancel')) stopEditing(true)
})

ui.list.addEventListener('mousedown', (e) => {
  // Save/Cancel must not take the focus from the editor first (its focusout would save)
  if (e.target.closest('button.save, button.cancel')) e.preventDefault()
})

ui.list.addEventListener('dblclick', (e) => {
  const li = e.target.closest('li.todo')
  if (li && e.target.classList.contains('text')) startEditing(li.dataset.id)
})

ui.list.addEventListener('keydown', (e) => {
  if (!e.target.classList.contains('edit-input')) return
  const id = e.target.closest('li.todo').dataset.id
  if (e.key === 'Enter') {
    e.preventDefault()
    saveEdit(id)
  } else if (e.key === 'Escape') {
    e.preventDefault()
    stopEditing(true)
  }
})

ui.list.addEventListener('input', (e) => {
  if (!e.target.classList.contains('edit-input')) return
  const error = e.target.closest('li.todo').querySelector('.item-error')
  error.hidden = true
  e.target.removeAttribute('aria-invalid')
})

ui.list.addEventListener('focusout', (e) => {
  // leaving the editor for somewhere outside its row saves it (like pressing Enter)
  if (!e.target.classList.contains('edit-input')) return
  const li = e.target.closest('li.todo')
  if (e.relatedTarget && li.contains(e.relatedTarget)) return
  if (!document.hasFocus()) return // the window lost focus: keep editing
  if (state.editing === li.dataset.id && e.target.isConnected) saveEdit(li.dataset.id)
})

for (const b of ui.filters) {
  b.addEventListener('click', () => {
    state.filter = b.dataset.filter
    render()
  })
}

ui.clear.addEventListener('click', () => act(() => state.list.clearCompleted(), 'Cleared completed.'))
ui.copy.addEventListener('click', copyInvite)
window.addEventListener('hashchange', () => location.reload())

// ---- start ----------------------------------------------------------------------------------

async function main () {
  renderStatus({ connection: 'connecting', peers: 0, writable: false })
  let key
  try {
    key = await listKey()
    ui.invite.value = location.origin + location.pathname + '#' + key
    state.list = await openTodoList({ listKey: key, relayUrl: relayUrl(), onStatus: renderStatus })
  } catch (err) {
    ui.fatal.textContent = message(err)
    ui.fatal.hidden = false
    renderStatus({ connection: 'offline', peers: 0, writable: false })
    document.body.dataset.ready = 'error'
    return
  }
  const list = state.list
  list.on('change', refresh)
  renderStatus(list.status)
  await refresh()
  render()
  document.body.dataset.ready = 'true'
  window.todoApp = { list }
  if (state.writable) ui.input.focus()
}

main()
