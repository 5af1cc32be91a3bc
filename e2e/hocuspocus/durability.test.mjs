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
