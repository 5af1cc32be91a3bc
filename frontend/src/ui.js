// Small DOM helpers shared by the pages. No framework: each page builds its DOM once
// and updates the parts that change.

/**
 * h('button', { class: 'x', onclick: fn, 'aria-label': 'Close' }, 'text', childNode)
 * Attributes starting with "on" become event listeners; false/null attributes are skipped.
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value)
    } else if (key === 'class') {
      el.className = value
    } else if (key === 'style' && typeof value === 'object') {
      Object.assign(el.style, value)
    } else if (key === 'html') {
      el.innerHTML = value // only ever used with static markup (icons)
    } else if (key in el && typeof value !== 'string') {
      el[key] = value
    } else {
      el.setAttribute(key, value === true ? '' : String(value))
    }
  }
  append(el, children)
  return el
}

function append (el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

/** An inline SVG icon (24x24 viewBox) from a path. */
export function icon (path) {
  const span = document.createElement('span')
  span.className = 'icon'
  span.setAttribute('aria-hidden', 'true')
  span.innerHTML = `<svg viewBox="0 0 24 24" width="20" height="20" fill="currentColor" focusable="false"><path d="${path}"/></svg>`
  return span
}

let bannerHost = null

/**
 * Shows a banner at the top of the page. kind: 'error' | 'info' | 'warning'.
 * Returns a function that removes it. A banner with the same key replaces the previous one.
 */
export function banner (message, { kind = 'error', key = message, action = null } = {}) {
  if (!bannerHost || !bannerHost.isConnected) {
    bannerHost = h('div', { class: 'banners', role: 'region', 'aria-label': 'Notifications' })
    document.body.prepend(bannerHost)
  }
  for (const old of bannerHost.querySelectorAll('.banner')) {
    if (old.dataset.key === key) old.remove()
  }
  const el = h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-key': key },
    h('span', { class: 'banner-text' }, message),
    action ? h('button', { class: 'btn btn-small', onclick: action.run }, action.label) : null,
    h('button', { class: 'banner-close', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'))
  bannerHost.append(el)
  return () => el.remove()
}

export function clearBanner (key) {
  if (!bannerHost) return
  for (const old of bannerHost.querySelectorAll('.banner')) {
    if (old.dataset.key === key) old.remove()
  }
}

let toastTimer = 0
/** A short-lived status message at the bottom of the screen. */
export function toast (message) {
  let el = document.querySelector('.toast')
  if (!el) {
    el = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' })
    document.body.append(el)
  }
  el.textContent = message
  el.classList.add('show')
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => el.classList.remove('show'), 2500)
}

/**
 * A modal dialog built on <dialog> (focus trap, Escape to cancel, inert background).
 * body: Node or array of Nodes. actions: [{ label, value, primary, danger }].
 * Resolves with the chosen action's value, or null when cancelled.
 * onSubmit(value) may return false to keep the dialog open (e.g. validation failed).
 */
export function modal ({ title, body, actions, onSubmit = null, label = title, cancellable = true }) {
  return new Promise(resolve => {
    const titleId = 'dlg-' + Math.random().toString(36).slice(2)
    const form = h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', { id: titleId, class: 'dialog-title' }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' }, actions.map(a =>
        h('button', {
          type: a.primary ? 'submit' : 'button',
          class: `btn ${a.primary ? 'btn-primary' : ''} ${a.danger ? 'btn-danger' : ''}`,
          value: String(a.value),
          'data-value': String(a.value),
          onclick: a.primary ? null : () => finish(a.value)
        }, a.label))))
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'aria-label': label === title ? null : label }, form)
    let done = false
    const finish = value => {
      if (done) return
      if (value !== null && onSubmit && onSubmit(value) === false) return
      done = true
      dialog.close()
      dialog.remove()
      resolve(value)
    }
    form.addEventListener('submit', ev => {
      ev.preventDefault()
      const primary = actions.find(a => a.primary)
      finish(primary ? primary.value : true)
    })
    dialog.addEventListener('cancel', ev => {
      ev.preventDefault()
      if (cancellable) finish(null)
    })
    document.body.append(dialog)
    dialog.showModal()
    const first = dialog.querySelector('input, textarea, select') || dialog.querySelector('.btn-primary')
    if (first) first.focus()
    if (first && first.select) first.select()
  })
}

/** "3 minutes ago" style time, with the absolute time available as a tooltip. */
export function relativeTime (iso) {
  const then = new Date(iso)
  if (Number.isNaN(then.getTime())) return ''
  const seconds = Math.round((Date.now() - then.getTime()) / 1000)
  if (seconds < 45) return 'just now'
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return rtf.format(-minutes, 'minute')
  const hours = Math.round(minutes / 60)
  if (hours < 24) return rtf.format(-hours, 'hour')
  const days = Math.round(hours / 24)
  if (days < 7) return rtf.format(-days, 'day')
  return then.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })
}

/** Initials for an avatar: "Ada Lovelace" -> "AL". */
export function initials (name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean)
  if (parts.length === 0) return '?'
  const letters = parts.length === 1 ? [...parts[0]].slice(0, 2) : [[...parts[0]][0], [...parts[parts.length - 1]][0]]
  return letters.join('').toUpperCase()
}

/** Copies text to the clipboard; false when the browser refused (e.g. not a secure context). */
export async function copyText (text) {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}

/** Triggers a download of text content. */
export function download (filename, content, type) {
  const url = URL.createObjectURL(new Blob([content], { type }))
  const a = h('a', { href: url, download: filename, style: { display: 'none' } })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
