// Accessibility: axe-core (the engine behind Lighthouse's accessibility audit) finds no
// violations on any page, with collaborators present and with dialogs open.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { personContext, serverAndBrowser } from './harness.mjs'
import { ALICE, BOB, focusEnd, newDocId, openEditor, waitForText } from './pages.mjs'

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

const env = serverAndBrowser()

async function violations (page) {
  await page.addScriptTag({ path: axePath })
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }))
  return result.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)
}

// The app's Content-Security-Policy forbids injected scripts, axe's included.
const options = { bypassCSP: true }

test('no accessibility violations on the list, the editor, the demo and the dialogs', async () => {
  const fresh = await personContext(env.launcher, null, options)
  const welcome = await fresh.newPage()
  await welcome.goto(`${env.server.baseURL}/d/${newDocId()}`)
  await welcome.getByRole('dialog', { name: 'Welcome to Quire' }).waitFor()
  assert.deepEqual(await violations(welcome), [], 'welcome dialog')
  await fresh.close()

  const ctxA = await personContext(env.launcher, ALICE, options)
  const ctxB = await personContext(env.launcher, BOB, options)

  const list = await ctxA.newPage()
  await list.goto(`${env.server.baseURL}/`)
  await list.getByRole('heading', { name: 'Documents', exact: true }).waitFor()
  await list.waitForLoadState('networkidle')
  assert.deepEqual(await violations(list), [], 'document list')

  const docId = newDocId()
  const a = await openEditor(ctxA, env.server.baseURL, docId)
  const b = await openEditor(ctxB, env.server.baseURL, docId)
  await focusEnd(b)
  await b.keyboard.type('Accessible text')
  await waitForText(a, 'Accessible text')
  await a.locator('.collab-caret-label', { hasText: BOB.name }).waitFor()
  assert.deepEqual(await violations(a), [], 'editor with a collaborator')
  await a.getByRole('button', { name: 'Share' }).click()
  await a.getByRole('dialog', { name: 'Share this document' }).waitFor()
  assert.deepEqual(await violations(a), [], 'share dialog')

  const demo = await ctxB.newPage()
  await demo.goto(`${env.server.baseURL}/demo/cursors`)
  await demo.getByRole('button', { name: 'Add note' }).click()
  await demo.locator('.note').first().waitFor()
  assert.deepEqual(await violations(demo), [], 'cursors demo')

  await ctxA.close()
  await ctxB.close()
})
