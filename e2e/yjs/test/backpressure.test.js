// One client that stops reading does not slow the others; it is cut off with a transient code and
// catches up by resync, losing nothing.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { startServer } from '../../lib/server.mjs'
import { connectClient, destroyAllClients, waitFor, Y } from '../lib/client.js'

after(() => destroyAllClients())

const QUEUE_BYTES = 256 * 1024
const CHUNK = 32 * 1024

test('a slow consumer is disconnected with 45xx while the others keep editing, then resyncs', async (t) => {
  const server = await startServer(t, { flags: { sessionQueueBytes: QUEUE_BYTES } })
  const docID = randomUUID()
  const a = await connectClient(server, docID, { name: 'a', user: { name: 'A' } })
  const b = await connectClient(server, docID, { name: 'b', user: { name: 'B' } })
  const slow = await connectClient(server, docID, { name: 'slow', user: { name: 'Slow' } })
  a.text.insert(0, '[base]')
  await waitFor(() => slow.content === '[base]' && b.content === '[base]', { what: 'everyone to see [base]' })
  await waitFor(() => a.awareness.getStates().has(slow.clientID), { what: 'a to see the slow client\'s presence' })

  // The slow client stops reading from its socket; it can still send.
  const slowSocket = slow.ws
  slowSocket._socket.pause()
  slow.text.insert(slow.content.length, '[sent-while-stalled]')

  // a floods the room with big edits (inserted, then deleted, so the document stays small) while
  // b types small tokens; a must see each of b's tokens promptly although the slow client's
  // queue is full. The flood ends when the server drops the slow client (its presence vanishes).
  const arrivals = new Map() // token -> ms from insert at b to arrival at a
  const sentAt = new Map()
  a.text.observe(() => {
    for (const [tok, t0] of sentAt) {
      if (!arrivals.has(tok) && a.content.includes(tok)) arrivals.set(tok, Date.now() - t0)
    }
  })
  let flooded = 0
  let n = 0
  const filler = 'x'.repeat(CHUNK)
  while (a.awareness.getStates().has(slow.clientID)) {
    if (flooded > 64 * 1024 * 1024) assert.fail(`the slow client was still connected after ${flooded} bytes of traffic`)
    a.doc.transact(() => a.text.insert(0, filler))
    a.doc.transact(() => a.text.delete(0, CHUNK))
    flooded += 2 * CHUNK
    if (n % 8 === 0) {
      const tok = `[b${n}]`
      sentAt.set(tok, Date.now())
      b.text.insert(b.content.length, tok)
    }
    n++
    await new Promise(resolve => setTimeout(resolve, 1))
  }
  t.diagnostic(`slow client dropped after ~${(flooded / 1048576).toFixed(1)} MiB of edits`)
  await waitFor(() => [...sentAt.keys()].every(tok => arrivals.has(tok)), { what: 'every token of b to reach a' })
  const worst = Math.max(...arrivals.values())
  t.diagnostic(`${arrivals.size} tokens b→a during the stall; worst latency ${worst} ms`)
  assert.ok(worst < 2000, `b→a latency reached ${worst} ms while a client was stalled: the room waited for it`)
  // The slow client's own edit went through while it was not reading.
  await waitFor(() => a.content.includes('[sent-while-stalled]'), { what: 'the stalled client\'s edit to reach a' })

  // It reads again: it finds a transient close code and its provider reconnects by itself.
  slowSocket._socket.resume()
  await waitFor(() => slow.closes.length > 0, { what: 'the slow client to see its close', timeout: 10000 })
  const { code, reason } = slow.closes[0]
  assert.ok(code >= 4500 && code < 4600, `close must be transient 45xx, got ${code} ${JSON.stringify(reason)}`)
  t.diagnostic(`slow client closed with ${code} "${reason}"`)

  b.text.insert(b.content.length, '[after]')
  await waitFor(() => slow.provider.synced && slow.content === a.content && b.content === a.content && a.content.includes('[after]'), {
    what: 'the slow client to resync', timeout: 10000,
    describe: () => `slow=${slow.content.length} chars, a=${a.content.length} chars`
  })
  assert.deepEqual(Y.encodeStateVector(slow.doc), Y.encodeStateVector(a.doc))
  assert.deepEqual(Y.encodeStateVector(b.doc), Y.encodeStateVector(a.doc))
  for (const tok of ['[base]', '[sent-while-stalled]', '[after]', ...sentAt.keys()]) {
    assert.ok(slow.content.includes(tok), `slow lacks ${tok}`)
  }
})
