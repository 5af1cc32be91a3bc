// Two people edit one document in two isolated browser contexts against the real server.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { personContext, screenshot, serverAndBrowser, watchConsole } from './harness.mjs'
import { ALICE, BOB, bodyHTML, focusEnd, newDocId, openEditor, blockTexts, tool, waitForNoText, waitForText, waitSaved } from './pages.mjs'


const env = serverAndBrowser()

test('first visit asks for a name and colour, then remembers them', async () => {
  const context = await personContext(env.launcher, null)
  const page = await context.newPage()
  const problems = watchConsole(page)
  await page.goto(`${env.server.baseURL}/d/${newDocId()}`)
  const dialog = page.getByRole('dialog', { name: 'Welcome to Quire' })
  await dialog.waitFor()
  // An empty name is refused with a message.
  await dialog.getByLabel('Your name').fill('')
  await dialog.getByRole('button', { name: 'Continue' }).click()
  await dialog.getByText('Please enter a name.').waitFor()
  await dialog.getByLabel('Your name').fill('Grace Hopper')
  await dialog.getByRole('radio', { name: 'Green' }).click()
  await screenshot(page, 'collab', '00-welcome-dialog')
  await dialog.getByRole('button', { name: 'Continue' }).click()
  await waitSaved(page)
  const avatar = page.getByRole('button', { name: 'Grace Hopper (you), change name or colour' })
  assert.equal(await avatar.locator('[aria-hidden="true"]').textContent(), 'GH')
  assert.equal(await avatar.evaluate(el => getComputedStyle(el).backgroundColor), 'rgb(24, 128, 56)')
  // Remembered: a reload does not ask again.
  await page.reload()
  await waitSaved(page)
  assert.equal(await page.getByRole('dialog').count(), 0)
  assert.deepEqual(problems, [])
  await context.close()
})

test('two editors: live text, carets, formatting, collaborative undo, reload', async () => {
  const docId = newDocId()
  const ctxA = await personContext(env.launcher, ALICE)
  const ctxB = await personContext(env.launcher, BOB)
  const a = await openEditor(ctxA, env.server.baseURL, docId)
  const b = await openEditor(ctxB, env.server.baseURL, docId)
  const problemsA = watchConsole(a)
  const problemsB = watchConsole(b)

  // Both see each other in the avatar list.
  await a.getByRole('listitem', { name: BOB.name }).waitFor()
  await b.getByRole('listitem', { name: ALICE.name }).waitFor()

  // Bob writes first, in his own paragraph.
  await focusEnd(b)
  await b.keyboard.type('Bob was here.')
  const toA = await waitForText(a, 'Bob was here.')
  console.log(`# Bob's text reached Alice in ${toA} ms`)

  // Alice adds a heading, a bold word and a list after it.
  await focusEnd(a)
  await a.keyboard.press('Enter')
  await a.getByRole('combobox', { name: 'Text style' }).selectOption('h1')
  await a.keyboard.type('Meeting notes')
  await a.keyboard.press('Enter')
  await a.keyboard.type('This is ')
  await tool(a, 'Bold')
  await a.keyboard.type('important')
  await tool(a, 'Bold')
  await a.keyboard.type(' news.')
  await a.keyboard.press('Enter')
  await tool(a, 'Bulleted list')
  await a.keyboard.type('first point')
  await a.keyboard.press('Enter')
  await a.keyboard.type('second point')
  const toB = await waitForText(b, 'second point')
  console.log(`# Alice's text reached Bob in ${toB} ms`)

  for (const page of [a, b]) {
    const prose = page.locator('.prose')
    await prose.locator('h1', { hasText: 'Meeting notes' }).waitFor()
    await prose.locator('p strong', { hasText: 'important' }).waitFor()
    assert.deepEqual(await blockTexts(page, '.prose ul > li'), ['first point', 'second point'])
    assert.equal(await prose.locator('p', { hasText: 'Bob was here.' }).count(), 1)
  }
  // Toolbar reflects where Alice's caret is.
  assert.equal(await a.getByRole('button', { name: 'Bulleted list', exact: true }).getAttribute('aria-pressed'), 'true')

  // Each sees the other's caret labelled with their name, in their colour.
  const aliceCaretInB = b.locator('.collab-caret-label', { hasText: ALICE.name })
  await aliceCaretInB.waitFor()
  assert.equal(await aliceCaretInB.evaluate(el => getComputedStyle(el).backgroundColor), 'rgb(217, 48, 37)')
  await b.locator('.prose').click({ position: { x: 5, y: 5 } }) // Bob's caret moves to his paragraph
  await a.locator('.collab-caret-label', { hasText: BOB.name }).waitFor()

  // Bob selects his sentence: the others see the selection in his colour.
  await b.keyboard.press('End')
  await b.keyboard.press('Shift+Home')
  const bobSelection = a.locator('.ProseMirror-yjs-selection')
  await bobSelection.first().waitFor()
  assert.equal(await bobSelection.first().textContent(), 'Bob was here.')
  assert.match(await bobSelection.first().evaluate(el => getComputedStyle(el).backgroundColor), /^rgba\(26, 115, 232, /)

  await waitSaved(a)
  await waitSaved(b)
  await screenshot(b, 'collab', '01-bob-sees-alice-caret')
  await screenshot(a, 'collab', '02-alice-sees-bob-selection')

  // A third person sees both carets, each with its name.
  const ctxC = await personContext(env.launcher, { name: 'Carol Diaz', color: '#7b3fe4' })
  const c = await openEditor(ctxC, env.server.baseURL, docId)
  await c.locator('.collab-caret-label', { hasText: ALICE.name }).waitFor()
  await c.locator('.collab-caret-label', { hasText: BOB.name }).waitFor()
  await c.getByRole('listitem', { name: ALICE.name }).waitFor()
  await c.getByRole('listitem', { name: BOB.name }).waitFor()
  await screenshot(c, 'collab', '03-carol-sees-both-carets')
  await ctxC.close()

  // Undo in A removes only Alice's changes; Bob's paragraph stays on both screens.
  const undo = a.getByRole('button', { name: 'Undo', exact: true })
  for (let i = 0; i < 50 && await undo.isEnabled(); i++) await undo.click()
  assert.equal(await undo.isEnabled(), false, 'Alice has nothing left to undo')
  for (const page of [a, b]) {
    await waitForNoText(page, 'Meeting notes')
    await waitForNoText(page, 'second point')
    assert.deepEqual(await blockTexts(page), ['Bob was here.'])
  }
  await screenshot(b, 'collab', '04-after-alice-undo')
  // Redo brings Alice's work back everywhere.
  const redo = a.getByRole('button', { name: 'Redo', exact: true })
  for (let i = 0; i < 50 && await redo.isEnabled(); i++) await redo.click()
  for (const page of [a, b]) {
    await waitForText(page, 'second point')
    await page.locator('.prose h1', { hasText: 'Meeting notes' }).waitFor()
  }

  // Reload both: the server kept everything.
  await waitSaved(a)
  await waitSaved(b)
  const before = await bodyHTML(a)
  assert.equal(await bodyHTML(b), before)
  assert.match(before, /<h1>Meeting notes<\/h1>/)
  assert.match(before, /<strong>important<\/strong>/)
  await Promise.all([a.reload(), b.reload()])
  await waitSaved(a)
  await waitSaved(b)
  await waitForText(a, 'second point')
  await waitForText(b, 'second point')
  assert.equal(await bodyHTML(a), before)
  assert.equal(await bodyHTML(b), before)

  assert.deepEqual(problemsA, [])
  assert.deepEqual(problemsB, [])
  await ctxA.close()
  await ctxB.close()
})
