// Writes golden.json: Hocuspocus 4 frames produced by the real code. Client frames come from
// @hocuspocus/provider 4.8.0 talking to a fake WebSocket that records what it sends; server
// frames from @hocuspocus/server 4.7.0's OutgoingMessage. sync/hocuspocus_codec_test.go
// decodes the first and must encode the second byte for byte.
// Run: npm ci && node gen.mjs
import { writeFileSync } from 'node:fs'
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { OutgoingMessage } from '@hocuspocus/server'

const hex = b => Buffer.from(b).toString('hex')

// A WebSocket stand-in: records sends, lets the script open it and push messages.
class RecordingSocket {
  static last = null
  constructor (url) {
    this.url = url
    this.readyState = 0
    this.sent = []
    this.listeners = {}
    RecordingSocket.last = this
  }

  addEventListener (name, fn) { (this.listeners[name] ||= []).push(fn) }
  removeEventListener (name, fn) { this.listeners[name] = (this.listeners[name] || []).filter(f => f !== fn) }
  emit (name, event) { for (const fn of this.listeners[name] || []) fn(event) }
  send (data) { this.sent.push(new Uint8Array(data)) }
  close () { this.readyState = 3 }
  open () { this.readyState = 1; this.emit('open', {}) }
  receive (bytes) { this.emit('message', { data: new Uint8Array(bytes).buffer }) }
}

const tick = () => new Promise(resolve => setTimeout(resolve, 10))

const client = []
const socket = new HocuspocusProviderWebsocket({ url: 'ws://golden.invalid/hocuspocus', WebSocketPolyfill: RecordingSocket })
const ws = RecordingSocket.last
const take = async (name, expect, act) => {
  const before = ws.sent.length
  await act()
  await tick()
  const frames = ws.sent.slice(before)
  if (frames.length !== 1) throw new Error(`${name}: expected one frame, got ${frames.length}`)
  client.push({ name, hex: hex(frames[0]), ...expect })
}

const doc = new Y.Doc()
doc.clientID = 42
const provider = new HocuspocusProvider({ websocketProvider: socket, name: 'notes/äbc', token: 'sekret-token', document: doc })
provider.setAwarenessField('user', { name: 'Ada', color: '#f0a' })
provider.attach()
// Opening sends Auth, sync step 1 and the local awareness state, in that order.
ws.open()
await tick()
const opening = ws.sent.splice(0)
if (opening.length !== 3) throw new Error(`open: expected 3 frames, got ${opening.length}`)
client.push({ name: 'auth token', hex: hex(opening[0]), address: 'notes/äbc', type: 2, token: 'sekret-token', version: '4.8.0' })
client.push({ name: 'sync step 1', hex: hex(opening[1]), address: 'notes/äbc', type: 0, sync: 0 })
client.push({ name: 'awareness', hex: hex(opening[2]), address: 'notes/äbc', type: 1 })
await take('update', { address: 'notes/äbc', type: 0, sync: 2 }, () => doc.getText('body').insert(0, 'hello'))
await take('stateless', { address: 'notes/äbc', type: 5, payload: '{"kind":"cursor","at":3}' }, () => provider.sendStateless('{"kind":"cursor","at":3}'))
// The provider answers the server's step 1 with its step 2 (type Sync, sub-type 1).
const sv = new OutgoingMessage('notes/äbc').createSyncMessage().writeFirstSyncStepFor(new Y.Doc())
await take('sync step 2 reply', { address: 'notes/äbc', type: 0, sync: 1 }, () => ws.receive(sv.toUint8Array()))
await take('pong', { bare: true, type: 10 }, () => ws.receive([9]))

const sessionDoc = new Y.Doc()
const session = new HocuspocusProvider({ websocketProvider: socket, name: 'notes/äbc', sessionAwareness: true, document: sessionDoc, token: null })
session.sessionId = 'sess1'
await take('auth with session address and no token', { address: 'notes/äbc\u0000sess1', type: 2, token: '', version: '4.8.0' }, async () => {
  session.attach()
  await tick()
  ws.sent.splice(-2) // keep the Auth, drop its sync step 1 and awareness
})
await take('close', { address: 'notes/äbc', type: 7 }, () => provider.detach())

// Server frames.
const server = []
const out = (name, msg, args) => server.push({ name, hex: hex(msg.toUint8Array()), ...args })
const addr = 'notes/äbc'
out('authenticated read-write', new OutgoingMessage(addr).writeAuthenticated(false), { address: addr, readOnly: false })
out('authenticated readonly', new OutgoingMessage(addr).writeAuthenticated(true), { address: addr, readOnly: true })
out('permission denied', new OutgoingMessage(addr).writePermissionDenied('unauthorized: the token is not valid'), { address: addr, reason: 'unauthorized: the token is not valid' })
out('sync status saved', new OutgoingMessage(addr).writeSyncStatus(true), { address: addr, saved: true })
out('sync status refused', new OutgoingMessage(addr + '\u0000sess1').writeSyncStatus(false), { address: addr + '\u0000sess1', saved: false })
out('stateless', new OutgoingMessage(addr).writeStateless('{"kind":"cursor","at":3}'), { address: addr, payload: '{"kind":"cursor","at":3}' })
out('close', new OutgoingMessage(addr).writeCloseMessage('malformed message: update: bad'), { address: addr, reason: 'malformed message: update: bad' })
const full = new Y.Doc()
full.clientID = 7
full.getText('body').insert(0, 'abc')
out('sync step 1', new OutgoingMessage(addr).createSyncMessage().writeFirstSyncStepFor(full), { address: addr, stateVector: hex(Y.encodeStateVector(full)) })
const aw = new Awareness(full)
aw.setLocalState({ user: { name: 'Ada' } })
out('awareness', new OutgoingMessage(addr).createAwarenessUpdateMessage(aw), { address: addr, awareness: [{ clientID: 7, clock: aw.meta.get(7).clock, state: JSON.stringify(aw.getLocalState()) }] })
aw.destroy()

writeFileSync(new URL('./golden.json', import.meta.url), JSON.stringify({ generatedBy: 'gen.mjs', client, server }, null, 2) + '\n')
provider.destroy(); session.destroy(); socket.destroy()
console.log(`wrote ${client.length} client and ${server.length} server frames`)
