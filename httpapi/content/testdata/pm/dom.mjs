// A DOM for TipTap in Node (happy-dom). Import it before anything of TipTap.
import { Window } from 'happy-dom'

const window = new Window({ url: 'http://localhost/' })
for (const key of ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Text', 'DocumentFragment',
  'MutationObserver', 'getComputedStyle', 'DOMParser', 'Range', 'Selection', 'KeyboardEvent', 'Event',
  'requestAnimationFrame', 'cancelAnimationFrame', 'ClipboardEvent', 'DragEvent', 'InputEvent', 'CustomEvent']) {
  if (window[key] !== undefined) {
    const v = window[key]
    Object.defineProperty(globalThis, key, { value: typeof v === 'function' && !/^[A-Z]/.test(key) ? v.bind(window) : v, configurable: true, writable: true })
  }
}
