// Bad input is refused with a clear close code and changes nothing; origins are checked.
import { test, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Server, startServer } from '../../lib/server.mjs'
import {
  Client, connectClient, destroyAllClients, rawSocket, waitFor, syncMessage, awarenessMessage, SYNC_STEP1, SYNC_UPDATE,
  MSG_SYNC, Y
} from '../lib/client.js'

const ALLOWED = 'http://allowed.example'
const MAX_MESSAGE = 64 * 1024

let server
before(async () => {
  server = await new Server({ flags: { allowedOrigins: ALLOWED, maxMessageBytes: MAX_MESSAGE } }).start()
})
afterEach(() => destroyAllClients())
after(() => server?.dispose())

const opts = (name) => ({ name, origin: ALLOWED })

/** A doc with content from client a, and a second client b watching it. */
async function populated () {
  const docID = randomUUID()
  const a = await connectClient(server, docID, opts('a'))
  const b = await connectClient(server, docID, opts('b'))
  a.text.insert(0, 'intact content')
  a.doc.getMap('meta').set('k', 1)
  await waitFor(() => b.content === 'intact content' && a.seenContent === 'intact content', { what: 'b to see a\'s content' })
  return { docID, a, b }
}

/** Open a raw socket and do the client's half of the handshake (sync step 1 with an empty doc). */
async function rawPeer (docID) {
  const ws = await rawSocket(server.docURL(docID), { origin: ALLOWED })
  ws.send(syncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))
  await waitFor(() => ws.messages.some(m => m.type === MSG_SYNC && m.syncType === 1), { what: 'raw peer to get sync step 2' })
  return ws
}

/** After a refused message: everyone else's state is intact and a newcomer loads the same doc. */
async function assertUnchanged (docID, a, b, content) {
  const sv = Y.encodeStateVector(a.doc)
  assert.equal(a.content, content)
  assert.equal(b.content, content)
  assert.equal(a.closes.length, 0, `a must stay connected: ${JSON.stringify(a.closes)}`)
  assert.equal(b.closes.length, 0, `b must stay connected: ${JSON.stringify(b.closes)}`)
  const fresh = await connectClient(server, docID, opts('fresh'))
  assert.equal(fresh.content, content)
  assert.deepEqual(fresh.doc.getMap('meta').toJSON(), { k: 1 })
  assert.deepEqual(Y.encodeStateVector(fresh.doc), sv, 'the server\'s state vector changed')
  // The room still works.
  a.text.insert(content.length, '+')
  await waitFor(() => fresh.content === content + '+' && b.content === content + '+', { what: 'an edit after the refusal to reach everyone' })
}

test('a malformed update closes that socket with 4400 and a reason; the document is unchanged', async () => {
  const { docID, a, b } = await populated()
  const payloads = {
    // A string item cut short: client 0x7c5 clock 0, info 4 (string), then nothing.
    truncated: new Uint8Array([1, 1, 0x85, 0x8f, 0x01, 0, 0x04]),
    // Not an update at all.
    text: new TextEncoder().encode('this is not a yjs update')
  }
  let content = 'intact content'
  for (const [what, payload] of Object.entries(payloads)) {
    assert.throws(() => Y.applyUpdate(new Y.Doc(), payload), undefined, `Yjs itself must reject the ${what} payload`)
    const ws = await rawPeer(docID)
    ws.send(syncMessage(SYNC_UPDATE, payload))
    const closed = await ws.closed
    assert.equal(closed.code, 4400, `${what}: close ${JSON.stringify(closed)}`)
    assert.ok(closed.reason.length > 0, `${what}: the close frame must say why`)
    await assertUnchanged(docID, a, b, content)
    content += '+'
  }
})

test('a malformed awareness message closes that socket with 4400; everyone else\'s presence is intact', async () => {
  const docID = randomUUID()
  const a = await connectClient(server, docID, { ...opts('a'), user: { name: 'Ada' } })
  const b = await connectClient(server, docID, { ...opts('b'), user: { name: 'Bob' } })
  await waitFor(() => b.awareness.getStates().get(a.clientID)?.user?.name === 'Ada', { what: 'b to see Ada' })
  const ws = await rawPeer(docID)
  // Claims five client states, carries a fragment of one.
  ws.send(awarenessMessage(new Uint8Array([5, 1, 2])))
  const closed = await ws.closed
  assert.equal(closed.code, 4400, `close ${JSON.stringify(closed)}`)
  assert.ok(closed.reason.length > 0, 'the close frame must say why')
  a.awareness.setLocalStateField('cursor', 7)
  await waitFor(() => b.awareness.getStates().get(a.clientID)?.cursor === 7, { what: 'presence to keep flowing' })
  assert.equal(b.awareness.getStates().get(a.clientID)?.user?.name, 'Ada')
  assert.equal(a.closes.length + b.closes.length, 0, 'the others stay connected')
})

test('a message over the size limit is refused with 1009; the document is unchanged', async () => {
  const { docID, a, b } = await populated()
  const big = new Y.Doc()
  big.getText('text').insert(0, 'x'.repeat(MAX_MESSAGE + 1024))
  const update = Y.encodeStateAsUpdate(big)
  const ws = await rawPeer(docID)
  ws.send(syncMessage(SYNC_UPDATE, update))
  const closed = await ws.closed
  assert.equal(closed.code, 1009, `close ${JSON.stringify(closed)}`)
  await assertUnchanged(docID, a, b, 'intact content')

  // Just under the limit is fine.
  const fits = new Y.Doc()
  fits.getText('text').insert(0, 'y'.repeat(MAX_MESSAGE - 1024))
  const ok = await rawPeer(docID)
  ok.send(syncMessage(SYNC_UPDATE, Y.encodeStateAsUpdate(fits)))
  await waitFor(() => a.content.includes('y'.repeat(MAX_MESSAGE - 1024)), { what: 'a message under the limit to be applied' })
  ok.close()
})

test('a disallowed Origin is refused at the handshake; an allowed one works', async () => {
  const docID = randomUUID()
  await assert.rejects(rawSocket(server.docURL(docID), { origin: 'http://evil.example' }),
    (err) => err.statusCode === 403, 'handshake from http://evil.example must fail with 403')
  const ws = await rawSocket(server.docURL(docID), { origin: ALLOWED })
  ws.send(syncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))
  await waitFor(() => ws.messages.some(m => m.type === MSG_SYNC), { what: 'the allowed origin to get sync messages' })
  ws.close()
  // And a real provider with the allowed origin syncs.
  const a = await connectClient(server, docID, opts('a'))
  a.text.insert(0, 'ok')
  await waitFor(() => a.seenContent === 'ok', { what: 'the server to acknowledge an edit from the allowed origin' })
})

test('a final close code (4404: no such document) stops the stock provider from retrying', async (t) => {
  const strict = await startServer(t, { flags: { createOnConnect: false } })
  const c = new Client(strict, randomUUID(), { name: 'nowhere' })
  let ev = null
  c.provider.once('closed', (e) => { ev = e })
  await waitFor(() => ev, { what: 'the provider to emit "closed"', describe: () => JSON.stringify(c.closes) })
  assert.equal(ev.code, 4404, `close ${JSON.stringify(ev)}`)
  assert.ok(ev.reason.length > 0, 'the close frame must say why')
  // No further attempts: the provider gave up, as y-websocket 3.1 does for 4400-4499.
  const attempts = c.sockets.length
  // Absence cannot be polled for: give it time for several retries (backoff starts at 200 ms).
  await new Promise(resolve => setTimeout(resolve, 1000))
  assert.equal(c.sockets.length, attempts, 'the provider reconnected after a final close code')
  assert.equal(c.provider.shouldConnect, false)
})
