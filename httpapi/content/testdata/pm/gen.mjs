// Writes the goldens for httpapi/content's y-prosemirror oracle test.
//
// Each scenario edits documents the way people do, with real TipTap 3
// editors (StarterKit + Collaboration, i.e. y-tiptap's sync plugin) running
// in happy-dom, several of them concurrently where the scenario says so.
// For each it writes into golden/:
//   <name>.update  the Yjs v1 update of the whole document (Y.encodeStateAsUpdate)
//   <name>.json    { "prosemirror": y-prosemirror's yXmlFragmentToProsemirrorJSON of
//                    the "default" fragment, "tiptap": editor.getJSON(),
//                    "html": editor.getHTML() }
// Run: npm ci && node gen.mjs   (or `make content-goldens` from the repo root)
import * as Y from 'yjs'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { yXmlFragmentToProsemirrorJSON } from 'y-prosemirror'
import { newEditor as makeEditor, snapshot } from './editor.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const outDir = path.join(here, 'golden')
fs.mkdirSync(outDir, { recursive: true })

let nextClientID = 1000
// Fixed client ids: the goldens are reproducible.
const newEditor = ydoc => makeEditor(ydoc, nextClientID++)

// Exchanges everything between replicas, as a reconnect does.
function syncAll (replicas) {
  for (const a of replicas) for (const b of replicas) if (a !== b) Y.applyUpdate(b.ydoc, Y.encodeStateAsUpdate(a.ydoc), 'net')
}

function write (name, { editor, ydoc }) {
  const update = Y.encodeStateAsUpdate(ydoc)
  const golden = snapshot({ editor, ydoc })
  fs.writeFileSync(path.join(outDir, name + '.update'), update)
  fs.writeFileSync(path.join(outDir, name + '.json'), JSON.stringify(golden, null, 1) + '\n')
  console.log(name, update.length, 'bytes')
}

// Runs each command in its own transaction, as separate key presses do.
function steps (editor, ...cmds) {
  for (const cmd of cmds) {
    if (!cmd(editor.chain()).run()) console.warn('command did nothing: ' + cmd.toString())
  }
}

const end = editor => editor.state.doc.content.size - 1

// 1. Every node and mark, typed and toggled as a person would.
{
  const r = newEditor()
  const e = r.editor
  steps(e, c => c.focus(), c => c.insertContent('Quire document'), c => c.setHeading({ level: 1 }))
  steps(e, c => c.focus('end'), c => c.splitBlock(), c => c.setParagraph(), c => c.insertContent('Plain, '), c => c.toggleBold(), c => c.insertContent('bold'), c => c.toggleBold(), c => c.insertContent(', '), c => c.toggleItalic(), c => c.insertContent('italic'), c => c.toggleItalic(), c => c.insertContent(', '), c => c.toggleStrike(), c => c.insertContent('strike'), c => c.toggleStrike(), c => c.insertContent(', '), c => c.toggleCode(), c => c.insertContent('code'), c => c.toggleCode(), c => c.insertContent(', '), c => c.toggleUnderline(), c => c.insertContent('underline'), c => c.toggleUnderline(), c => c.insertContent(' and '), c => c.toggleBold(), c => c.toggleItalic(), c => c.insertContent('both'), c => c.toggleItalic(), c => c.toggleBold(), c => c.insertContent('.'))
  steps(e, c => c.focus('end'), c => c.splitBlock(), c => c.insertContent('A link'))
  const linkEnd = end(e)
  steps(e, c => c.setTextSelection({ from: linkEnd - 3, to: linkEnd + 1 }), c => c.setLink({ href: 'https://example.com/?a=1&b=2' }))
  steps(e, c => c.focus('end'), c => c.insertContent(' and a '), c => c.setHardBreak(), c => c.insertContent('line break.'))
  for (const lv of [2, 3, 4, 5, 6]) steps(e, c => c.focus('end'), c => c.splitBlock(), c => c.insertContent(`Heading ${lv}`), c => c.setHeading({ level: lv }))
  steps(e, c => c.focus('end'), c => c.splitBlock(), c => c.setParagraph(), c => c.insertContent('first'), c => c.toggleBulletList(), c => c.splitListItem('listItem'), c => c.insertContent('second'), c => c.splitListItem('listItem'), c => c.insertContent('nested'), c => c.sinkListItem('listItem'))
  steps(e, c => c.focus('end'), c => c.splitListItem('listItem'), c => c.liftListItem('listItem'), c => c.liftListItem('listItem'), c => c.insertContent('one'), c => c.toggleOrderedList(), c => c.splitListItem('listItem'), c => c.insertContent('two'))
  steps(e, c => c.focus('end'), c => c.splitListItem('listItem'), c => c.liftListItem('listItem'), c => c.insertContent('Quoted'), c => c.toggleBlockquote())
  steps(e, c => c.focus('end'), c => c.splitBlock(), c => c.lift('blockquote'), c => c.setCodeBlock({ language: 'go' }), c => c.insertContent('func main() {\n\tprintln("<hi> & bye")\n}'))
  steps(e, c => c.focus('end'), c => c.exitCode(), c => c.setHorizontalRule(), c => c.insertContent('After the rule.'))
  write('every-node', r)
}

// 2. Formatting added and removed again, text deleted, blocks split and joined.
{
  const r = newEditor()
  const e = r.editor
  steps(e, c => c.focus(), c => c.insertContent('The quick brown fox jumps over the lazy dog'))
  steps(e, c => c.setTextSelection({ from: 5, to: 16 }), c => c.toggleBold()) // "quick brown" bold
  steps(e, c => c.setTextSelection({ from: 11, to: 21 }), c => c.toggleItalic()) // overlaps
  steps(e, c => c.setTextSelection({ from: 5, to: 10 }), c => c.unsetBold()) // "quick" plain again
  steps(e, c => c.setTextSelection({ from: 27, to: 32 }), c => c.deleteSelection()) // "over " gone
  steps(e, c => c.setTextSelection(17), c => c.splitBlock())
  steps(e, c => c.setTextSelection({ from: 1, to: 1 }), c => c.insertContent('» '))
  steps(e, c => c.focus('end'), c => c.splitBlock(), c => c.insertContent('to be joined'))
  steps(e, c => c.setTextSelection(end(e) - 12), c => c.joinBackward())
  steps(e, c => c.selectAll(), c => c.unsetAllMarks(), c => c.setTextSelection({ from: 3, to: 8 }), c => c.setLink({ href: '/relative/path', target: '_self' }))
  steps(e, c => c.setTextSelection({ from: 6, to: 10 }), c => c.setLink({ href: 'mailto:a@example.com' }))
  write('edits', r)
}

// 3. Three people typing at once into the same paragraph and list while
// offline from each other, then syncing.
{
  const a = newEditor()
  steps(a.editor, c => c.focus(), c => c.insertContent('Shared paragraph.'), c => c.splitBlock(), c => c.insertContent('item'), c => c.toggleBulletList())
  const b = newEditor(); const c = newEditor()
  const docs = [a, b, c]
  syncAll(docs)
  steps(a.editor, c => c.setTextSelection(8), c => c.insertContent('bold '), c => c.setTextSelection({ from: 8, to: 12 }), c => c.toggleBold())
  steps(b.editor, c => c.setTextSelection(18), c => c.insertContent(' Appended by B'))
  steps(b.editor, c => c.setTextSelection({ from: 1, to: 7 }), c => c.toggleItalic())
  steps(c.editor, c => c.focus('end'), c => c.splitListItem('listItem'), c => c.insertContent('item from C 🎉'))
  steps(c.editor, c => c.setTextSelection({ from: 1, to: 4 }), c => c.toggleCode())
  steps(a.editor, c => c.focus('end'), c => c.splitListItem('listItem'), c => c.insertContent('item from A'))
  syncAll(docs)
  const js = docs.map(r => JSON.stringify(yXmlFragmentToProsemirrorJSON(r.ydoc.getXmlFragment('default'))))
  if (js[0] !== js[1] || js[1] !== js[2]) throw new Error('replicas diverged')
  write('concurrent', a)
}

// 4. Unicode: UTF-16 positions with emoji and CJK, formatting inside them.
{
  const r = newEditor()
  const e = r.editor
  steps(e, c => c.focus(), c => c.insertContent('Zoë 👩‍👩‍👧 日本語のテキスト 🎉 end'))
  steps(e, c => c.setTextSelection({ from: 5, to: 13 }), c => c.toggleBold())
  steps(e, c => c.setTextSelection({ from: 14, to: 17 }), c => c.toggleStrike())
  steps(e, c => c.focus('end'), c => c.splitBlock(), c => c.setCodeBlock({ language: null }), c => c.insertContent('  indented\n\ttab'))
  steps(e, c => c.focus('end'), c => c.exitCode(), c => c.insertContent('€ < > & " \' \u00a0nbsp'))
  write('unicode', r)
}

// 5. Pasted HTML with everything, as TipTap parses it, then edited.
{
  const r = newEditor()
  const e = r.editor
  e.commands.setContent('<h2>Pasted <em>title</em></h2><ol start="3"><li><p>three</p><ul><li><p>deep <a href="https://x.org" class="c" title="T" rel="me" target="_self">link</a></p></li></ul></li><li><p>four</p></li></ol><blockquote><p>q1</p><blockquote><p>q2</p></blockquote></blockquote><pre><code class="language-js">let a = 1 &lt; 2</code></pre><p><s><u><strong>all</strong></u></s><code>x</code></p><p></p><hr>')
  steps(e, c => c.setTextSelection(3), c => c.insertContent('NEW '))
  write('pasted', r)
}

// 6. An empty document as the editor leaves it.
{
  const r = newEditor()
  steps(r.editor, c => c.focus(), c => c.insertContent('x'))
  steps(r.editor, c => c.selectAll(), c => c.deleteSelection())
  write('emptied', r)
}

process.exit(0)
