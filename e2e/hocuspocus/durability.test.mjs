// SyncStatus means "on disk": once a provider's unsyncedChanges is back to 0, kill -9 loses
// nothing. The real provider against the real binary, killed without warning.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, hocuspocusSocket, attach, waitFor } from './harness.mjs'

test('unsyncedChanges returns to 0 only once edits are durable: kill -9 right after loses nothing', async () => {
  const server = await startServer()
  try {
    for (let round = 0; round < 3; round++) {
      const socket = hocuspocusSocket(server.hocuspocusURL)
      const docs = await Promise.all(['durable-a', 'durable-b'].map(n => attach(socket, n)))
      const expected = []
      for (const [i, p] of docs.entries()) {
        const body = p.document.getText('body')
        // Many small updates, as typing sends them, each acknowledged on its own.
        for (let k = 0; k < 100; k++) body.insert(body.length, `${round}.${i}.${k} `)
        expected.push(body.toString())
      }
      assert.ok(docs.every(p => p.unsyncedChanges > 0), 'edits are pending at first')
      await waitFor(() => docs.every(p => p.unsyncedChanges === 0), 'every update acknowledged')
      await server.kill9()
      socket.destroy()
      docs.forEach(p => p.destroy())

      await server.restart()
      const check = hocuspocusSocket(server.hocuspocusURL)
      const reread = await Promise.all(['durable-a', 'durable-b'].map(n => attach(check, n)))
      reread.forEach((p, i) => assert.equal(p.document.getText('body').toString(), expected[i], `document ${i} after kill -9, round ${round}`))
      reread.forEach(p => p.destroy())
      check.destroy()
    }
  } finally {
    await server.stop()
  }
})

test('a graceful restart closes the socket with 1012; providers reconnect, push offline edits and settle', async () => {
  const server = await startServer()
  try {
    const s1 = hocuspocusSocket(server.hocuspocusURL)
    const a = await attach(s1, 'restart-a')
    const b = await attach(s1, 'restart-b')
    a.document.getText('body').insert(0, 'before ')
    await waitFor(() => a.unsyncedChanges === 0, 'acknowledged before the restart')
    const disconnects = []
    s1.on('disconnect', ({ event }) => disconnects.push(event.code))
    await server.restart()
    await waitFor(() => disconnects.length > 0, 'socket closed by the restart')
    assert.equal(disconnects[0], 1012)
    // Edits made while the server was away (or before the provider noticed) go out on reconnect.
    a.document.getText('body').insert(a.document.getText('body').length, 'offline')
    b.document.getText('body').insert(0, 'b offline')
    await waitFor(() => a.isAuthenticated && b.isAuthenticated && a.unsyncedChanges === 0 && b.unsyncedChanges === 0, 'reconnected and settled', 30000)
    const s2 = hocuspocusSocket(server.hocuspocusURL)
    const check = await Promise.all(['restart-a', 'restart-b'].map(n => attach(s2, n)))
    assert.equal(check[0].document.getText('body').toString(), 'before offline')
    assert.equal(check[1].document.getText('body').toString(), 'b offline')
    ;[a, b, ...check].forEach(p => p.destroy())
    s1.destroy(); s2.destroy()
  } finally {
    await server.stop()
  }
})
