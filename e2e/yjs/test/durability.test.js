// What the server has acknowledged survives: a graceful restart, and a kill -9 mid-stream.
import { test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { startServer } from '../../lib/server.mjs'
import {
  Client, connectClient, destroyAllClients, rawSocket, waitFor, boundaries, tokens, rng, svGap, syncMessage,
  SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, MSG_SYNC, Y
} from '../lib/client.js'

afterEach(() => destroyAllClients())

test('content survives a graceful restart; connected clients come back by themselves', async (t) => {
  const server = await startServer(t)
  const docID = randomUUID()
  const a = await connectClient(server, docID, { name: 'a' })
  a.text.insert(0, 'Hello, cruel world')
  a.text.delete(7, 6) // deletions must survive too
  a.text.format(0, 5, { bold: true })
  a.doc.getMap('meta').set('title', 'Greeting')
  // The echo of an edit is the server's "saved".
  await waitFor(() => a.seenContent === 'Hello, world' && a.seen.getMap('meta').get('title') === 'Greeting', {
    what: 'the server to acknowledge a\'s edits'
  })
  const delta = a.text.toDelta()

  const exit = await server.stop()
  assert.deepEqual(exit, { code: 0, signal: null }, `graceful stop must exit 0:\n${server.log.slice(-10).join('\n')}`)
  // A session ended by a restart is told to come back (transient close code).
  await waitFor(() => a.closes.length > 0, { what: 'a to see its connection close' })
  const code = a.closes[0].code
  assert.ok(code === 1012 || code === 1013 || (code >= 4500 && code < 4600),
    `restart close code must be transient (1012, 1013, 45xx), got ${JSON.stringify(a.closes[0])}`)

  await server.start() // same port, same data directory
  const fresh = await connectClient(server, docID, { name: 'fresh' })
  assert.equal(fresh.content, 'Hello, world')
  assert.deepEqual(fresh.text.toDelta(), delta)
  assert.equal(fresh.doc.getMap('meta').get('title'), 'Greeting')
  assert.deepEqual(Y.encodeStateVector(fresh.doc), Y.encodeStateVector(a.doc))

  // a reconnected on its own (same URL) and keeps editing.
  await a.synced('a to reconnect after the restart', 10000)
  a.text.insert(12, '!')
  await waitFor(() => fresh.content === 'Hello, world!', { what: 'fresh to see a\'s edit after restart' })
})

test('updates that arrive before their dependencies wait for them, across a restart', async (t) => {
  const server = await startServer(t)
  const docID = randomUUID()
  const author = new Y.Doc()
  const updates = []
  author.on('update', (u) => updates.push(u))
  const text = author.getText('text')
  text.insert(0, 'one ')
  text.insert(4, 'two ')
  text.insert(8, 'three')
  text.delete(0, 4)
  const want = text.toString()

  const watcher = await connectClient(server, docID, { name: 'watcher' })
  const raw = await rawSocket(server.docURL(docID))
  // Everything but the first update: none of it can be integrated yet.
  for (const u of updates.slice(1).reverse()) raw.send(syncMessage(SYNC_UPDATE, u))
  raw.send(syncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))
  await waitFor(() => raw.messages.some(m => m.type === MSG_SYNC && m.syncType === SYNC_STEP2), { what: 'the raw client\'s sync reply' })
  assert.equal(raw.readyState, raw.OPEN, 'updates with missing dependencies are not malformed')
  assert.equal(watcher.content, '', 'nothing is visible before the first update arrives')
  raw.close()

  await server.restart()
  // The missing first update arrives after the restart: the rest must have been kept.
  const late = await rawSocket(server.docURL(docID))
  late.send(syncMessage(SYNC_UPDATE, updates[0]))
  const fresh = await connectClient(server, docID, { name: 'fresh' })
  await waitFor(() => fresh.content === want, { what: `fresh to see ${JSON.stringify(want)}`, describe: () => JSON.stringify(fresh.content) })
  late.close()
  await waitFor(() => watcher.provider.synced && watcher.content === want, { what: 'the watcher to reconnect and see it all' })
})

test('a room unloaded when idle reloads with everything, however close a client comes to the unload', async (t) => {
  // Rooms unload at the first tick (every second) with no session: clients come and go every few
  // tens of milliseconds, so some arrive just as their room is being flushed and stopped.
  const server = await startServer(t, { flags: { idleTimeout: '1ms', '--log-level': 'debug' } })
  const docID = randomUUID()
  const written = []
  let lastLeave = 0 // server log length when the last visitor left
  const started = Date.now()
  for (let n = 0; Date.now() - started < 2500; n++) {
    const c = new Client(server, docID, { name: `visitor${n}` })
    await c.synced(`visitor ${n} to sync`)
    const missing = written.filter(tok => !c.content.includes(tok))
    assert.deepEqual(missing, [], `visitor ${n} found the document without earlier visitors' edits`)
    const tok = `[v${n}]`
    c.text.insert(c.content.length, tok)
    written.push(tok)
    await waitFor(() => c.seenContent.includes(tok), { what: `${tok} to be acknowledged` })
    c.destroy()
    lastLeave = server.log.length
    await new Promise(resolve => setTimeout(resolve, (n * 37) % 100)) // gaps of 0-99 ms
  }
  const unloads = (lines) => lines.filter(line => /unload/i.test(line)).length
  t.diagnostic(`${written.length} visits, ${unloads(server.log)} unloads`)
  // At least one unload for sure, after the last visitor left (perhaps already during the last
  // pause): nobody comes until the room has gone. Rooms are checked every second.
  await waitFor(() => unloads(server.log.slice(lastLeave)) > 0, {
    what: 'the idle room to unload (debug log "…unloading")',
    timeout: 10000,
    describe: () => `server log tail:\n${server.log.slice(-15).join('\n')}`
  })
  const back = await connectClient(server, docID, { name: 'back' })
  assert.deepEqual(tokens(back.content), written)
  back.destroy()
  await server.restart()
  const last = await connectClient(server, docID, { name: 'last' })
  assert.deepEqual(tokens(last.content), written)
})

test('kill -9 mid-stream loses nothing any client had received from the server', async (t) => {
  // Frequent snapshots, so crashes land before, during and after compactions.
  const server = await startServer(t, { flags: { compactUpdates: 100 } })
  // Two documents, two writers each: commits to storage are shared between rooms, and each
  // room's acknowledgements must wait for its own updates only.
  const docs = [randomUUID(), randomUUID()]
  const writers = []
  for (let i = 0; i < 4; i++) writers.push(await connectClient(server, docs[i % 2], { name: `w${i}` }))
  const typed = new Map(docs.map(d => [d, new Set()])) // docID -> tokens typed into it
  const randoms = writers.map((_w, i) => rng(100 + i))
  let serial = 0

  const snapshot = (c) => ({ name: c.name, docID: c.docID, tokens: tokens(c.seenContent), sv: Y.decodeStateVector(Y.encodeStateVector(c.seen)) })
  let joiners = [] // what each newcomer of the round was sent (sync step 2 replies, then updates)
  let joined = 0
  let crashOnJoin = false

  // Each writer inserts unique tokens at token boundaries as fast as its event loop lets it, so
  // that every edit can be recognised in any replica; meanwhile newcomers keep joining, so sync
  // replies are in flight too. Returns a function that stops the stream.
  function stream () {
    let running = true
    const loops = writers.map(async (w, i) => {
      while (running) {
        const b = boundaries(w.content)
        const token = `[w${i}.${serial++}]`
        w.text.insert(b[Math.floor(randoms[i]() * b.length)], token)
        typed.get(w.docID).add(token)
        await new Promise(resolve => setTimeout(resolve, 1))
      }
    })
    loops.push((async () => {
      while (running) {
        const j = new Client(server, docs[joined % 2], { name: `joiner${joined++}` })
        // The crash comes the instant a newcomer has its sync reply: that reply must hold only
        // what is already on disk.
        j.provider.on('sync', (synced) => { if (synced && crashOnJoin) { crashOnJoin = false; server.proc?.kill('SIGKILL') } })
        await waitFor(() => j.provider.synced || !running, { what: `${j.name} to sync`, timeout: 5000 }).catch(() => {})
        joiners.push(j)
        j.provider.disconnect() // keep what it was sent; destroyed after the check
      }
    })())
    return async () => { running = false; await Promise.all(loops) }
  }

  // Several crash rounds: the window between "forwarded" and "durable" is short, so each round
  // is another chance to catch a server that acknowledges before it has written. One round is a
  // graceful stop in mid-stream instead: the same must hold, and the exit must be clean.
  const endings = ['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGKILL']
  for (let round = 1; round <= endings.length; round++) {
    const before = Math.min(...writers.map(w => tokens(w.seenContent).length))
    const stop = stream()
    try {
      await waitFor(() => writers.every(w => tokens(w.seenContent).length >= before + 200), {
        what: `round ${round}: every writer to get 200 more acknowledged tokens`,
        timeout: 15000,
        describe: () => writers.map(w => `${w.name}: ${tokens(w.seenContent).length} acknowledged, synced=${w.provider.synced}, closes=${JSON.stringify(w.closes)}`).join('; ')
      })
      if (endings[round - 1] === 'SIGKILL') {
        const proc = server.proc
        crashOnJoin = true
        let timer
        const exited = await Promise.race([proc.exited, new Promise(resolve => { timer = setTimeout(resolve, 5000, null) })])
        clearTimeout(timer)
        crashOnJoin = false
        assert.ok(exited, 'no newcomer synced within 5 s')
        assert.equal(exited.signal, 'SIGKILL')
      } else {
        const exit = await server.stop()
        assert.deepEqual(exit, { code: 0, signal: null }, `graceful stop in mid-stream must exit 0:\n${server.log.slice(-10).join('\n')}`)
      }
    } finally {
      await stop()
    }
    // Freeze what each writer had been told: keep them offline until the check is done.
    for (const w of writers) w.provider.disconnect()
    const observed = [...writers, ...joiners].map(snapshot)
    for (const j of joiners) j.destroy()
    const joinedThisRound = joiners.length
    joiners = []
    const typedCount = docs.reduce((n, d) => n + typed.get(d).size, 0)
    const acked = new Set(observed.flatMap(o => o.tokens))
    t.diagnostic(`round ${round} (${endings[round - 1]}): typed ${typedCount} tokens, ${acked.size} acknowledged to someone, ${typedCount - acked.size} in flight at the crash; ${joinedThisRound} newcomers joined`)

    await server.start()
    for (const docID of docs) {
      const reloaded = await connectClient(server, docID, { name: `reloaded${round}` })
      const have = new Set(tokens(reloaded.content))
      const haveSV = Y.decodeStateVector(Y.encodeStateVector(reloaded.doc))
      for (const o of observed.filter(o => o.docID === docID)) {
        const missing = o.tokens.filter(tok => !have.has(tok))
        assert.deepEqual(missing, [], `round ${round}: ${o.name} had seen ${missing.length} tokens from the server that the reloaded document lacks`)
        const gap = svGap(o.sv, haveSV)
        assert.equal(gap, null, `round ${round}: ${o.name} had seen structs the reloaded document lacks: ${JSON.stringify(gap)}`)
      }
      // Tokens are whole in the reloaded text: a consistent document, not a torn one.
      assert.equal([...have].join('').length, reloaded.content.length, 'reloaded text has characters outside whole tokens')

      // The writers come back and push what never reached the disk: nothing typed is lost.
      const mine = writers.filter(w => w.docID === docID)
      for (const w of mine) w.provider.connect()
      const sv = (doc) => Y.encodeStateVector(doc).join()
      await waitFor(() => mine.every(w => w.provider.synced && w.content === reloaded.content && sv(w.doc) === sv(reloaded.doc)) &&
        tokens(reloaded.content).length === typed.get(docID).size, {
        what: `round ${round}: writers and the reloaded client to converge on every typed token`, timeout: 10000,
        describe: () => `reloaded has ${tokens(reloaded.content).length} of ${typed.get(docID).size}`
      })
      // An edit saved just before the crash whose echo was cut off is never echoed again (the
      // writer already has it), which leaves a gap in its `seen`. The reloaded client holds only
      // what the server sent, and now all of it: merge it in so later echoes can integrate.
      for (const w of mine) Y.applyUpdate(w.seen, Y.encodeStateAsUpdate(reloaded.seen))
      reloaded.destroy()
    }
  }
})
