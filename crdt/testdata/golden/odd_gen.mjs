// Generates odd_golden.json: what real Yjs makes of unusual updates (found
// by fuzzing and by mutating oracle sessions, plus a subdocument with meta
// options; each line of odd_inputs.txt is
// hex updates separated by commas), applied in order to a fresh doc:
// encodeStateAsUpdate, or "error" when Yjs throws on one of them.
// Run: ln -s /tmp/yjs-src/node_modules node_modules && node odd_gen.mjs > odd_golden.json
import * as Y from 'yjs'
import fs from 'node:fs'

const out = []
for (const h of fs.readFileSync(new URL('./odd_inputs.txt', import.meta.url), 'utf8').trim().split('\n')) {
  const d = new Y.Doc()
  d.clientID = 5
  try {
    for (const u of h.split(',')) Y.applyUpdate(d, Buffer.from(u, 'hex'))
    out.push({ update: h, state: Buffer.from(Y.encodeStateAsUpdate(d)).toString('hex') })
  } catch (e) {
    out.push({ update: h, state: 'error' })
  }
}
console.log(JSON.stringify(out, null, 1))
