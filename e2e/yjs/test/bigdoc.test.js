// A newcomer to a document bigger than the session queue limit gets it on its first connection
// while others type: its sync reply is the one message allowed past the limit (sync/session.go).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { startServer } from '../../lib/server.mjs'
import { Client, connectClient, destroyAllClients, waitFor } from '../lib/client.js'

after(() => destroyAllClients())

const QUEUE_BYTES = 256 * 1024
const CHUNK = 64 * 1024

test('a newcomer loads a document bigger than the send queue while others type, on its first connection', async (t) => {
  const server = await startServer(t, { flags: { sessionQueueBytes: QUEUE_BYTES } })
  const docID = randomUUID()
  const a = await connectClient(server, docID, { name: 'a', user: { name: 'A' } })
  for (let i = 0; i < 16; i++) {
    a.text.insert(a.content.length, String(i % 10).repeat(CHUNK))
    await waitFor(() => a.seenContent.length === (i + 1) * CHUNK, { what: `chunk ${i} acknowledged` })
  }
  // Someone keeps typing and moving their caret, as in any live document.
  let typing = true
  const typist = (async () => {
    for (let n = 0; typing; n++) {
      a.text.insert(0, 'k')
      a.awareness.setLocalStateField('cursor', n)
      await new Promise(resolve => setTimeout(resolve, 2))
    }
  })()
  try {
    for (let k = 0; k < 5; k++) {
      const newcomer = new Client(server, docID, { name: `newcomer${k}` })
      await newcomer.synced(`newcomer ${k} to sync`, 15000)
      assert.deepEqual(newcomer.closes, [], `newcomer ${k} was cut off before it had the document`)
      assert.ok(newcomer.content.length >= 16 * CHUNK)
      newcomer.destroy()
    }
  } finally {
    typing = false
    await typist
  }
})
