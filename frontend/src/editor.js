// The editor page (/d/{id}): a TipTap editor bound to the document's Y.Doc through the
// stock y-websocket provider, with presence (avatars, carets), save state, title, share
// and export.
import { Editor } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import { Placeholder } from '@tiptap/extensions'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { api, currentToken, serverInfo } from './api.js'
import { askUser, ensureUser } from './identity.js'
import { SyncStatus, describeClose } from './sync-status.js'
import { banner, clearBanner, copyText, download, h, icon, initials, modal, toast } from './ui.js'
import { ICONS } from './icons.js'
import { wsBase } from './ws.js'
import { EXPORTS, UNTITLED, displayTitle, pageRole } from './docs.js'

/**
 * Whether the link asks for read-only (role=viewer, as the share dialog adds on a server
 * without sign-in). The server enforces permissions and reports what the credentials allow
 * as doc.role; see pageRole.
 */
function requestedRole () {
  const params = new URLSearchParams(location.search)
  return params.get('role') === 'viewer' ? 'viewer' : 'editor'
}

export async function mount (root, docId) {
  const user = await ensureUser()
  const token = currentToken()
  const requested = requestedRole()
  let role = requested
  // A share link's token may be a viewer's (the REST share url is a bare ?token=): accept no
  // typing until the server says what it allows, or a viewer's first keystrokes would be
  // shown but never saved (the server ignores a read-only session's edits).
  let roleKnown = !new URLSearchParams(location.search).get('token') || requested === 'viewer'
  let closed = false
  let restMissing = false // a server without the REST API: no renaming

  const ydoc = new Y.Doc()
  const meta = ydoc.getMap('meta')
  const provider = new WebsocketProvider(wsBase() + '/ws', docId, ydoc, {
    params: token ? { token } : {},
    // Only the server's messages count as saved (see sync-status.js).
    disableBc: true
  })

  // ---- layout
  const titleInput = h('input', {
    class: 'title-input',
    type: 'text',
    'aria-label': 'Document title',
    value: '',
    placeholder: UNTITLED,
    maxlength: '200',
    spellcheck: 'false'
  })
  // Not a live region: "Saving…"/"saved" flips on every keystroke. Connection changes are
  // announced through `announcer` instead.
  const announcer = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' })
  const statusEl = h('div', { class: 'sync-status', 'data-state': 'connecting' },
    h('span', { class: 'sync-dot', 'aria-hidden': 'true' }), h('span', { class: 'sync-text' }, 'Connecting…'))
  const avatars = h('div', { class: 'avatars', role: 'list', 'aria-label': 'People in this document' })
  const shareBtn = h('button', { class: 'btn btn-primary share-btn', type: 'button', 'aria-haspopup': 'dialog' }, icon(ICONS.share), h('span', {}, 'Share'))
  const exportMenu = buildExportMenu()
  const readOnlyBadge = h('span', { class: 'badge badge-readonly', hidden: true }, 'View only')

  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Formatting' })
  const sheet = h('div', { class: 'sheet' })
  const heading = h('h1', { class: 'visually-hidden' }, UNTITLED)
  const page = h('div', { class: 'editor-page' },
    h('header', { class: 'editor-top' },
      heading,
      h('div', { class: 'editor-header' },
        h('a', { class: 'home-link', href: '/', 'aria-label': 'All documents', title: 'All documents' }, h('img', { src: '/assets/favicon.svg', alt: '', width: 28, height: 28 })),
        h('div', { class: 'title-block' }, titleInput, h('div', { class: 'title-sub' }, statusEl, readOnlyBadge)),
        h('div', { class: 'header-right' }, avatars, exportMenu.el, shareBtn)),
      toolbar),
    h('main', { class: 'canvas', 'aria-label': 'Document' }, sheet),
    announcer)
  root.replaceChildren(page)

  // ---- editor
  const editor = new Editor({
    element: sheet,
    extensions: [
      // Collaboration brings its own undo manager (only this user's changes).
      StarterKit.configure({ undoRedo: false }),
      Collaboration.configure({ document: ydoc, field: 'default' }),
      Placeholder.configure({ placeholder: () => (role === 'viewer' ? '' : 'Start typing…') }),
      CollaborationCaret.configure({
        provider,
        user,
        render: renderCaret
      })
    ],
    editorProps: {
      attributes: {
        class: 'prose',
        'aria-label': 'Document body',
        'aria-multiline': 'true',
        role: 'textbox',
        spellcheck: 'true'
      }
    },
    editable: role !== 'viewer' && roleKnown
  })

  const buttons = buildToolbar(toolbar, editor)
  const refreshToolbar = () => {
    for (const b of buttons) b.update()
  }
  editor.on('transaction', refreshToolbar)
  editor.on('selectionUpdate', refreshToolbar)
  editor.on('focus', refreshToolbar)
  refreshToolbar()

  function setRole (next) {
    role = next
    const readOnly = role === 'viewer'
    editor.setEditable(!readOnly && roleKnown && !closed)
    readOnlyBadge.hidden = !readOnly
    titleInput.readOnly = readOnly || !roleKnown || restMissing
    toolbar.hidden = readOnly || closed
    page.classList.toggle('read-only', readOnly)
    page.dataset.role = roleKnown ? role : 'pending'
  }
  setRole(role)

  // ---- presence
  function renderAvatars () {
    const people = []
    for (const [clientId, state] of provider.awareness.getStates()) {
      if (!state || !state.user) continue
      people.push({ clientId, self: clientId === ydoc.clientID, ...state.user })
    }
    people.sort((a, b) => (b.self - a.self) || String(a.name).localeCompare(String(b.name)))
    const shown = people.slice(0, 6)
    avatars.replaceChildren(...shown.map(p => h('span', {
      class: 'avatar-item',
      role: 'listitem',
      'aria-label': p.self ? `${p.name} (you)` : p.name,
      'data-client': String(p.clientId)
    }, p.self
      ? h('button', {
        class: 'avatar avatar-self',
        type: 'button',
        style: { background: p.color },
        title: `${p.name} (you) — change name or colour`,
        onclick: changeIdentity
      }, h('span', { 'aria-hidden': 'true' }, initials(p.name)), h('span', { class: 'visually-hidden' }, `${p.name} (you), change name or colour`))
      : h('span', { class: 'avatar', style: { background: p.color }, title: p.name, 'aria-hidden': 'true' }, initials(p.name)))))
    if (people.length > shown.length) {
      const rest = people.slice(shown.length).map(p => p.name).join(', ')
      avatars.append(h('span', { class: 'avatar-item', role: 'listitem', 'aria-label': `and ${people.length - shown.length} more: ${rest}` },
        h('span', { class: 'avatar avatar-more', title: rest, 'aria-hidden': 'true' }, '+' + (people.length - shown.length))))
    }
  }
  provider.awareness.on('change', renderAvatars)
  renderAvatars()

  async function changeIdentity () {
    const next = await askUser(user)
    if (next && (next.name !== user.name || next.color !== user.color)) {
      Object.assign(user, next)
      editor.commands.updateUser({ ...user })
    }
  }

  // ---- connection / save state
  const STATUS_TEXT = {
    connecting: 'Connecting…',
    loading: 'Loading…',
    saving: 'Saving…',
    saved: 'All changes saved',
    reconnecting: 'Reconnecting…',
    offline: 'Offline — edits pending',
    closed: 'Disconnected'
  }
  const STATUS_HINT = {
    saving: 'Sending your latest changes to the server.',
    saved: 'The server has stored every change you see.',
    reconnecting: 'The connection to the server was lost; retrying.',
    offline: 'You are offline. Keep editing: your changes are kept in this tab and sent when the connection returns. Do not close the tab.'
  }
  const ANNOUNCE = {
    offline: 'You are offline. Your edits are kept and sent when the connection returns.',
    reconnecting: 'Connection lost. Reconnecting.',
    closed: 'Disconnected from the server.'
  }
  let lastState = ''
  const status = new SyncStatus(provider, info => {
    if (info.state !== lastState) {
      if (ANNOUNCE[info.state]) announcer.textContent = ANNOUNCE[info.state]
      else if (ANNOUNCE[lastState] && info.state === 'saved') announcer.textContent = 'Back online. All changes saved.'
      lastState = info.state
    }
    statusEl.dataset.state = info.state
    statusEl.querySelector('.sync-text').textContent = STATUS_TEXT[info.state]
    page.dataset.sync = info.state
    if (info.state === 'closed') {
      const message = describeClose(info.closeReason)
      const code = info.closeReason && info.closeReason.code
      banner(message, {
        key: 'ws-closed',
        action: code === 4404 || code === 4410 ? { label: 'All documents', run: () => { location.href = '/' } } : null
      })
      // Nothing typed from now on could reach the server: stop accepting edits.
      closed = true
      setRole(role)
    }
    statusEl.title = STATUS_HINT[info.state] || ''
  })

  // Warn before leaving with changes the server does not have yet.
  window.addEventListener('beforeunload', ev => {
    if (status.unsaved) {
      ev.preventDefault()
      ev.returnValue = ''
    }
  })
  // Ctrl+S / Cmd+S: there is nothing to save by hand; say so instead of saving the web page.
  window.addEventListener('keydown', ev => {
    if ((ev.ctrlKey || ev.metaKey) && !ev.shiftKey && !ev.altKey && ev.key.toLowerCase() === 's') {
      ev.preventDefault()
      toast(status.unsaved ? 'Saving… Quire saves every change automatically.' : 'All changes saved. Quire saves every change automatically.')
    }
  })
  // React to the browser's own view of the network at once instead of waiting for timeouts.
  window.addEventListener('offline', () => provider.disconnect())
  window.addEventListener('online', () => provider.connect())

  // ---- title
  let restTitle = ''
  function currentTitle () {
    const fromDoc = meta.get('title')
    return (typeof fromDoc === 'string' && fromDoc) ? fromDoc : (restTitle || '')
  }
  // A document created by opening its link is titled by its id: show "Untitled document".
  const shownTitle = () => displayTitle(currentTitle(), docId)
  function showTitle () {
    const title = shownTitle()
    if (document.activeElement !== titleInput) titleInput.value = title
    document.title = `${title} — Quire`
    heading.textContent = title
  }
  meta.observe(showTitle)
  showTitle()

  const whenSynced = () => provider.synced ? Promise.resolve() : new Promise(resolve => provider.once('sync', resolve))
  function roleSettled (next) {
    roleKnown = true
    setRole(next)
    focusIfEmpty()
  }
  // A document opened by a new name is created when the socket joins it, so the details are
  // asked after the first sync — except while the role is unknown (a share token): then at once,
  // since typing waits for the answer, and again after the sync if the document was not there yet.
  let askedAfterSync = false
  const loadDetails = () => api('GET', `/docs/${encodeURIComponent(docId)}`).then(doc => {
    restTitle = doc.title || ''
    showTitle()
    roleSettled(pageRole(doc.role, requested))
  }).catch(err => {
    if (err.unavailable) {
      // The editor works without REST; only renaming does not.
      restMissing = true
      roleSettled(requested)
      titleInput.title = 'Renaming needs the REST API, which this server does not provide yet.'
      return
    }
    if (err.status === 401 || err.status === 403) return // the WebSocket's close says why
    if (err.status === 404) {
      // Not there yet (created on connect), or not at all: then the socket's close says so.
      if (!askedAfterSync) {
        askedAfterSync = true
        whenSynced().then(loadDetails)
      }
      return
    }
    // The server enforces the role anyway; do not lock out an editor over a failed request.
    roleSettled(requested)
    banner(`Could not load the document details: ${err.message}`, { key: 'doc-load' })
  })
  if (roleKnown) {
    askedAfterSync = true
    whenSynced().then(loadDetails)
  } else {
    loadDetails()
  }

  async function saveTitle () {
    const title = titleInput.value.trim() || UNTITLED
    if (role === 'viewer' || !roleKnown) return
    if (title === shownTitle()) {
      titleInput.value = title
      return
    }
    try {
      const doc = await api('PATCH', `/docs/${encodeURIComponent(docId)}`, { body: { title } })
      restTitle = doc.title
      clearBanner('rename')
    } catch (err) {
      banner(err.unavailable ? 'Renaming needs the REST API, which this server does not provide yet.' : `Could not rename: ${err.message}`, { key: 'rename' })
    }
    showTitle()
  }
  titleInput.addEventListener('keydown', ev => {
    if (ev.key === 'Enter') {
      ev.preventDefault()
      editor.commands.focus()
    } else if (ev.key === 'Escape') {
      titleInput.value = shownTitle()
      editor.commands.focus()
    }
  })
  titleInput.addEventListener('blur', () => { saveTitle() })

  // ---- share
  shareBtn.addEventListener('click', () => openShareDialog(docId))

  // ---- export
  exportMenu.onChoose(async spec => {
    const filename = `${safeFilename(shownTitle())}.${spec.ext}`
    try {
      const content = await api('GET', `/docs/${encodeURIComponent(docId)}/content`, { query: { format: spec.format }, raw: true })
      download(filename, content, spec.type)
    } catch (err) {
      // Without the REST API the browser can still export what it has, except Markdown.
      if (err.unavailable && spec.format === 'html') {
        download(filename, editor.getHTML(), spec.type)
      } else if (err.unavailable && spec.format === 'prosemirror') {
        download(filename, JSON.stringify(editor.getJSON(), null, 2), spec.type)
      } else {
        banner(err.unavailable ? 'Markdown export needs the REST API, which this server does not provide yet.' : `Could not export: ${err.message}`, { key: 'export' })
      }
    }
  })

  // Start typing at once on an empty page (once loaded, and once typing is allowed).
  function focusIfEmpty () {
    if (provider.synced && roleKnown && role !== 'viewer' && !closed && editor.isEmpty && document.activeElement === document.body) editor.commands.focus('end')
  }
  provider.once('sync', focusIfEmpty)

  // Exposed for debugging in the console and for browser tests.
  window.quire = { editor, ydoc, provider, status }
}

function renderCaret (user) {
  const caret = document.createElement('span')
  caret.className = 'collab-caret'
  caret.style.borderColor = user.color
  const label = document.createElement('span')
  label.className = 'collab-caret-label'
  label.style.backgroundColor = user.color
  label.textContent = user.name
  caret.append(label)
  return caret
}

function safeFilename (title) {
  return title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').trim().slice(0, 80) || 'document'
}

function buildExportMenu () {
  let handler = () => {}
  const button = h('button', { class: 'btn export-btn', type: 'button', 'aria-haspopup': 'menu', 'aria-expanded': 'false' }, icon(ICONS.download), h('span', {}, 'Export'))
  const menu = h('div', { class: 'menu', role: 'menu', hidden: true, 'aria-label': 'Export as' },
    EXPORTS.map(spec => h('button', {
      class: 'menu-item',
      type: 'button',
      role: 'menuitem',
      'data-format': spec.format,
      onclick: () => { close(); handler(spec) }
    }, spec.label)))
  const el = h('div', { class: 'menu-wrap' }, button, menu)
  function open () {
    menu.hidden = false
    button.setAttribute('aria-expanded', 'true')
    menu.querySelector('.menu-item').focus()
  }
  function close () {
    menu.hidden = true
    button.setAttribute('aria-expanded', 'false')
  }
  button.addEventListener('click', () => (menu.hidden ? open() : close()))
  menu.addEventListener('keydown', ev => {
    const items = [...menu.querySelectorAll('.menu-item')]
    const i = items.indexOf(document.activeElement)
    if (ev.key === 'ArrowDown') { ev.preventDefault(); items[(i + 1) % items.length].focus() }
    if (ev.key === 'ArrowUp') { ev.preventDefault(); items[(i - 1 + items.length) % items.length].focus() }
    if (ev.key === 'Escape') { close(); button.focus() }
  })
  document.addEventListener('click', ev => { if (!el.contains(ev.target)) close() })
  return { el, onChoose: fn => { handler = fn } }
}

async function openShareDialog (docId) {
  const info = await serverInfo()
  const base = `${location.origin}/d/${encodeURIComponent(docId)}`
  const linkField = h('input', { type: 'text', readOnly: true, class: 'share-link', 'aria-label': 'Link to share', value: '' })
  const note = h('p', { class: 'muted share-note', role: 'status' })

  async function makeLink (role) {
    note.textContent = 'Creating link…'
    linkField.value = ''
    let url
    if (!info.auth_required && role === 'editor') {
      url = base
    } else {
      try {
        const share = await api('POST', `/docs/${encodeURIComponent(docId)}/shares`, { body: { role } })
        url = new URL(share.url || `/d/${encodeURIComponent(docId)}?token=${encodeURIComponent(share.token)}`, location.origin)
        if (role === 'viewer') url.searchParams.set('role', 'viewer')
        url = url.toString()
      } catch (err) {
        note.textContent = err.unavailable
          ? 'View-only links need the REST API, which this server does not provide yet.'
          : `Could not create the link: ${err.message}`
        return
      }
    }
    linkField.value = url
    linkField.select()
    const copied = await copyText(url)
    note.textContent = copied
      ? `${role === 'viewer' ? 'View-only' : 'Editor'} link copied to the clipboard.`
      : 'Copy the link above (Ctrl+C / ⌘C).'
    if (copied) toast('Link copied')
  }

  async function copyThisPage () {
    linkField.value = location.href
    linkField.select()
    note.textContent = (await copyText(location.href)) ? 'Link copied to the clipboard.' : 'Copy the link above (Ctrl+C / ⌘C).'
  }

  // Someone who came through a share link cannot make new links (that takes the API key),
  // but can pass on the link they have.
  const viaShareLink = info.auth_required && new URLSearchParams(location.search).has('token')
  const body = viaShareLink
    ? [
        h('p', { class: 'muted' }, 'Only people with the API key can create new links. You can pass on the link you opened this document with.'),
        h('div', { class: 'share-buttons' },
          h('button', { class: 'btn', type: 'button', onclick: copyThisPage }, icon(ICONS.link), 'Copy this link')),
        linkField,
        note
      ]
    : [
        h('p', { class: 'muted' }, info.auth_required
          ? 'Anyone with an editor link can edit; a view-only link lets people read and follow along.'
          : 'Anyone with the link can open this document on this server. This server does not require sign-in, so a view-only link opens read-only but is not enforced by the server.'),
        h('div', { class: 'share-buttons' },
          h('button', { class: 'btn', type: 'button', 'data-role': 'editor', onclick: () => makeLink('editor') }, icon(ICONS.link), 'Copy editor link'),
          h('button', { class: 'btn', type: 'button', 'data-role': 'viewer', onclick: () => makeLink('viewer') }, icon(ICONS.eye), 'Copy view-only link')),
        linkField,
        note
      ]
  await modal({ title: 'Share this document', body, actions: [{ label: 'Done', value: 'done', primary: true }] })
}

/** Toolbar buttons; each knows how to run its command and reflect the current state. */
function buildToolbar (toolbar, editor) {
  const buttons = []
  const chain = () => editor.chain().focus()

  const styleSelect = h('select', { class: 'style-select', 'aria-label': 'Text style', title: 'Text style' },
    h('option', { value: 'p' }, 'Normal text'),
    h('option', { value: 'h1' }, 'Heading 1'),
    h('option', { value: 'h2' }, 'Heading 2'),
    h('option', { value: 'h3' }, 'Heading 3'))
  styleSelect.addEventListener('change', () => {
    const v = styleSelect.value
    if (v === 'p') chain().setParagraph().run()
    else chain().setHeading({ level: Number(v.slice(1)) }).run()
  })
  toolbar.append(styleSelect)
  buttons.push({
    update () {
      const level = [1, 2, 3].find(l => editor.isActive('heading', { level: l }))
      styleSelect.value = level ? 'h' + level : 'p'
    }
  })

  const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)
  const mod = isMac ? '⌘' : 'Ctrl+'
  const groups = [
    [
      { name: 'bold', label: 'Bold', key: `${mod}B`, icon: ICONS.bold, run: () => chain().toggleBold().run(), active: () => editor.isActive('bold') },
      { name: 'italic', label: 'Italic', key: `${mod}I`, icon: ICONS.italic, run: () => chain().toggleItalic().run(), active: () => editor.isActive('italic') },
      { name: 'strike', label: 'Strikethrough', key: `${mod}Shift+S`, icon: ICONS.strike, run: () => chain().toggleStrike().run(), active: () => editor.isActive('strike') },
      { name: 'code', label: 'Inline code', key: `${mod}E`, icon: ICONS.code, run: () => chain().toggleCode().run(), active: () => editor.isActive('code') }
    ],
    [
      { name: 'bulletList', label: 'Bulleted list', key: `${mod}Shift+8`, icon: ICONS.bulletList, run: () => chain().toggleBulletList().run(), active: () => editor.isActive('bulletList') },
      { name: 'orderedList', label: 'Numbered list', key: `${mod}Shift+7`, icon: ICONS.orderedList, run: () => chain().toggleOrderedList().run(), active: () => editor.isActive('orderedList') },
      { name: 'blockquote', label: 'Quote', key: `${mod}Shift+B`, icon: ICONS.quote, run: () => chain().toggleBlockquote().run(), active: () => editor.isActive('blockquote') },
      { name: 'codeBlock', label: 'Code block', key: `${mod}Alt+C`, icon: ICONS.codeBlock, run: () => chain().toggleCodeBlock().run(), active: () => editor.isActive('codeBlock') },
      { name: 'horizontalRule', label: 'Horizontal line', icon: ICONS.hr, run: () => chain().setHorizontalRule().run() }
    ],
    [
      { name: 'undo', label: 'Undo', key: `${mod}Z`, icon: ICONS.undo, run: () => chain().undo().run(), enabled: () => editor.can().undo() },
      { name: 'redo', label: 'Redo', key: isMac ? '⌘Shift+Z' : 'Ctrl+Y', icon: ICONS.redo, run: () => chain().redo().run(), enabled: () => editor.can().redo() }
    ]
  ]
  for (const group of groups) {
    toolbar.append(h('span', { class: 'toolbar-sep', role: 'separator', 'aria-orientation': 'vertical' }))
    for (const spec of group) {
      const label = spec.key ? `${spec.label} (${spec.key})` : spec.label
      const btn = h('button', {
        class: 'tool',
        type: 'button',
        'data-command': spec.name,
        'aria-label': spec.label,
        title: label,
        'aria-pressed': spec.active ? 'false' : null,
        // Keep the editor's selection: the click must not move focus away first.
        onmousedown: ev => ev.preventDefault(),
        onclick: () => spec.run()
      }, icon(spec.icon))
      toolbar.append(btn)
      buttons.push({
        update () {
          if (spec.active) btn.setAttribute('aria-pressed', String(spec.active()))
          if (spec.enabled) btn.disabled = !spec.enabled()
        }
      })
    }
  }
  // Roving focus: arrow keys move between toolbar controls (WAI-ARIA toolbar pattern).
  toolbar.addEventListener('keydown', ev => {
    if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return
    if (ev.target === styleSelect) return
    const items = [...toolbar.querySelectorAll('select, button:not([disabled])')]
    const i = items.indexOf(document.activeElement)
    if (i < 0) return
    ev.preventDefault()
    items[(i + (ev.key === 'ArrowRight' ? 1 : -1) + items.length) % items.length].focus()
  })
  return buttons
}
