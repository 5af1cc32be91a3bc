// One editor loses its network, keeps typing, comes back: both converge, nothing is lost.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { personContext, screenshot, serverAndBrowser, watchConsole } from './harness.mjs'
import { ALICE, BOB, bodyHTML, blockTexts, focusEnd, newDocId, openEditor, waitForText, waitSaved } from './pages.mjs'

// Provoked on purpose: the socket while offline or while the server is down.
const ALLOWED = [/ERR_INTERNET_DISCONNECTED/, /WebSocket connection to .* failed/]

const env = serverAndBrowser()

test('offline edits are kept, sent on reconnect, and both editors converge', async () => {
  const docId = newDocId()
  const ctxA = await personContext(env.launcher, ALICE)
  const ctxB = await personContext(env.launcher, BOB)
  const a = await openEditor(ctxA, env.server.baseURL, docId)
  const b = await openEditor(ctxB, env.server.baseURL, docId)
  const problemsA = watchConsole(a, ALLOWED)
  const problemsB = watchConsole(b, ALLOWED)

  await focusEnd(a)
  await a.keyboard.type('Shared start.')
  await waitForText(b, 'Shared start.')
  await waitSaved(a)

  // Alice goes offline and keeps writing.
  await ctxA.setOffline(true)
  await a.locator('.sync-status[data-state="reconnecting"], .sync-status[data-state="offline"]').waitFor()
  await focusEnd(a)
  await a.keyboard.press('Enter')
  await a.keyboard.type('Written offline by Alice.')
  await a.locator('.sync-status[data-state="offline"]').waitFor()
  await a.getByText('Offline — edits pending').waitFor()
  await screenshot(a, 'offline', '01-alice-offline-with-pending-edits')

  // Meanwhile Bob edits online.
  await focusEnd(b)
  await b.keyboard.press('Enter')
  await b.keyboard.type('Written online by Bob.')
  await waitSaved(b)
  // Bob cannot have Alice's offline text: it has not left her browser.
  assert.ok(!(await blockTexts(b)).includes('Written offline by Alice.'))

  // Back online: Alice's edits go out, Bob's come in.
  await ctxA.setOffline(false)
  await waitForText(b, 'Written offline by Alice.', 20000)
  await waitForText(a, 'Written online by Bob.', 20000)
  await waitSaved(a, 20000)
  await waitSaved(b)
  const html = await bodyHTML(a)
  assert.equal(await bodyHTML(b), html)
  const blocks = await blockTexts(a)
  assert.equal(blocks[0], 'Shared start.')
  assert.deepEqual([...blocks].sort(), ['Shared start.', 'Written offline by Alice.', 'Written online by Bob.'])
  await screenshot(b, 'offline', '02-converged')

  // And the server stored the merge: a fresh visitor sees the same document.
  const ctxC = await personContext(env.launcher, { name: 'Carol', color: '#188038' })
  const c = await openEditor(ctxC, env.server.baseURL, docId)
  await waitForText(c, 'Written offline by Alice.')
  assert.equal(await bodyHTML(c), html)

  assert.deepEqual(problemsA, [])
  assert.deepEqual(problemsB, [])
  await Promise.all([ctxA.close(), ctxB.close(), ctxC.close()])
})

test('while the server restarts, edits wait in the tab and are saved once it is back', async () => {
  const docId = newDocId()
  const ctx = await personContext(env.launcher, ALICE)
  const page = await openEditor(ctx, env.server.baseURL, docId)
  const problems = watchConsole(page, ALLOWED.concat([/ERR_CONNECTION_REFUSED/]))
  await focusEnd(page)
  await page.keyboard.type('Before the restart.')
  await waitSaved(page)

  const restarting = env.server.restart()
  await page.locator('.sync-status[data-state="reconnecting"], .sync-status[data-state="connecting"]').waitFor({ timeout: 20000 })
  await page.keyboard.press('Enter')
  await page.keyboard.type('Typed while the server was away.')
  await restarting
  // The provider reconnects by itself (backoff), sends the pending edits, and the server
  // confirms them: only then does the tab say saved.
  await waitSaved(page, 30000)
  await screenshot(page, 'offline', '03-saved-after-server-restart')

  const ctx2 = await personContext(env.launcher, BOB)
  const fresh = await openEditor(ctx2, env.server.baseURL, docId)
  await waitForText(fresh, 'Typed while the server was away.')
  assert.deepEqual(await blockTexts(fresh), ['Before the restart.', 'Typed while the server was away.'])
  assert.deepEqual(problems, [])
  await Promise.all([ctx.close(), ctx2.close()])
})
