// The document list (/): search, sort, create, import, rename, delete, open.
import { api, serverInfo, storeApiKey } from './api.js'
import { banner, clearBanner, h, icon, modal, relativeTime, toast } from './ui.js'
import { ICONS } from './icons.js'
import { UNTITLED, displayTitle, importFormat } from './docs.js'

const PAGE_SIZE = 50
const REFRESH_MS = 10000

export async function mount (root) {
  document.title = 'Documents — Quire'
  const state = { q: '', sort: 'updated', docs: [], nextCursor: '', loading: false, loaded: false, unavailable: false }

  const search = h('input', {
    type: 'search',
    class: 'search-input',
    placeholder: 'Search by title',
    'aria-label': 'Search documents by title',
    autocomplete: 'off'
  })
  const sortSelect = h('select', { class: 'sort-select', 'aria-label': 'Sort documents' },
    h('option', { value: 'updated' }, 'Last edited'),
    h('option', { value: 'created' }, 'Created'),
    h('option', { value: 'title' }, 'Title'))
  const newBtn = h('button', { class: 'btn btn-primary new-doc', type: 'button' }, icon(ICONS.add), h('span', {}, 'New document'))
  const fileInput = h('input', { type: 'file', accept: '.md,.markdown,.html,.htm,.txt,.json', class: 'visually-hidden', id: 'import-file', tabindex: '-1', 'aria-hidden': 'true' })
  const importBtn = h('button', { class: 'btn import-doc', type: 'button', title: 'Create a document from a Markdown, HTML, text or ProseMirror JSON file' }, icon(ICONS.upload), h('span', {}, 'Import'))
  const listEl = h('ul', { class: 'doc-list', 'aria-label': 'Documents' })
  const statusEl = h('p', { class: 'list-status muted', role: 'status', 'aria-live': 'polite' })
  const moreBtn = h('button', { class: 'btn load-more', type: 'button', hidden: true }, 'Load more')
  const openForm = buildOpenByName()

  root.replaceChildren(h('div', { class: 'list-page' },
    h('header', { class: 'list-header' },
      h('a', { class: 'brand', href: '/' }, h('img', { src: '/assets/favicon.svg', alt: '', width: 32, height: 32 }), h('span', {}, 'Quire')),
      h('div', { class: 'search-wrap' }, icon(ICONS.search), search),
      h('a', { class: 'header-link', href: '/demo/cursors' }, 'Cursors demo')),
    h('main', { class: 'list-main' },
      h('div', { class: 'list-toolbar' },
        h('h1', {}, 'Documents'),
        h('div', { class: 'list-actions' }, sortSelect, importBtn, fileInput, newBtn)),
      statusEl,
      listEl,
      moreBtn,
      openForm)))

  // ---- loading
  let loadSeq = 0
  async function load ({ append = false, quiet = false } = {}) {
    const seq = ++loadSeq
    state.loading = true
    if (!quiet && !append) statusEl.textContent = 'Loading documents…'
    try {
      const res = await api('GET', '/docs', {
        query: { sort: state.sort, q: state.q, limit: PAGE_SIZE, cursor: append ? state.nextCursor : '' }
      })
      if (seq !== loadSeq) return // a newer search superseded this one
      const docs = Array.isArray(res.docs) ? res.docs : []
      state.docs = append ? state.docs.concat(docs) : docs
      state.nextCursor = res.next_cursor || ''
      state.loaded = true
      clearBanner('list-load')
      render()
    } catch (err) {
      if (seq !== loadSeq) return
      if (err.unavailable) {
        state.unavailable = true
        render()
        return
      }
      if (err.status === 401 || err.status === 403) {
        statusEl.textContent = ''
        askApiKey()
        return
      }
      if (!quiet) {
        statusEl.textContent = ''
        banner(`Could not load documents: ${err.message}`, { key: 'list-load', action: { label: 'Retry', run: () => load() } })
      }
    } finally {
      if (seq === loadSeq) state.loading = false
    }
  }

  function render () {
    moreBtn.hidden = !state.nextCursor
    openForm.hidden = !state.unavailable
    if (state.unavailable) {
      listEl.replaceChildren()
      statusEl.textContent = ''
      banner('This server does not provide the REST API (/api/v1) yet, so documents cannot be listed. You can still open or create a document by name below.', { kind: 'warning', key: 'api-missing' })
      return
    }
    if (state.docs.length === 0) {
      statusEl.textContent = ''
      listEl.replaceChildren(state.q
        ? h('li', { class: 'empty' }, h('p', {}, `No documents match “${state.q}”.`))
        : h('li', { class: 'empty empty-first' },
          icon(ICONS.doc),
          h('h2', {}, 'No documents yet'),
          h('p', { class: 'muted' }, 'Create your first document and share the link: everyone who opens it edits together, live.'),
          h('button', { class: 'btn btn-primary', type: 'button', onclick: createDoc }, icon(ICONS.add), 'Create a document')))
      return
    }
    statusEl.textContent = state.q ? `${state.docs.length}${state.nextCursor ? '+' : ''} matching “${state.q}”` : ''
    listEl.replaceChildren(...state.docs.map(renderDoc))
  }

  function renderDoc (doc) {
    const title = displayTitle(doc.title, doc.id)
    const editors = Number(doc.editors) || 0
    const href = `/d/${encodeURIComponent(doc.id)}`
    return h('li', { class: 'doc-row', 'data-id': doc.id },
      h('a', { class: 'doc-link', href },
        icon(ICONS.doc),
        h('span', { class: 'doc-title' }, title)),
      h('span', { class: 'doc-meta' },
        editors > 0
          ? h('span', { class: 'live-badge', title: `${editors} editing now` }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), `${editors} editing`)
          : null,
        h('time', { class: 'doc-updated', datetime: doc.updated_at, title: new Date(doc.updated_at).toLocaleString() }, relativeTime(doc.updated_at))),
      h('span', { class: 'doc-actions' },
        h('button', { class: 'icon-btn rename-doc', type: 'button', 'aria-label': `Rename “${title}”`, title: 'Rename', onclick: () => renameDoc(doc) }, icon(ICONS.edit)),
        h('button', { class: 'icon-btn delete-doc', type: 'button', 'aria-label': `Delete “${title}”`, title: 'Delete', onclick: () => deleteDoc(doc) }, icon(ICONS.delete))))
  }

  // ---- actions
  async function createDoc () {
    if (state.unavailable) {
      location.href = `/d/${crypto.randomUUID()}`
      return
    }
    try {
      const doc = await api('POST', '/docs', { body: { title: UNTITLED } })
      location.href = `/d/${encodeURIComponent(doc.id)}`
    } catch (err) {
      if (err.unavailable) {
        location.href = `/d/${crypto.randomUUID()}`
        return
      }
      banner(`Could not create a document: ${err.message}`, { key: 'create' })
    }
  }

  async function renameDoc (doc) {
    const shown = displayTitle(doc.title, doc.id)
    const input = h('input', { type: 'text', id: 'rename-title', value: shown, maxlength: '200' })
    const result = await modal({
      title: 'Rename document',
      body: [h('label', { for: 'rename-title', class: 'field-label' }, 'Title'), input],
      actions: [{ label: 'Cancel', value: null }, { label: 'Rename', value: 'ok', primary: true }]
    })
    if (result === null) return
    const title = input.value.trim() || UNTITLED
    // Unchanged (including "Untitled document" for a document still titled by its id).
    if (title === shown) return
    try {
      const updated = await api('PATCH', `/docs/${encodeURIComponent(doc.id)}`, { body: { title } })
      Object.assign(doc, updated)
      render()
      toast('Renamed')
    } catch (err) {
      banner(`Could not rename: ${err.message}`, { key: 'rename' })
    }
  }

  async function deleteDoc (doc) {
    const title = displayTitle(doc.title, doc.id)
    const result = await modal({
      title: 'Delete document?',
      body: h('p', {}, `“${title}” will be deleted for everyone. This cannot be undone.`),
      actions: [{ label: 'Cancel', value: null }, { label: 'Delete', value: 'delete', primary: true, danger: true }]
    })
    if (result === null) return
    try {
      await api('DELETE', `/docs/${encodeURIComponent(doc.id)}`)
      state.docs = state.docs.filter(d => d.id !== doc.id)
      render()
      toast(`Deleted “${title}”`)
    } catch (err) {
      banner(`Could not delete: ${err.message}`, { key: 'delete' })
    }
  }

  async function importFile (file) {
    const format = importFormat(file.name)
    if (!format) {
      banner(`Cannot import “${file.name}”: use a .md, .html, .txt or .json file.`, { key: 'import' })
      return
    }
    try {
      const content = await file.text()
      const title = file.name.replace(/\.[^.]+$/, '') || UNTITLED
      const doc = await api('POST', '/docs', { body: { title, content, format } })
      location.href = `/d/${encodeURIComponent(doc.id)}`
    } catch (err) {
      banner(`Could not import “${file.name}”: ${err.message}`, { key: 'import' })
    }
  }

  async function askApiKey () {
    const input = h('input', { type: 'password', id: 'api-key', autocomplete: 'off', required: true })
    const result = await modal({
      title: 'API key needed',
      body: [
        h('p', { class: 'muted' }, 'This Quire server requires authentication. Enter an API key to list and manage documents.'),
        h('label', { for: 'api-key', class: 'field-label' }, 'API key'),
        input
      ],
      actions: [{ label: 'Cancel', value: null }, { label: 'Continue', value: 'ok', primary: true }]
    })
    if (result === null) {
      banner('Documents cannot be listed without an API key.', { key: 'list-load', kind: 'warning', action: { label: 'Enter key', run: askApiKey } })
      return
    }
    storeApiKey(input.value.trim())
    load()
  }

  // ---- wiring
  newBtn.addEventListener('click', createDoc)
  importBtn.addEventListener('click', () => fileInput.click())
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0]
    fileInput.value = ''
    if (file) importFile(file)
  })
  let searchTimer = 0
  search.addEventListener('input', () => {
    clearTimeout(searchTimer)
    searchTimer = setTimeout(() => {
      state.q = search.value.trim()
      load()
    }, 200)
  })
  sortSelect.addEventListener('change', () => {
    state.sort = sortSelect.value
    load()
  })
  moreBtn.addEventListener('click', () => load({ append: true }))
  document.addEventListener('keydown', ev => {
    // "/" focuses search, as on many sites; not while typing somewhere.
    if (ev.key === '/' && !ev.ctrlKey && !ev.metaKey && !(ev.target instanceof HTMLInputElement) && !(ev.target instanceof HTMLTextAreaElement) && !document.querySelector('dialog[open]')) {
      ev.preventDefault()
      search.focus()
    }
  })

  // Live editor counts: refresh the first page now and then while the tab is visible.
  setInterval(() => {
    if (document.visibilityState === 'visible' && !state.loading && !state.unavailable && !state.nextCursor && !document.querySelector('dialog[open]')) load({ quiet: true })
  }, REFRESH_MS)
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.loaded) load({ quiet: true })
  })

  const info = await serverInfo()
  if (!info.available) {
    state.unavailable = true
    render()
    return
  }
  load()
}

/** Fallback when there is no REST API: open (or create on first connect) a document by name. */
function buildOpenByName () {
  const input = h('input', { type: 'text', id: 'open-name', placeholder: 'document name or id', required: true, pattern: '[A-Za-z0-9._~-]{1,128}', title: 'Letters, digits, dot, dash, underscore and tilde' })
  const form = h('form', { class: 'open-form', hidden: true },
    h('label', { for: 'open-name', class: 'field-label' }, 'Open a document by name'),
    h('div', { class: 'open-row' }, input, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Open')))
  form.addEventListener('submit', ev => {
    ev.preventDefault()
    const name = input.value.trim()
    if (name) location.href = `/d/${encodeURIComponent(name)}`
  })
  return form
}
