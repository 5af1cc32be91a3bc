// Live collaboration through the real server: convergence, offline edits, presence.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Server } from '../../lib/server.mjs'
import {
  connectClient, destroyAllClients, rawSocket, waitFor, boundaries, tokens, rng,
  syncMessage, awarenessMessage, encodeAwareness, SYNC_STEP1, MSG_SYNC, MSG_AWARENESS, awarenessClients, Y
} from '../lib/client.js'

let server
before(async () => { server = await new Server().start() })
after(async () => { destroyAllClients(); await server?.dispose() })

/**
 * Type `count` tokens "[<tag><n>]" into `client`, one character per transaction (as a person
 * types), a keystroke every millisecond or so, so that remote edits arrive in between. Each
 * token starts at a boundary between whole tokens; the caret follows the typed text through
 * remote edits as an editor's does (a relative position tied to the last typed character).
 */
async function type (client, tag, count, random) {
  const typed = []
  for (let n = 0; n < count; n++) {
    const token = `[${tag}${n}]`
    const b = boundaries(client.content)
    let caret = Y.createRelativePositionFromTypeIndex(client.text, b[Math.floor(random() * b.length)])
    for (const ch of token) {
      const at = Y.createAbsolutePositionFromRelativePosition(caret, client.doc).index
      client.text.insert(at, ch)
      caret = Y.createRelativePositionFromTypeIndex(client.text, at + 1, -1)
      await new Promise(resolve => setTimeout(resolve, 1))
    }
    typed.push(token)
  }
  return typed
}

const sorted = (xs) => [...xs].sort()

test('two clients typing at once converge on the same text with everything both typed', async () => {
  const docID = randomUUID()
  const a = await connectClient(server, docID, { name: 'a' })
  const b = await connectClient(server, docID, { name: 'b' })
  // Count remote edits that land while each side is still typing: proof the edits crossed.
  let typing = true
  const midway = { a: 0, b: 0 }
  a.doc.on('update', (_u, origin) => { if (typing && origin === a.provider) midway.a++ })
  b.doc.on('update', (_u, origin) => { if (typing && origin === b.provider) midway.b++ })
  const [ta, tb] = await Promise.all([type(a, 'a', 25, rng(1)), type(b, 'b', 25, rng(2))])
  typing = false
  const want = sorted([...ta, ...tb])
  await waitFor(() => a.content === b.content && sorted(tokens(a.content)).join() === want.join(), {
    what: 'a and b to converge',
    describe: () => `a=${JSON.stringify(a.content)}\nb=${JSON.stringify(b.content)}`
  })
  // Every character is inside a whole token: nothing was split, duplicated or lost.
  assert.equal(a.content.length, want.join('').length)
  assert.ok(midway.a > 0 && midway.b > 0, `edits did not cross while typing: ${JSON.stringify(midway)}`)
  // The server sent each client everything, its own keystrokes included (the echo is the "saved").
  await waitFor(() => a.seenContent === a.content && b.seenContent === b.content, { what: 'every keystroke to be echoed' })
  // A newcomer gets the same document from the server.
  const c = await connectClient(server, docID, { name: 'c' })
  assert.equal(c.content, a.content)
  assert.deepEqual(Y.encodeStateVector(c.doc), Y.encodeStateVector(a.doc))
  // Documents are separate rooms.
  const other = await connectClient(server, randomUUID(), { name: 'other' })
  assert.equal(other.content, '')
})

test('eight clients typing at once converge, and so does a late joiner', async () => {
  const docID = randomUUID()
  const clients = []
  for (let i = 0; i < 8; i++) clients.push(await connectClient(server, docID, { name: `c${i}` }))
  const typed = (await Promise.all(clients.map((c, i) => type(c, `c${i}.`, 6, rng(10 + i))))).flat()
  const want = sorted(typed).join()
  await waitFor(() => clients.every(c => c.content === clients[0].content) && sorted(tokens(clients[0].content)).join() === want, {
    what: 'eight clients to converge',
    describe: () => clients.map(c => `${c.name}: ${tokens(c.content).length} tokens`).join(', ')
  })
  assert.equal(clients[0].content.length, typed.join('').length)
  const late = await connectClient(server, docID, { name: 'late' })
  assert.equal(late.content, clients[0].content)
})

test('edits made offline merge on reconnect, and both sides see everything', async () => {
  const docID = randomUUID()
  const a = await connectClient(server, docID, { name: 'a' })
  const b = await connectClient(server, docID, { name: 'b' })
  a.text.insert(0, '[start]')
  await waitFor(() => b.content === '[start]', { what: 'b to see [start]' })

  a.provider.disconnect()
  await waitFor(() => !a.provider.wsconnected && a.ws === null, { what: 'a offline' })
  const offline = await type(a, 'off', 8, rng(3))
  const online = await type(b, 'on', 8, rng(4))
  // While a is offline, neither side has the other's edits.
  await waitFor(() => tokens(b.seenContent).length === 1 + online.length, { what: 'server to echo b\'s edits' })
  assert.ok(!tokens(b.content).some(t => t.startsWith('[off')), `b saw offline edits early: ${b.content}`)
  assert.ok(!tokens(a.content).some(t => t.startsWith('[on')), `a saw b's edits while offline: ${a.content}`)

  a.provider.connect()
  const want = sorted(['[start]', ...offline, ...online]).join()
  await waitFor(() => a.content === b.content && sorted(tokens(a.content)).join() === want, {
    what: 'a and b to merge after reconnect',
    describe: () => `a=${a.content}\nb=${b.content}`
  })
  const c = await connectClient(server, docID, { name: 'c' })
  assert.equal(c.content, a.content)
})

test('a client\'s presence disappears for the others when it leaves', async () => {
  const docID = randomUUID()
  const a = await connectClient(server, docID, { name: 'a', user: { name: 'Ada' } })
  const b = await connectClient(server, docID, { name: 'b', user: { name: 'Bob' } })
  const seesAda = (c) => c.awareness.getStates().get(a.clientID)?.user?.name === 'Ada'
  await waitFor(() => seesAda(b), { what: 'b to see Ada' })

  // A raw client announces itself, then its connection dies without a close frame or a
  // "leaving" awareness message: only the server can tell the others.
  const ghost = await rawSocket(server.docURL(docID))
  const ghostDoc = new Y.Doc()
  ghost.send(syncMessage(SYNC_STEP1, Y.encodeStateVector(ghostDoc)))
  ghost.send(awarenessMessage(encodeAwareness(ghostDoc.clientID, 1, { user: { name: 'Ghost' } })))
  await waitFor(() => b.awareness.getStates().get(ghostDoc.clientID)?.user?.name === 'Ghost' &&
    a.awareness.getStates().has(ghostDoc.clientID), { what: 'a and b to see Ghost' })
  await waitFor(() => ghost.messages.some(m => m.type === MSG_SYNC), { what: 'ghost to get a sync reply' })
  // Its own awareness comes back to it too: y-websocket clients count that as traffic, and a lone
  // editor that heard nothing for 30 s would drop and reopen its connection.
  await waitFor(() => ghost.messages.some(m => m.type === MSG_AWARENESS &&
    awarenessClients(m.payload).includes(ghostDoc.clientID)), { what: 'ghost to get its own awareness back' })
  ghost._socket.destroy() // abrupt: TCP close, no WebSocket close frame
  await waitFor(() => !b.awareness.getStates().has(ghostDoc.clientID) && !a.awareness.getStates().has(ghostDoc.clientID), {
    what: 'Ghost to disappear from a and b', timeout: 5000
  })
  assert.ok(seesAda(b), 'Ada must still be present')

  // A normal leave: the provider is destroyed.
  const adaID = a.clientID
  a.destroy()
  await waitFor(() => !b.awareness.getStates().has(adaID), { what: 'Ada to disappear from b' })
  assert.ok(b.awareness.getStates().has(b.clientID), 'b keeps its own state')
})

test('a client whose connection dropped is visible again as soon as it reconnects', async () => {
  const docID = randomUUID()
  const a = await connectClient(server, docID, { name: 'a', user: { name: 'Ada' } })
  const b = await connectClient(server, docID, { name: 'b', user: { name: 'Bob' } })
  const seesAda = () => b.awareness.getStates().get(a.clientID)?.user?.name === 'Ada'
  await waitFor(seesAda, { what: 'b to see Ada' })
  const sockets = a.sockets.length
  a.ws._socket.destroy() // the network drops: the server ends the session and tells b Ada left
  await waitFor(() => !seesAda(), { what: 'Ada to disappear from b' })
  await waitFor(() => a.sockets.length > sockets && a.provider.wsconnected, { what: 'a to reconnect' })
  // Ada re-announces her state at the clock the server's removal has: without help every peer
  // ignores it until her renewal 15-30 s later. The server answers with the removal, the client
  // bumps its clock, and Ada is back at once.
  await waitFor(seesAda, { what: 'b to see Ada again right after her reconnect', timeout: 5000 })
})
