// What the pages show of a document, kept free of DOM and network so unit tests can check it:
// its title, what the reader may do, and the file formats of export and import.

export const UNTITLED = 'Untitled document'

/**
 * The title to show. A document created by opening /d/{id} (the server creates it on first
 * connect) is stored with its id as its title; people see "Untitled document" instead, and the
 * stored title stays as it is until someone renames it.
 */
export function displayTitle (title, id) {
  return !title || title === id ? UNTITLED : title
}

/**
 * What the editor page lets its reader do: 'viewer' or 'editor'. The server says what the
 * credentials allow (doc.role: admin, editor or viewer) and enforces it; a link may also ask
 * for read-only (role=viewer, as the share dialog adds on a server without sign-in), which
 * is honoured even when the credentials would allow editing.
 */
export function pageRole (serverRole, requestedRole) {
  return serverRole === 'viewer' || requestedRole === 'viewer' ? 'viewer' : 'editor'
}

/**
 * Export menu entries: the REST format to ask for (GET …/content?format=) and the file it
 * becomes. The JSON download is ProseMirror JSON, the form the list page imports from .json
 * files, so an exported file imports back as the same document.
 */
export const EXPORTS = [
  { format: 'markdown', label: 'Markdown (.md)', ext: 'md', type: 'text/markdown;charset=utf-8' },
  { format: 'html', label: 'HTML (.html)', ext: 'html', type: 'text/html;charset=utf-8' },
  { format: 'prosemirror', label: 'ProseMirror JSON (.json)', ext: 'json', type: 'application/json' }
]

/** File extension → REST import format (POST /docs {content, format}). */
export const IMPORT_FORMATS = {
  md: 'markdown',
  markdown: 'markdown',
  html: 'html',
  htm: 'html',
  txt: 'text',
  json: 'prosemirror'
}

/** The import format for a file name, or '' when Quire cannot import it. */
export function importFormat (fileName) {
  const dot = fileName.lastIndexOf('.')
  const ext = dot >= 0 ? fileName.slice(dot + 1).toLowerCase() : ''
  return Object.hasOwn(IMPORT_FORMATS, ext) ? IMPORT_FORMATS[ext] : ''
}
