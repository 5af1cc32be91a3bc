// What the pages show of a document: titles, the reader's role, export and import formats.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EXPORTS, IMPORT_FORMATS, UNTITLED, displayTitle, importFormat, pageRole } from '../src/docs.js'

test('displayTitle: a document titled by its id (created on first connect) shows as untitled', () => {
  const id = '0b7e6a52-5f1c-4d5e-9a51-3f1f0c3b6d21'
  assert.equal(displayTitle(id, id), UNTITLED)
  assert.equal(displayTitle('', id), UNTITLED)
  assert.equal(displayTitle(undefined, id), UNTITLED)
  assert.equal(displayTitle('Quarterly plan', id), 'Quarterly plan')
  // Only the document's own id: another document's id is a title someone chose.
  assert.equal(displayTitle('6f1d2c3b-0000-4000-8000-000000000000', id), '6f1d2c3b-0000-4000-8000-000000000000')
})

test('pageRole: the server\'s viewer wins; a link may ask for read-only; otherwise editing', () => {
  assert.equal(pageRole('viewer', 'editor'), 'viewer') // a bare viewer share link (?token= only)
  assert.equal(pageRole('viewer', 'viewer'), 'viewer')
  assert.equal(pageRole('editor', 'editor'), 'editor')
  assert.equal(pageRole('admin', 'editor'), 'editor')
  assert.equal(pageRole('admin', 'viewer'), 'viewer') // no sign-in: a view-only link still opens read-only
  assert.equal(pageRole('editor', 'viewer'), 'viewer')
  assert.equal(pageRole(undefined, 'editor'), 'editor') // a server that does not report roles
})

test('every export downloads a file that the list imports back in the same format', () => {
  const formats = EXPORTS.map(e => e.format)
  assert.deepEqual(formats, ['markdown', 'html', 'prosemirror'])
  for (const spec of EXPORTS) {
    assert.equal(importFormat(`Report.${spec.ext}`), spec.format, `${spec.label}: .${spec.ext} imports as ${IMPORT_FORMATS[spec.ext]}`)
  }
  const json = EXPORTS.find(e => e.ext === 'json')
  assert.equal(json.format, 'prosemirror') // not format=json (the raw Yjs roots), which cannot be imported
  assert.equal(json.label, 'ProseMirror JSON (.json)')
})

test('importFormat: by extension, case-insensitive; unknown or missing extensions are refused', () => {
  assert.equal(importFormat('notes.MD'), 'markdown')
  assert.equal(importFormat('page.htm'), 'html')
  assert.equal(importFormat('a.b.txt'), 'text')
  assert.equal(importFormat('README'), '')
  assert.equal(importFormat('photo.png'), '')
  assert.equal(importFormat('x.constructor'), '')
})
