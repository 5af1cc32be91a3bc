// Writes golden_updates.json: the v1 updates real Yjs 13.6.33 emits when an
// editor appends tokens to its own run of a Text root named "t", the edit the
// load tool builds by hand. Run from the repository root after
// `(cd e2e/load && npm ci)`: node cmd/quire-load/testdata/golden.mjs
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '../../../e2e/load/package.json'))
const Y = require('yjs')

// Each case: a client id and the tokens it appends, one transaction each.
const cases = [
  { client: 7, tokens: ['7.0.1;', '7.1.2s;', '7.2.zz9;'] },
  { client: 300, tokens: ['8c.0.0;', '8c.1.1;'] },
  { client: 4294967295, tokens: ['1z141z3.0.a;', '1z141z3.1.b;'] }
]

const out = []
for (const c of cases) {
  const doc = new Y.Doc()
  doc.clientID = c.client
  const text = doc.getText('t')
  const updates = []
  doc.on('update', u => updates.push(Buffer.from(u).toString('hex')))
  for (const tok of c.tokens) text.insert(text.length, tok)
  out.push({ client: c.client, tokens: c.tokens, updates, text: text.toString() })
}

// A document holding every kind of struct, for the reader that must skip
// what is not a string: its update and the ContentString texts in it, in
// order, as Yjs decodes them.
const mixed = new Y.Doc()
mixed.clientID = 42
mixed.getText('t').insert(0, 'a.0.0;')
mixed.getText('rich').insert(0, 'bold', { bold: true })
mixed.getText('rich').insertEmbed(4, { image: 'x.png' })
mixed.getMap('m').set('k', 'v')
mixed.getMap('m').set('n', new Y.Map())
mixed.getMap('m').set('bin', new Uint8Array([1, 2, 3]))
mixed.getArray('a').push([1, 'two', { three: 3 }])
const frag = mixed.getXmlFragment('default')
const el = new Y.XmlElement('paragraph')
el.insert(0, [new Y.XmlText('para')])
frag.insert(0, [el])
mixed.getMap('m').set('sub', new Y.Doc({ guid: 'sub-guid' }))
const other = new Y.Doc()
other.clientID = 7
Y.applyUpdate(other, Y.encodeStateAsUpdate(mixed))
other.getText('t').insert(0, 'deleted')
other.getText('t').delete(0, 3)
const full = Y.encodeStateAsUpdate(other)
const strings = Y.decodeUpdate(full).structs
  .filter(s => s.content && s.content.constructor.name === 'ContentString')
  .map(s => s.content.str)
const mixedCase = { update: Buffer.from(full).toString('hex'), strings }

writeFileSync(path.join(here, 'golden_updates.json'), JSON.stringify({ appends: out, mixed: mixedCase }, null, 2) + '\n')
