// surrogate.mjs: Yjs' rule for edits inside a UTF-16 surrogate pair, as a
// fixed scenario crdt/oracle_reverse_test.go repeats with the Go API.
// Client 1 writes "a😀b👍🏽c" and "x🎉y" in an XmlText; client 2 receives it,
// then (one transaction each) inserts inside 😀, deletes the second half of
// 👍, formats a range that starts inside 🏽, and inserts inside 🎉. Client 1
// then receives client 2's updates. Prints both sides' content, delta and
// bytes, and client 2's updates.
// Last, client 2 formats bold a range of the bold text "p😀q" (Text
// "plain") starting inside 😀: nothing changes, so no update is sent, yet
// client 2's copy now holds U+FFFD twice while client 1 keeps 😀 — the
// replicas never converge (Yjs 13.6.33 behaviour, which Quire matches).
import * as Y from 'yjs'
import { b64, snapshot } from './lib.mjs'

const roots = [{ name: 'text', type: 'Text' }, { name: 'default', type: 'XmlFragment' }, { name: 'plain', type: 'Text' }]
const a = new Y.Doc(); a.clientID = 1
const b = new Y.Doc(); b.clientID = 2
for (const d of [a, b]) { d.getText('text'); d.getXmlFragment('default'); d.getText('plain') }
a.transact(() => {
  a.getText('plain').insert(0, 'p😀q', { bold: true })
  a.getText('text').insert(0, 'a😀b👍🏽c')
  const p = new Y.XmlElement('paragraph')
  a.getXmlFragment('default').insert(0, [p])
  const t = new Y.XmlText()
  p.insert(0, [t])
  t.insert(0, 'x🎉y')
})
Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
const updates = []
b.on('update', u => updates.push(b64(u)))
const text = b.getText('text')
b.transact(() => text.insert(2, 'X'))
b.transact(() => text.delete(6, 1))
b.transact(() => text.format(7, 2, { bold: true }))
const xt = b.getXmlFragment('default').get(0).get(0)
b.transact(() => xt.insert(2, 'Z', { italic: {} }))
b.transact(() => b.getText('plain').format(2, 1, { bold: true })) // sends nothing
for (const u of updates) Y.applyUpdate(a, Buffer.from(u, 'base64'))
console.log(JSON.stringify({ updates, local: snapshot(b, roots), remote: snapshot(a, roots) }))
