// Reads Yjs updates written by Quire (paths as arguments) into real TipTap
// editors and prints, per file, one JSON line: what y-prosemirror and TipTap
// read from it, and whether opening it in the editor had to change the
// document (y-prosemirror deletes nodes the schema rejects).
import * as Y from 'yjs'
import * as fs from 'node:fs'
import { newEditor, snapshot } from './editor.mjs'

for (const file of process.argv.slice(2)) {
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, fs.readFileSync(file))
  const before = Y.encodeStateVector(ydoc)
  let changedByEditor = false
  ydoc.on('update', () => { changedByEditor = true })
  const r = newEditor(ydoc)
  await new Promise(resolve => setTimeout(resolve, 5)) // let the sync plugin write back anything it changes
  const out = snapshot(r)
  out.changedByEditor = changedByEditor || !Buffer.from(before).equals(Buffer.from(Y.encodeStateVector(ydoc)))
  process.stdout.write(JSON.stringify(out) + '\n')
  r.editor.destroy()
}
process.exit(0)
