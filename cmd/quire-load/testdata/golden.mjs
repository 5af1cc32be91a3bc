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
writeFileSync(path.join(here, 'golden_updates.json'), JSON.stringify(out, null, 2) + '\n')
