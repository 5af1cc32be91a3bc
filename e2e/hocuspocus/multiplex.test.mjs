// Many documents over one Hocuspocus socket, mixed with y-websocket, stateless messages and
// awareness: the real @hocuspocus/provider 4.8.0 against the real quire binary.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, hocuspocusSocket, attach, yWebsocket, waitFor, sleep, Y } from './harness.mjs'

let server
before(async () => { server = await startServer() })
after(async () => { await server?.stop() })

const text = p => p.document.getText('body').toString()

test('ten documents over one shared socket converge with a second socket\'s editors', async () => {
  const shared = hocuspocusSocket(server.hocuspocusURL)
  const other = hocuspocusSocket(server.hocuspocusURL)
  const names = Array.from({ length: 10 }, (_, i) => `multi-${i}`)
  const mine = await Promise.all(names.map(n => attach(shared, n)))
  const theirs = await Promise.all(names.map(n => attach(other, n)))
  try {
    mine.forEach((p, i) => p.document.getText('body').insert(0, `mine ${i};`))
    theirs.forEach((p, i) => p.document.getText('body').insert(0, `theirs ${i};`))
    for (let i = 0; i < names.length; i++) {
      await waitFor(() => text(mine[i]) === text(theirs[i]) && text(mine[i]).length === `mine ${i};theirs ${i};`.length, `document ${i} converged`)
      assert.match(text(mine[i]), new RegExp(`mine ${i};`))
      assert.match(text(mine[i]), new RegExp(`theirs ${i};`))
      assert.doesNotMatch(text(mine[i]), /mine \d+;.*mine/, 'no other document\'s edits leaked in')
    }
    await waitFor(() => [...mine, ...theirs].every(p => p.unsyncedChanges === 0), 'every edit acknowledged')
    assert.equal(shared.configuration.providerMap.size, 10)
    assert.equal(shared.webSocket.readyState, 1, 'still one open socket')
  } finally {
    [...mine, ...theirs].forEach(p => p.destroy())
    shared.destroy(); other.destroy()
  }
})

test('a y-websocket client and a Hocuspocus client on one document converge', async () => {
  const socket = hocuspocusSocket(server.hocuspocusURL)
  const hp = await attach(socket, 'mixed')
  const yws = await yWebsocket(server, 'mixed')
  try {
    hp.document.getText('body').insert(0, 'from hocuspocus. ')
    yws.doc.getText('body').insert(0, 'from y-websocket. ')
    await waitFor(() => text(hp) === yws.doc.getText('body').toString() && text(hp).length === 35, 'converged')
    // Awareness crosses protocols too.
    hp.setAwarenessField('user', { name: 'hocus' })
    yws.awareness.setLocalStateField('user', { name: 'yws' })
    await waitFor(() => yws.awareness.getStates().get(hp.document.clientID)?.user?.name === 'hocus', 'y-websocket sees the Hocuspocus cursor')
    await waitFor(() => hp.awareness.getStates().get(yws.doc.clientID)?.user?.name === 'yws', 'Hocuspocus sees the y-websocket cursor')
    await waitFor(() => hp.unsyncedChanges === 0, 'acknowledged')
  } finally {
    hp.destroy(); socket.destroy(); yws.destroy()
  }
})

test('stateless messages reach the other connections of that document only', async () => {
  const s1 = hocuspocusSocket(server.hocuspocusURL)
  const s2 = hocuspocusSocket(server.hocuspocusURL)
  const sender = await attach(s1, 'stateless-a')
  const sameSocketOtherDoc = await attach(s1, 'stateless-b')
  const peer = await attach(s2, 'stateless-a')
  const peerOtherDoc = await attach(s2, 'stateless-b')
  const yws = await yWebsocket(server, 'stateless-a') // has no stateless messages: must get nothing odd
  try {
    sender.sendStateless('{"ping":1}')
    sender.sendStateless('second')
    await waitFor(() => peer.events.stateless.length === 2, 'peer got both')
    assert.deepEqual(peer.events.stateless, ['{"ping":1}', 'second'])
    peerOtherDoc.sendStateless('for b')
    await waitFor(() => sameSocketOtherDoc.events.stateless.length === 1, 'b got its message')
    await sleep(300)
    assert.deepEqual(sender.events.stateless, [], 'not echoed to the sender')
    assert.deepEqual(sameSocketOtherDoc.events.stateless, ['for b'], 'document b got only its own')
    assert.deepEqual(peerOtherDoc.events.stateless, [])
    // Stateless messages are not stored: the document is still empty.
    assert.equal(yws.doc.getText('body').toString(), '')
    assert.equal(yws.wsconnected, true, 'the y-websocket client was not disturbed')
  } finally {
    [sender, sameSocketOtherDoc, peer, peerOtherDoc].forEach(p => p.destroy())
    s1.destroy(); s2.destroy(); yws.destroy()
  }
})

test('detaching one document removes its awareness for others and leaves the socket\'s other documents working', async () => {
  const s1 = hocuspocusSocket(server.hocuspocusURL)
  const s2 = hocuspocusSocket(server.hocuspocusURL)
  const leaving = await attach(s1, 'detach-a')
  const staying = await attach(s1, 'detach-b')
  const watcherA = await attach(s2, 'detach-a')
  const watcherB = await attach(s2, 'detach-b')
  try {
    leaving.setAwarenessField('user', { name: 'leaver' })
    staying.setAwarenessField('user', { name: 'stayer' })
    await waitFor(() => watcherA.awareness.getStates().get(leaving.document.clientID)?.user?.name === 'leaver', 'watcher sees the leaver')
    await waitFor(() => watcherB.awareness.getStates().get(staying.document.clientID)?.user?.name === 'stayer', 'watcher sees the stayer')

    leaving.detach() // sends CLOSE for detach-a only
    await waitFor(() => !watcherA.awareness.getStates().has(leaving.document.clientID), 'leaver\'s awareness removed')

    staying.document.getText('body').insert(0, 'still here')
    await waitFor(() => text(watcherB) === 'still here', 'the other document still syncs')
    await waitFor(() => staying.unsyncedChanges === 0, 'and is acknowledged')
    assert.ok(watcherB.awareness.getStates().has(staying.document.clientID), 'the stayer\'s awareness is untouched')

    // Reattaching the same document on the same socket works.
    leaving.attach()
    await waitFor(() => leaving.isAuthenticated && leaving.isSynced, 'reattached')
    leaving.document.getText('body').insert(0, 'back ')
    await waitFor(() => text(watcherA) === 'back ', 'reattached edits arrive')
  } finally {
    [leaving, staying, watcherA, watcherB].forEach(p => p.destroy())
    s1.destroy(); s2.destroy()
  }
})

test('closing the socket ends all its documents', async () => {
  const s1 = hocuspocusSocket(server.hocuspocusURL)
  const s2 = hocuspocusSocket(server.hocuspocusURL)
  const a = await attach(s1, 'close-a')
  const b = await attach(s1, 'close-b')
  const wa = await attach(s2, 'close-a')
  const wb = await attach(s2, 'close-b')
  try {
    a.setAwarenessField('user', { name: 'a' })
    b.setAwarenessField('user', { name: 'b' })
    await waitFor(() => wa.awareness.getStates().has(a.document.clientID) && wb.awareness.getStates().has(b.document.clientID), 'both seen')
    s1.destroy() // closes the WebSocket without detaching
    await waitFor(() => !wa.awareness.getStates().has(a.document.clientID) && !wb.awareness.getStates().has(b.document.clientID), 'both removed')
  } finally {
    [a, b, wa, wb].forEach(p => p.destroy())
    s2.destroy()
  }
})

test('session-aware providers attach one document twice on one socket', async () => {
  const socket = hocuspocusSocket(server.hocuspocusURL)
  const doc1 = new Y.Doc()
  const doc2 = new Y.Doc()
  const p1 = await attach(socket, 'twice', { doc: doc1, sessionAwareness: true })
  const p2 = await attach(socket, 'twice', { doc: doc2, sessionAwareness: true })
  try {
    assert.notEqual(p1.effectiveName, p2.effectiveName)
    doc1.getText('body').insert(0, 'one')
    await waitFor(() => doc2.getText('body').toString() === 'one', 'second session sees the first')
    doc2.getText('body').insert(3, ' two')
    await waitFor(() => doc1.getText('body').toString() === 'one two', 'and back')
    await waitFor(() => p1.unsyncedChanges === 0 && p2.unsyncedChanges === 0, 'acknowledged')
  } finally {
    p1.destroy(); p2.destroy(); socket.destroy()
  }
})

test('forceSync (a periodic step 1) settles unsyncedChanges back to 0 every time', async () => {
  const socket = hocuspocusSocket(server.hocuspocusURL)
  const p = await attach(socket, 'force-sync', { forceSyncInterval: 150 })
  try {
    const counts = []
    p.on('unsyncedChanges', ({ number }) => counts.push(number))
    p.document.getText('body').insert(0, 'x')
    await waitFor(() => counts.filter(n => n === 1).length >= 3, 'three forced syncs')
    await waitFor(() => p.unsyncedChanges === 0, 'settled after a forced sync')
    assert.ok(counts.lastIndexOf(0) > counts.indexOf(1), 'each forced sync is answered')
  } finally {
    p.destroy(); socket.destroy()
  }
})
