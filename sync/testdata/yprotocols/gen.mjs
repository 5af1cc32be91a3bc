// Golden y-protocols messages for sync/protocol_test.go, made by the real
// libraries (yjs 13.6.33, y-protocols 1.0.7, lib0). Regenerate with:
//   npm ci && node gen.mjs > golden.json
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as authProtocol from 'y-protocols/auth'

const messageSync = 0
const messageAwareness = 1
const messageAuth = 2
const messageQueryAwareness = 3

const hex = (u8) => Buffer.from(u8).toString('hex')
const frame = (fn) => { const e = encoding.createEncoder(); fn(e); return encoding.toUint8Array(e) }

const doc = new Y.Doc()
doc.clientID = 1234567
doc.getText('t').insert(0, 'héllo 👋 world')
doc.getText('t').delete(2, 3)
const other = new Y.Doc()
other.clientID = 42
other.getMap('m').set('k', 'v')
Y.applyUpdate(doc, Y.encodeStateAsUpdate(other))

const svOther = Y.encodeStateVector(other)
const out = {
  // The state vector and updates the messages carry, so the test can compare payloads.
  stateVector: hex(Y.encodeStateVector(doc)),
  stateVectorOther: hex(svOther),
  fullUpdate: hex(Y.encodeStateAsUpdate(doc)),
  diffUpdate: hex(Y.encodeStateAsUpdate(doc, svOther)),
  text: doc.getText('t').toString(),
  syncStep1: hex(frame(e => { encoding.writeVarUint(e, messageSync); syncProtocol.writeSyncStep1(e, doc) })),
  syncStep2: hex(frame(e => { encoding.writeVarUint(e, messageSync); syncProtocol.writeSyncStep2(e, doc, svOther) })),
  update: hex(frame(e => { encoding.writeVarUint(e, messageSync); syncProtocol.writeUpdate(e, Y.encodeStateAsUpdate(doc)) })),
  queryAwareness: hex(frame(e => { encoding.writeVarUint(e, messageQueryAwareness) })),
  permissionDenied: hex(frame(e => { encoding.writeVarUint(e, messageAuth); authProtocol.writePermissionDenied(e, 'no access to this document') }))
}

// Awareness: one live state and one removed client, as a provider sends them.
const aw = new awarenessProtocol.Awareness(doc)
aw.setLocalState({ user: { name: 'Zoë', color: '#30bced' }, cursor: null })
const aw2 = new awarenessProtocol.Awareness(other)
aw2.setLocalState({ user: { name: 'bob' } })
aw2.setLocalState(null)
awarenessProtocol.applyAwarenessUpdate(aw, awarenessProtocol.encodeAwarenessUpdate(aw2, [42]), 'test')
out.awareness = hex(frame(e => {
  encoding.writeVarUint(e, messageAwareness)
  encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, [1234567, 42]))
}))
out.awarenessEntries = [1234567, 42].map(id => ({
  clientID: id,
  clock: aw.meta.get(id).clock,
  state: JSON.stringify(aw.getStates().get(id) || null)
}))
aw.destroy(); aw2.destroy()
console.log(JSON.stringify(out, null, 2))
