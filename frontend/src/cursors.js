// Shared-cursors demo (/demo/cursors): every visitor's pointer moves live on everyone's
// screen through Yjs awareness, and a sticky-note board shows shared document state.
// Pointer positions are fractions of the board's size, so screens of any size agree.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { currentToken } from './api.js'
import { askUser, ensureUser } from './identity.js'
import { wsBase } from './ws.js'
import { banner, clearBanner, h, icon, initials } from './ui.js'
import { ICONS } from './icons.js'
import { describeClose } from './sync-status.js'

const DOC_ID = 'demo-cursors'
const NOTE_COLORS = ['#fff4a3', '#ffd6e0', '#d4f4dd', '#d6e9ff', '#ffe2c6']

export async function mount (root) {
  document.title = 'Shared cursors — Quire'
  const user = await ensureUser()
  const token = currentToken()
  const ydoc = new Y.Doc()
  const notes = ydoc.getArray('notes')
  const provider = new WebsocketProvider(wsBase() + '/ws', DOC_ID, ydoc, { params: token ? { token } : {}, disableBc: true })
  const awareness = provider.awareness
  awareness.setLocalState({ user, pointer: null })

  const board = h('div', { class: 'board', 'aria-label': 'Shared board: move your mouse here', role: 'application' })
  const notesLayer = h('div', { class: 'notes-layer' })
  const pointersLayer = h('div', { class: 'pointers-layer', 'aria-hidden': 'true' })
  board.append(notesLayer, pointersLayer)
  const people = h('ul', { class: 'people', 'aria-label': 'People here' })
  const connection = h('span', { class: 'sync-status', role: 'status', 'data-state': 'connecting' }, h('span', { class: 'sync-dot', 'aria-hidden': 'true' }), h('span', { class: 'sync-text' }, 'Connecting…'))
  const addBtn = h('button', { class: 'btn btn-primary add-note', type: 'button' }, icon(ICONS.add), 'Add note')

  root.replaceChildren(h('div', { class: 'demo-page' },
    h('header', { class: 'list-header' },
      h('a', { class: 'brand', href: '/' }, h('img', { src: '/assets/favicon.svg', alt: '', width: 32, height: 32 }), h('span', {}, 'Quire')),
      h('h1', { class: 'demo-title' }, 'Shared cursors'),
      connection),
    h('main', { class: 'demo-main' },
      h('div', { class: 'demo-bar' },
        h('p', { class: 'muted' }, 'Open this page in another window: everyone’s pointer moves live here. Add sticky notes, drag them, edit their text — all shared.'),
        addBtn),
      h('div', { class: 'demo-body' }, board, h('aside', { class: 'people-panel', 'aria-label': 'People here' }, h('h2', {}, 'Here now'), people)))))

  // ---- connection state
  provider.on('status', ({ status }) => {
    connection.dataset.state = status === 'connected' ? 'saved' : 'reconnecting'
    connection.querySelector('.sync-text').textContent = status === 'connected' ? 'Live' : 'Reconnecting…'
  })
  provider.on('closed', event => banner(describeClose(event), { key: 'ws-closed' }))
  window.addEventListener('offline', () => provider.disconnect())
  window.addEventListener('online', () => provider.connect())
  // Tell the others at once that we left (the server also does when the socket closes).
  window.addEventListener('pagehide', () => awareness.setLocalState(null))
  // Back from the back/forward cache: appear again.
  window.addEventListener('pageshow', ev => { if (ev.persisted) awareness.setLocalState({ user, pointer: null }) })

  // ---- pointers
  let pending = null
  let frame = 0
  function sendPointer (pointer) {
    pending = pointer
    if (frame) return
    // At most one awareness update per animation frame.
    frame = requestAnimationFrame(() => {
      frame = 0
      awareness.setLocalStateField('pointer', pending)
    })
  }
  board.addEventListener('pointermove', ev => {
    const rect = board.getBoundingClientRect()
    const x = (ev.clientX - rect.left) / rect.width
    const y = (ev.clientY - rect.top) / rect.height
    sendPointer({ x: Math.min(1, Math.max(0, x)), y: Math.min(1, Math.max(0, y)) })
  })
  board.addEventListener('pointerleave', () => sendPointer(null))

  const pointerEls = new Map()
  function renderPresence () {
    const seen = new Set()
    const list = []
    for (const [clientId, state] of awareness.getStates()) {
      if (!state || !state.user) continue
      list.push({ clientId, self: clientId === ydoc.clientID, ...state.user })
      if (clientId === ydoc.clientID || !state.pointer) continue
      seen.add(clientId)
      let el = pointerEls.get(clientId)
      if (!el) {
        el = h('div', { class: 'pointer', 'data-client': String(clientId) },
          h('span', {
            class: 'pointer-arrow',
            html: '<svg width="22" height="28" viewBox="0 0 18 24"><path d="M1 1l15 12-7 1-4 8z" stroke="#fff" stroke-width="1.5" stroke-linejoin="round"/></svg>'
          }),
          h('span', { class: 'pointer-label' }))
        pointersLayer.append(el)
        pointerEls.set(clientId, el)
      }
      el.style.color = state.user.color
      el.querySelector('.pointer-label').textContent = state.user.name
      el.querySelector('.pointer-label').style.background = state.user.color
      el.style.left = (state.pointer.x * 100) + '%'
      el.style.top = (state.pointer.y * 100) + '%'
    }
    for (const [clientId, el] of pointerEls) {
      if (!seen.has(clientId)) {
        el.remove()
        pointerEls.delete(clientId)
      }
    }
    list.sort((a, b) => (b.self - a.self) || String(a.name).localeCompare(String(b.name)))
    people.replaceChildren(...list.map(p => h('li', { class: 'person' },
      h('span', { class: 'avatar avatar-small', style: { background: p.color }, 'aria-hidden': 'true' }, initials(p.name)),
      h('span', {}, p.name + (p.self ? ' (you)' : '')),
      p.self ? h('button', { class: 'link-btn', type: 'button', onclick: changeIdentity }, 'change') : null)))
  }
  awareness.on('change', renderPresence)
  renderPresence()

  async function changeIdentity () {
    const next = await askUser(user)
    if (next) {
      Object.assign(user, next)
      awareness.setLocalStateField('user', { ...user })
    }
  }

  // ---- sticky notes: a Y.Array of Y.Maps { id, x, y, text, color }
  addBtn.addEventListener('click', () => {
    const note = new Y.Map()
    const id = Math.random().toString(36).slice(2, 10)
    ydoc.transact(() => {
      note.set('id', id)
      note.set('x', 0.1 + Math.random() * 0.6)
      note.set('y', 0.1 + Math.random() * 0.6)
      note.set('text', new Y.Text())
      note.set('color', NOTE_COLORS[notes.length % NOTE_COLORS.length])
      notes.push([note])
    })
    requestAnimationFrame(() => {
      const el = notesLayer.querySelector(`[data-note="${id}"] textarea`)
      if (el) el.focus()
    })
  })

  const noteEls = new Map()
  function renderNotes () {
    const seen = new Set()
    notes.forEach((note, index) => {
      if (!(note instanceof Y.Map)) return
      const id = note.get('id')
      seen.add(id)
      let el = noteEls.get(id)
      if (!el) {
        el = buildNote(note)
        noteEls.set(id, el)
        notesLayer.append(el)
      }
      el.style.left = (note.get('x') * 100) + '%'
      el.style.top = (note.get('y') * 100) + '%'
      el.style.background = note.get('color')
      el.style.zIndex = String(index + 1)
    })
    for (const [id, el] of noteEls) {
      if (!seen.has(id)) {
        el.remove()
        noteEls.delete(id)
      }
    }
  }

  function buildNote (note) {
    const area = h('textarea', { class: 'note-text', 'aria-label': 'Note text', placeholder: 'Write something…', maxlength: '500' })
    const grip = h('div', { class: 'note-grip', title: 'Drag to move', 'aria-label': 'Move note (drag, or arrow keys)', tabindex: '0', role: 'button' })
    const del = h('button', { class: 'note-delete', type: 'button', 'aria-label': 'Delete note', title: 'Delete note' }, '×')
    const el = h('div', { class: 'note', 'data-note': note.get('id') }, grip, del, area)
    bindTextarea(area, note.get('text'))
    del.addEventListener('click', () => {
      const i = notes.toArray().indexOf(note)
      if (i >= 0) notes.delete(i, 1)
    })
    grip.addEventListener('pointerdown', ev => {
      ev.preventDefault()
      grip.setPointerCapture(ev.pointerId)
      const rect = board.getBoundingClientRect()
      const startX = note.get('x')
      const startY = note.get('y')
      const fromX = ev.clientX
      const fromY = ev.clientY
      const move = e => {
        const x = startX + (e.clientX - fromX) / rect.width
        const y = startY + (e.clientY - fromY) / rect.height
        ydoc.transact(() => {
          note.set('x', Math.min(0.95, Math.max(0, x)))
          note.set('y', Math.min(0.95, Math.max(0, y)))
        })
      }
      const up = () => {
        grip.removeEventListener('pointermove', move)
        grip.removeEventListener('pointerup', up)
        grip.removeEventListener('pointercancel', up)
      }
      grip.addEventListener('pointermove', move)
      grip.addEventListener('pointerup', up)
      grip.addEventListener('pointercancel', up)
    })
    grip.addEventListener('keydown', ev => {
      const step = ev.shiftKey ? 0.05 : 0.01
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[ev.key]
      if (!d) return
      ev.preventDefault()
      ydoc.transact(() => {
        note.set('x', Math.min(0.95, Math.max(0, note.get('x') + d[0])))
        note.set('y', Math.min(0.95, Math.max(0, note.get('y') + d[1])))
      })
    })
    return el
  }
  /**
   * Two-way binding of a textarea to a Y.Text, so two people typing in the same note
   * merge character by character instead of overwriting each other. Local input becomes
   * the smallest delete+insert; remote changes keep the local selection where it was.
   */
  function bindTextarea (area, ytext) {
    if (!(ytext instanceof Y.Text)) {
      area.value = typeof ytext === 'string' ? ytext : ''
      area.readOnly = true // a note from an older version of this page
      return
    }
    area.value = ytext.toString()
    area.addEventListener('input', () => {
      const before = ytext.toString()
      const after = area.value
      let start = 0
      while (start < before.length && start < after.length && before[start] === after[start]) start++
      let endBefore = before.length
      let endAfter = after.length
      while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
        endBefore--
        endAfter--
      }
      ydoc.transact(() => {
        if (endBefore > start) ytext.delete(start, endBefore - start)
        if (endAfter > start) ytext.insert(start, after.slice(start, endAfter))
      }, area)
    })
    ytext.observe((event, transaction) => {
      if (transaction.origin === area) return
      let selStart = area.selectionStart
      let selEnd = area.selectionEnd
      let pos = 0
      for (const op of event.delta) {
        if (op.retain) {
          pos += op.retain
        } else if (op.insert) {
          const n = op.insert.length
          if (selStart >= pos) selStart += n
          if (selEnd >= pos) selEnd += n
          pos += n
        } else if (op.delete) {
          if (selStart > pos) selStart = Math.max(pos, selStart - op.delete)
          if (selEnd > pos) selEnd = Math.max(pos, selEnd - op.delete)
        }
      }
      const focused = document.activeElement === area
      area.value = ytext.toString()
      if (focused) area.setSelectionRange(selStart, selEnd)
    })
  }

  notes.observeDeep(renderNotes)
  renderNotes()

  provider.on('sync', synced => { if (synced) clearBanner('ws-closed') })
  window.quire = { ydoc, provider }
}
