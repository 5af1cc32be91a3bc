// The "All changes saved" logic with real Yjs and a real (unconnected) y-websocket provider:
// messages are fed exactly as the provider's socket handler feeds them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import { WebsocketProvider } from 'y-websocket'
import { SyncStatus, docCovers } from '../src/sync-status.js'

function docWith (fn) {
  const doc = new Y.Doc()
  fn(doc)
  return doc
}

test('docCovers: structs and deletions must both be in the durable replica', () => {
  const local = new Y.Doc()
  const durable = new Y.Doc()
  assert.equal(docCovers(durable, local), true, 'two empty docs')

  local.getText('t').insert(0, 'hello world')
  assert.equal(docCovers(durable, local), false, 'new local text is not durable yet')
  Y.applyUpdate(durable, Y.encodeStateAsUpdate(local))
  assert.equal(docCovers(durable, local), true)

  // A delete-only change leaves the state vector as it was: the delete set must catch it.
  const sv = Y.encodeStateVector(local)
  local.getText('t').delete(0, 6)
  assert.deepEqual(Y.encodeStateVector(local), sv)
  assert.equal(docCovers(durable, local), false, 'local deletion not yet durable')
  Y.applyUpdate(durable, Y.encodeStateAsUpdate(local))
  assert.equal(docCovers(durable, local), true)

  // The durable side may know more (other people's edits we have not seen): still saved.
  const other = docWith(d => { d.clientID = 7; Y.applyUpdate(d, Y.encodeStateAsUpdate(durable)); d.getText('t').insert(0, '!') })
  Y.applyUpdate(durable, Y.encodeStateAsUpdate(other))
  assert.equal(docCovers(durable, local), true)
})

test('docCovers: a partly durable deletion is not saved', () => {
  const local = new Y.Doc()
  local.getText('t').insert(0, 'abcdefgh')
  const durable = new Y.Doc()
  Y.applyUpdate(durable, Y.encodeStateAsUpdate(local))
  local.getText('t').delete(1, 2) // "bc"
  Y.applyUpdate(durable, Y.encodeStateAsUpdate(local))
  local.getText('t').delete(3, 2) // "fg" of "adefgh"
  assert.equal(docCovers(durable, local), false)
})

function serverMessage (type, update) {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0) // messageSync
  if (type === 'step2') syncProtocol.writeSyncStep2(e, docWith(d => Y.applyUpdate(d, update)))
  else syncProtocol.writeUpdate(e, update)
  return encoding.toUint8Array(e)
}

/** Feeds a message the way y-websocket's socket onmessage does (emitSynced = true). */
function receive (provider, message, fromSocket = true) {
  const decoder = decoding.createDecoder(message)
  const encoder = encoding.createEncoder()
  const type = decoding.readVarUint(decoder)
  provider.messageHandlers[type](encoder, decoder, provider, fromSocket, type)
}

const settle = () => new Promise(resolve => setTimeout(resolve, 200))

test('SyncStatus: saving until the server echoes the change, then saved', async t => {
  const doc = new Y.Doc()
  // Never connects (connect: false), so Node needs no WebSocket implementation.
  const provider = new WebsocketProvider('ws://127.0.0.1:9', 'doc', doc, { connect: false, disableBc: true, WebSocketPolyfill: null })
  const seen = []
  const status = new SyncStatus(provider, info => seen.push(info.state))
  t.after(() => {
    status.destroy()
    provider.destroy()
    doc.destroy() // stops the awareness timer
  })
  // Pretend the socket is up and synced, as after a real connect.
  provider.wsconnected = true
  provider.synced = true
  await settle()
  assert.equal(status.state(), 'saved')

  doc.getText('t').insert(0, 'typed')
  const update = Y.encodeStateAsUpdate(doc)
  assert.equal(status.state(), 'saving')
  await settle()
  assert.equal(status.state(), 'saving', 'nothing came back from the server yet')

  // The same bytes from another tab (BroadcastChannel) do not count.
  receive(provider, serverMessage('update', update), false)
  await settle()
  assert.equal(status.state(), 'saving')

  // The server's echo does.
  receive(provider, serverMessage('update', update))
  await settle()
  assert.equal(status.state(), 'saved')
  assert.equal(doc.getText('t').toString(), 'typed', 'the provider still applied the message')

  // Edits while disconnected are "offline"; a step 2 carrying them after reconnect saves them.
  provider.wsconnected = false
  provider.emit('status', [{ status: 'disconnected' }])
  doc.getText('t').insert(5, ' offline')
  await settle()
  assert.equal(status.state(), 'offline')
  provider.wsconnected = true
  provider.emit('status', [{ status: 'connected' }])
  receive(provider, serverMessage('step2', Y.encodeStateAsUpdate(doc)))
  await settle()
  assert.equal(status.state(), 'saved')
  assert.ok(seen.includes('offline'))
  assert.equal(seen[seen.length - 1], 'saved')
})
