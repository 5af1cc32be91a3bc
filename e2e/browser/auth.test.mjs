// A server that requires authentication (--admin-key): the API key prompt, share links
// with editor and viewer tokens, and a bad link.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { personContext, screenshot, serverAndBrowser, watchConsole } from './harness.mjs'
import { ALICE, BOB, blockTexts, focusEnd, waitForText, waitSaved } from './pages.mjs'

const ADMIN_KEY = 'e2e-admin-key-' + Math.random().toString(36).slice(2)
// The list's first request is refused (401) before the key is entered, and the bad link's
// REST request is refused too: both are what the test provokes.
const ALLOWED_401 = [/status of 401 /]

const env = serverAndBrowser({ flags: { '--admin-key': ADMIN_KEY } })

async function shareLink (page, button) {
  await page.getByRole('button', { name: 'Share' }).click()
  const dialog = page.getByRole('dialog', { name: 'Share this document' })
  await dialog.getByRole('button', { name: button }).click()
  const field = dialog.getByLabel('Link to share')
  await page.waitForFunction(() => document.querySelector('.share-link').value !== '')
  const link = await field.inputValue()
  await dialog.getByRole('button', { name: 'Done' }).click()
  return link
}

test('API key prompt, editor and view-only share links, and a bad link', async () => {
  const ctxA = await personContext(env.launcher, ALICE)
  const a = await ctxA.newPage()
  const problemsA = watchConsole(a, ALLOWED_401)
  await a.goto(`${env.server.baseURL}/`)

  // The list needs the key; a wrong one is refused, the right one is remembered.
  const prompt = a.getByRole('dialog', { name: 'API key needed' })
  await prompt.getByLabel('API key').fill('wrong-key')
  await prompt.getByRole('button', { name: 'Continue' }).click()
  await prompt.getByLabel('API key').fill(ADMIN_KEY)
  await prompt.getByRole('button', { name: 'Continue' }).click()
  await a.getByRole('heading', { name: 'No documents yet' }).waitFor()
  await a.reload()
  await a.getByRole('heading', { name: 'No documents yet' }).waitFor()
  assert.equal(await a.getByRole('dialog').count(), 0)

  await a.getByRole('button', { name: 'New document' }).click()
  await a.waitForURL(/\/d\/[0-9a-f-]{36}$/)
  await waitSaved(a)
  await focusEnd(a)
  await a.keyboard.type('Owned by Alice.')
  await waitSaved(a)

  const viewerLink = await shareLink(a, 'Copy view-only link')
  const editorLink = await shareLink(a, 'Copy editor link')
  assert.match(viewerLink, /[?&]token=/)
  assert.match(editorLink, /[?&]token=/)
  assert.notEqual(new URL(viewerLink).searchParams.get('token'), new URL(editorLink).searchParams.get('token'))

  // An editor link lets Bob (no API key) edit.
  const ctxB = await personContext(env.launcher, BOB)
  const b = await ctxB.newPage()
  const problemsB = watchConsole(b)
  await b.goto(editorLink)
  await waitSaved(b)
  await waitForText(b, 'Owned by Alice.')
  await focusEnd(b)
  await b.keyboard.press('Enter')
  await b.keyboard.type('Bob edits with a link.')
  await waitForText(a, 'Bob edits with a link.')
  await waitSaved(b)

  // A view-only link: Carol reads along but cannot change anything.
  const ctxC = await personContext(env.launcher, { name: 'Carol Diaz', color: '#7b3fe4' })
  const c = await ctxC.newPage()
  const problemsC = watchConsole(c)
  await c.goto(viewerLink)
  await waitSaved(c)
  await c.getByText('View only').waitFor()
  await waitForText(c, 'Bob edits with a link.')
  await c.locator('.prose p').first().click()
  await c.keyboard.type('Carol tries')
  assert.deepEqual(await blockTexts(c), ['Owned by Alice.', 'Bob edits with a link.'])
  await focusEnd(a)
  await a.keyboard.type(' Still Alice.')
  await waitForText(c, 'Bob edits with a link. Still Alice.')
  await c.locator('.canvas').evaluate(el => el.scrollTo(0, 0))
  await screenshot(c, 'auth', '01-viewer')
  // A viewer cannot mint links but can pass on the one they have.
  await c.getByRole('button', { name: 'Share' }).click()
  const share = c.getByRole('dialog', { name: 'Share this document' })
  assert.equal(await share.getByRole('button', { name: 'Copy view-only link' }).count(), 0)
  await share.getByRole('button', { name: 'Copy this link' }).click()
  assert.equal(await share.getByLabel('Link to share').inputValue(), viewerLink)
  await share.getByRole('button', { name: 'Done' }).click()

  // A made-up token: the server closes the connection for good and the page says why.
  const ctxD = await personContext(env.launcher, { name: 'Dan', color: '#188038' })
  const d = await ctxD.newPage()
  const problemsD = watchConsole(d, ALLOWED_401)
  const url = new URL(editorLink)
  url.searchParams.set('token', 'not-a-real-token')
  await d.goto(url.toString())
  await d.getByText('The link or key used to open this document is not valid.').waitFor()
  await d.locator('.sync-status[data-state="closed"]').waitFor()
  assert.equal(await d.locator('.prose').getAttribute('contenteditable'), 'false')
  await screenshot(d, 'auth', '02-bad-link')

  assert.deepEqual(problemsA, [])
  assert.deepEqual(problemsB, [])
  assert.deepEqual(problemsC, [])
  assert.deepEqual(problemsD, [])
  await Promise.all([ctxA.close(), ctxB.close(), ctxC.close(), ctxD.close()])
})

test('a bare viewer link (the REST share url, ?token= only) opens read-only from the start', async () => {
  const rest = async (method, path, body) => {
    const res = await fetch(`${env.server.baseURL}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body)
    })
    const text = await res.text()
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`)
    return JSON.parse(text)
  }
  const doc = await rest('POST', '/docs', { title: 'Board minutes', content: 'Approved by the board.', format: 'markdown' })
  const viewer = await rest('POST', `/docs/${doc.id}/shares`, { role: 'viewer' })
  const editor = await rest('POST', `/docs/${doc.id}/shares`, { role: 'editor' })
  // Exactly the link the API hands out: no role=viewer next to the token.
  assert.equal(viewer.url, `/d/${doc.id}?token=${viewer.token}`)

  const ctxV = await personContext(env.launcher, BOB)
  const v = await ctxV.newPage()
  const problemsV = watchConsole(v)
  // Record whether the page ever lets this viewer type, from the first render on.
  await v.addInitScript(() => {
    window.__everEditable = false
    new MutationObserver(() => {
      if (document.querySelector('.prose[contenteditable="true"]')) window.__everEditable = true
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['contenteditable'] })
  })
  await v.goto(`${env.server.baseURL}${viewer.url}`)
  await waitSaved(v)
  await waitForText(v, 'Approved by the board.')
  await v.getByText('View only').waitFor()
  await v.locator('.editor-page[data-role="viewer"]').waitFor()
  assert.equal(await v.locator('.prose').getAttribute('contenteditable'), 'false')
  assert.equal(await v.getByRole('toolbar', { name: 'Formatting' }).isVisible(), false)
  assert.equal(await v.getByLabel('Document title').getAttribute('readonly'), '')
  await v.locator('.prose p').first().click()
  await v.keyboard.type('Bob tries to write')
  assert.deepEqual(await blockTexts(v), ['Approved by the board.'])
  assert.equal(await v.evaluate(() => window.__everEditable), false)
  await screenshot(v, 'auth', '03-bare-viewer-link')

  // The editor link from the API edits, without any role in the URL either.
  const ctxE = await personContext(env.launcher, ALICE)
  const e = await ctxE.newPage()
  const problemsE = watchConsole(e)
  await e.goto(`${env.server.baseURL}${editor.url}`)
  await waitSaved(e)
  await e.locator('.editor-page[data-role="editor"]').waitFor()
  assert.equal(await e.getByText('View only').isVisible(), false)
  await focusEnd(e)
  await e.keyboard.type(' Signed.')
  await waitForText(v, 'Approved by the board. Signed.')
  await waitSaved(e)
  const text = await (await fetch(`${env.server.baseURL}/api/v1/docs/${doc.id}/content?format=text`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } })).text()
  assert.equal(text.trim(), 'Approved by the board. Signed.')

  assert.deepEqual(problemsV, [])
  assert.deepEqual(problemsE, [])
  await Promise.all([ctxV.close(), ctxE.close()])
})
