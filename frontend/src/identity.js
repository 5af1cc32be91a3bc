// The person using this browser: a name and a colour shown to collaborators (avatars,
// carets, pointers). Asked once, remembered in localStorage.
import { h, modal } from './ui.js'

const STORAGE_KEY = 'quire.user'

export const PALETTE = [
  { color: '#d93025', label: 'Red' },
  { color: '#e8710a', label: 'Orange' },
  { color: '#b7791f', label: 'Amber' },
  { color: '#188038', label: 'Green' },
  { color: '#0b8291', label: 'Teal' },
  { color: '#1a73e8', label: 'Blue' },
  { color: '#7b3fe4', label: 'Violet' },
  { color: '#c2185b', label: 'Pink' }
]

function isColor (value) {
  return typeof value === 'string' && /^#[0-9a-f]{6}$/i.test(value)
}

export function storedUser () {
  try {
    const user = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null')
    if (user && typeof user.name === 'string' && user.name.trim() && isColor(user.color)) {
      return { name: user.name.trim().slice(0, 40), color: user.color }
    }
  } catch { /* fall through: ask again */ }
  return null
}

function remember (user) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(user))
  } catch { /* storage disabled: we ask again next time */ }
}

/** Returns the remembered user, asking for name and colour on the first visit. */
export async function ensureUser () {
  return storedUser() || askUser(null)
}

/** Shows the name/colour dialog (also used to change them later). */
export async function askUser (current) {
  const initial = current || {
    name: '',
    color: PALETTE[Math.floor(Math.random() * PALETTE.length)].color
  }
  const nameInput = h('input', {
    type: 'text',
    id: 'user-name',
    name: 'name',
    maxlength: '40',
    autocomplete: 'nickname',
    value: initial.name,
    placeholder: 'e.g. Ada Lovelace'
  })
  let chosen = initial.color
  const swatches = h('div', { class: 'swatches', role: 'radiogroup', 'aria-label': 'Your colour' },
    PALETTE.map(({ color, label }) => {
      const swatch = h('button', {
        type: 'button',
        class: 'swatch',
        role: 'radio',
        'aria-checked': String(color === chosen),
        'aria-label': label,
        title: label,
        style: { background: color },
        onclick: () => {
          chosen = color
          for (const s of swatches.children) s.setAttribute('aria-checked', String(s === swatch))
        }
      })
      return swatch
    }))
  const error = h('p', { class: 'field-error', role: 'alert' })
  const body = [
    h('p', { class: 'muted' }, 'Collaborators see your name and colour next to your cursor.'),
    h('label', { for: 'user-name', class: 'field-label' }, 'Your name'),
    nameInput,
    h('span', { class: 'field-label' }, 'Your colour'),
    swatches,
    error
  ]
  const result = await modal({
    title: current ? 'Change your name' : 'Welcome to Quire',
    body,
    cancellable: Boolean(current),
    actions: [
      ...(current ? [{ label: 'Cancel', value: null }] : []),
      { label: current ? 'Save' : 'Continue', value: 'ok', primary: true }
    ],
    onSubmit: () => {
      if (!nameInput.value.trim()) {
        error.textContent = 'Please enter a name.'
        nameInput.focus()
        return false
      }
      return true
    }
  })
  if (result === null) return current
  const user = { name: nameInput.value.trim().slice(0, 40), color: chosen }
  remember(user)
  return user
}
