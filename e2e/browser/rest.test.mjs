// Pages that need the REST API (/api/v1): the document list, live titles, view-only links,
// Markdown import.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { personContext, screenshot, serverAndBrowser, watchConsole } from './harness.mjs'
import { ALICE, BOB, blockTexts, focusEnd, newDocId, openEditor, waitForText, waitSaved } from './pages.mjs'

const env = serverAndBrowser()

async function openList (context) {
  const page = await context.newPage()
  await page.goto(`${env.server.baseURL}/`)
  return page
}

function row (page, title) {
  return page.locator('.doc-row', { has: page.locator('.doc-title', { hasText: new RegExp(`^${title}$`) }) })
}

test('document list: empty state, create, live title, search, rename, delete', async () => {
  const ctxA = await personContext(env.launcher, ALICE)
  const ctxB = await personContext(env.launcher, BOB)
  const list = await openList(ctxA)
  const problems = watchConsole(list)

  // A first visit shows a welcoming empty state.
  await list.getByRole('heading', { name: 'No documents yet' }).waitFor()
  await screenshot(list, 'rest', '00-list-empty')

  // Create: the new document opens in the editor.
  await list.getByRole('button', { name: 'New document' }).click()
  await list.waitForURL(/\/d\/[0-9a-f-]{36}$/)
  const editorA = list
  await waitSaved(editorA)
  const docURL = editorA.url()
  assert.equal(await editorA.getByLabel('Document title').inputValue(), 'Untitled document')

  // Bob opens the same document; Alice renames it; Bob sees the new title live.
  const editorB = await ctxB.newPage()
  const problemsB = watchConsole(editorB)
  await editorB.goto(docURL)
  await waitSaved(editorB)
  const title = editorA.getByLabel('Document title')
  await title.fill('Quarterly plan')
  await title.press('Enter')
  await editorB.waitForFunction(() => document.querySelector('.title-input').value === 'Quarterly plan')
  assert.equal(await editorB.title(), 'Quarterly plan — Quire')
  await focusEnd(editorA)
  await editorA.keyboard.type('Revenue up, costs down.')
  await waitSaved(editorA)

  // The list shows it, with one more document to search among.
  const other = await (await fetch(`${env.server.baseURL}/api/v1/docs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Meeting notes' })
  })).json()
  assert.ok(other.id)
  await editorA.goto(`${env.server.baseURL}/`)
  await row(editorA, 'Quarterly plan').waitFor()
  await row(editorA, 'Meeting notes').waitFor()
  // Bob is still in "Quarterly plan": the list counts live editors.
  await row(editorA, 'Quarterly plan').getByText('1 editing').waitFor({ timeout: 15000 })
  await screenshot(editorA, 'rest', '01-list')

  await editorA.getByRole('searchbox', { name: 'Search documents by title' }).fill('quarter')
  await row(editorA, 'Meeting notes').waitFor({ state: 'detached' })
  await row(editorA, 'Quarterly plan').waitFor()
  await editorA.getByRole('searchbox', { name: 'Search documents by title' }).fill('')
  await row(editorA, 'Meeting notes').waitFor()

  // Rename from the list.
  await row(editorA, 'Meeting notes').getByRole('button', { name: 'Rename “Meeting notes”' }).click()
  const renameDialog = editorA.getByRole('dialog', { name: 'Rename document' })
  await renameDialog.getByLabel('Title').fill('Weekly sync')
  await renameDialog.getByRole('button', { name: 'Rename' }).click()
  await row(editorA, 'Weekly sync').waitFor()
  const renamed = await (await fetch(`${env.server.baseURL}/api/v1/docs/${other.id}`)).json()
  assert.equal(renamed.title, 'Weekly sync')

  // Delete asks first; cancelling keeps the document.
  await row(editorA, 'Weekly sync').getByRole('button', { name: 'Delete “Weekly sync”' }).click()
  const confirm = editorA.getByRole('dialog', { name: 'Delete document?' })
  await confirm.getByText('“Weekly sync” will be deleted for everyone.').waitFor()
  await screenshot(editorA, 'rest', '02-delete-confirmation')
  await confirm.getByRole('button', { name: 'Cancel' }).click()
  await row(editorA, 'Weekly sync').waitFor()
  await row(editorA, 'Weekly sync').getByRole('button', { name: 'Delete “Weekly sync”' }).click()
  await confirm.getByRole('button', { name: 'Delete' }).click()
  await row(editorA, 'Weekly sync').waitFor({ state: 'detached' })
  assert.equal((await fetch(`${env.server.baseURL}/api/v1/docs/${other.id}`)).status, 404)
  // After a reload it is still gone and the other document is still there.
  await editorA.reload()
  await row(editorA, 'Quarterly plan').waitFor()
  assert.equal(await row(editorA, 'Weekly sync').count(), 0)

  assert.deepEqual(problems, [])
  assert.deepEqual(problemsB, [])
  await ctxA.close()
  await ctxB.close()
})

test('a view-only link opens the document read-only and follows edits live', async () => {
  const ctxA = await personContext(env.launcher, ALICE)
  await ctxA.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.baseURL })
  const created = await (await fetch(`${env.server.baseURL}/api/v1/docs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Read me' })
  })).json()
  const a = await openEditor(ctxA, env.server.baseURL, created.id)
  const problemsA = watchConsole(a)
  await focusEnd(a)
  await a.keyboard.type('Only Alice writes here.')
  await waitSaved(a)

  await a.getByRole('button', { name: 'Share' }).click()
  const dialog = a.getByRole('dialog', { name: 'Share this document' })
  await dialog.getByRole('button', { name: 'Copy view-only link' }).click()
  await dialog.getByText('View-only link copied to the clipboard.').waitFor()
  const link = await dialog.getByLabel('Link to share').inputValue()
  assert.match(link, new RegExp(`^${env.server.baseURL}/d/${created.id}\\?`))
  assert.equal(await a.evaluate(() => navigator.clipboard.readText()), link)
  await screenshot(a, 'rest', '03-share-dialog')
  await dialog.getByRole('button', { name: 'Done' }).click()

  const ctxV = await personContext(env.launcher, BOB)
  const v = await ctxV.newPage()
  const problemsV = watchConsole(v)
  await v.goto(link)
  await waitSaved(v)
  await waitForText(v, 'Only Alice writes here.')
  await v.getByText('View only').waitFor()
  assert.equal(await v.locator('.prose').getAttribute('contenteditable'), 'false')
  assert.equal(await v.getByRole('toolbar', { name: 'Formatting' }).isVisible(), false)
  // Typing does nothing.
  await v.locator('.prose p').first().click()
  await v.keyboard.type('Bob tries to write')
  await v.keyboard.press('Enter')
  assert.deepEqual(await blockTexts(v), ['Only Alice writes here.'])
  // But the viewer follows Alice's edits live.
  await focusEnd(a)
  await a.keyboard.type(' And more.')
  await waitForText(v, 'Only Alice writes here. And more.')
  await waitSaved(a)
  assert.deepEqual(await blockTexts(a), ['Only Alice writes here. And more.'])
  // (The space bar scrolls a read-only page, as in any browser; show the top.)
  await v.locator('.canvas').evaluate(el => el.scrollTo(0, 0))
  await screenshot(v, 'rest', '04-viewer')

  assert.deepEqual(problemsA, [])
  assert.deepEqual(problemsV, [])
  await ctxA.close()
  await ctxV.close()
})

test('importing a Markdown file renders it as rich text', async () => {
  const ctx = await personContext(env.launcher, ALICE)
  const page = await openList(ctx)
  const problems = watchConsole(page)
  const dir = mkdtempSync(join(tmpdir(), 'quire-md-'))
  const file = join(dir, 'Release notes.md')
  writeFileSync(file, '# Release 1.0\n\nQuire is **live** and *fast*.\n\n- shared carets\n- offline edits\n\n1. first\n2. second\n\n> quoted\n\n```\ncode block\n```\n')
  await page.getByRole('button', { name: 'Import', exact: true }).waitFor()
  await page.locator('#import-file').setInputFiles(file)
  await page.waitForURL(/\/d\/[0-9a-f-]{36}$/)
  await waitSaved(page)
  const prose = page.locator('.prose')
  await prose.locator('h1', { hasText: 'Release 1.0' }).waitFor()
  await prose.locator('strong', { hasText: 'live' }).waitFor()
  await prose.locator('em', { hasText: 'fast' }).waitFor()
  assert.deepEqual(await blockTexts(page, '.prose ul > li'), ['shared carets', 'offline edits'])
  assert.deepEqual(await blockTexts(page, '.prose ol > li'), ['first', 'second'])
  await prose.locator('blockquote', { hasText: 'quoted' }).waitFor()
  await prose.locator('pre code', { hasText: 'code block' }).waitFor()
  assert.equal(await page.getByLabel('Document title').inputValue(), 'Release notes')
  await screenshot(page, 'rest', '05-imported-markdown')

  // Export gives the document back as Markdown and HTML files.
  const exportAs = async label => {
    await page.getByRole('button', { name: 'Export' }).click()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('menuitem', { name: label }).click()
    ])
    return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') }
  }
  const md = await exportAs('Markdown (.md)')
  assert.equal(md.name, 'Release notes.md')
  assert.match(md.text, /^# Release 1\.0$/m)
  assert.match(md.text, /\*\*live\*\*/)
  assert.match(md.text, /shared carets/)
  const html = await exportAs('HTML (.html)')
  assert.equal(html.name, 'Release notes.html')
  assert.match(html.text, /<h1[^>]*>Release 1\.0<\/h1>/)
  assert.match(html.text, /<strong>live<\/strong>/)

  // The JSON export is ProseMirror JSON: importing the file gives the same document back.
  const sourceId = page.url().split('/d/')[1]
  const json = await exportAs('ProseMirror JSON (.json)')
  assert.equal(json.name, 'Release notes.json')
  const exported = JSON.parse(json.text)
  assert.equal(exported.type, 'doc')
  assert.deepEqual(exported, await (await fetch(`${env.server.baseURL}/api/v1/docs/${sourceId}/content?format=prosemirror`)).json())
  const jsonFile = join(dir, json.name)
  writeFileSync(jsonFile, json.text)
  await page.goto(`${env.server.baseURL}/`)
  await page.getByRole('button', { name: 'Import', exact: true }).waitFor()
  await page.locator('#import-file').setInputFiles(jsonFile)
  await page.waitForURL(url => /\/d\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(sourceId))
  await waitSaved(page)
  const copyId = page.url().split('/d/')[1]
  await prose.locator('h1', { hasText: 'Release 1.0' }).waitFor()
  assert.deepEqual(await (await fetch(`${env.server.baseURL}/api/v1/docs/${copyId}/content?format=prosemirror`)).json(), exported)
  assert.equal(await page.getByLabel('Document title').inputValue(), 'Release notes')
  assert.deepEqual(problems, [])
  await ctx.close()
})

test('a document created by opening its link shows as "Untitled document", not its id', async () => {
  const ctx = await personContext(env.launcher, ALICE)
  const id = newDocId()
  const page = await openEditor(ctx, env.server.baseURL, id)
  const problems = watchConsole(page)
  // The server created it on connect with its id as the stored title; the page shows none of that.
  const stored = await (await fetch(`${env.server.baseURL}/api/v1/docs/${id}`)).json()
  assert.equal(stored.title, id)
  await page.waitForFunction(() => document.title === 'Untitled document — Quire')
  assert.equal(await page.getByLabel('Document title').inputValue(), 'Untitled document')
  assert.equal(await page.getByRole('heading', { name: 'Untitled document' }).count(), 1)
  assert.equal(await page.getByText(id).count(), 0)
  await focusEnd(page)
  await page.keyboard.type('Opened by its link.')
  // Leaving the title field unchanged does not rename the document.
  await page.getByLabel('Document title').click()
  await page.getByLabel('Document title').press('Enter')
  await waitSaved(page)
  await screenshot(page, 'rest', '07-untitled-by-link')

  await page.goto(`${env.server.baseURL}/`)
  const untitled = page.locator(`.doc-row[data-id="${id}"]`)
  await untitled.waitFor()
  assert.equal(await untitled.locator('.doc-title').textContent(), 'Untitled document')
  assert.equal(await page.locator('.doc-list').getByText(id).count(), 0)
  await untitled.getByRole('button', { name: 'Rename “Untitled document”' }).waitFor()
  // Stored data is unchanged until someone renames it.
  assert.equal((await (await fetch(`${env.server.baseURL}/api/v1/docs/${id}`)).json()).title, id)
  await screenshot(page, 'rest', '08-list-untitled-by-link')

  // Renaming from the list works as for any document.
  await untitled.getByRole('button', { name: 'Rename “Untitled document”' }).click()
  const renameDialog = page.getByRole('dialog', { name: 'Rename document' })
  assert.equal(await renameDialog.getByLabel('Title').inputValue(), 'Untitled document')
  await renameDialog.getByLabel('Title').fill('Named at last')
  await renameDialog.getByRole('button', { name: 'Rename' }).click()
  await row(page, 'Named at last').waitFor()
  assert.equal((await (await fetch(`${env.server.baseURL}/api/v1/docs/${id}`)).json()).title, 'Named at last')
  assert.deepEqual(problems, [])
  await ctx.close()
})

test('deleting a document while someone edits it tells them and stops editing', async () => {
  const ctx = await personContext(env.launcher, ALICE)
  const created = await (await fetch(`${env.server.baseURL}/api/v1/docs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Short-lived' })
  })).json()
  const page = await openEditor(ctx, env.server.baseURL, created.id)
  const problems = watchConsole(page)
  await focusEnd(page)
  await page.keyboard.type('Soon gone.')
  await waitSaved(page)

  assert.equal((await fetch(`${env.server.baseURL}/api/v1/docs/${created.id}`, { method: 'DELETE' })).status, 204)
  await page.getByText('This document was deleted.').waitFor()
  await page.locator('.sync-status[data-state="closed"]').waitFor()
  assert.equal(await page.locator('.prose').getAttribute('contenteditable'), 'false')
  await screenshot(page, 'rest', '06-deleted-while-editing')
  assert.deepEqual(problems, [])
  await ctx.close()
})
