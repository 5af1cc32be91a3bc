// Page helpers shared by the browser tests: they drive the app the way a person does
// (clicks, keyboard), and read what a person would see.
import { randomUUID } from 'node:crypto'
import { bufferConsole } from './harness.mjs'

export const ALICE = { name: 'Alice Martin', color: '#d93025' }
export const BOB = { name: 'Bob Chen', color: '#1a73e8' }

export function newDocId () {
  return randomUUID()
}

/** Opens the editor on docId and waits until the document is loaded and in sync. */
export async function openEditor (context, baseURL, docId, query = '') {
  const page = bufferConsole(await context.newPage())
  await page.goto(`${baseURL}/d/${docId}${query}`)
  await waitSaved(page)
  return page
}

/** Waits for "All changes saved": the server durably has everything this tab has. */
export async function waitSaved (page, timeout = 15000) {
  await page.locator('.editor-page[data-sync="saved"]').waitFor({ timeout })
  await page.getByText('All changes saved').waitFor({ timeout })
}

/**
 * Puts the caret at the very end of the document, as a person would: click the last block,
 * press Ctrl+End. A remote change landing during the click can re-render the block under the
 * caret, so check where the caret ended up and try again if it is not at the end.
 */
export async function focusEnd (page) {
  for (let attempt = 0; attempt < 5; attempt++) {
    // Click the last block, not the whole page-sized body, so nothing needs to scroll.
    await page.locator('.prose > *').last().click()
    await page.keyboard.press('Control+End')
    const atEnd = await page.evaluate(() => {
      const { state } = window.quire.editor
      return state.doc.textBetween(state.selection.head, state.doc.content.size, '\n') === ''
    })
    if (atEnd) return
    await page.waitForTimeout(100)
  }
  throw new Error('could not put the caret at the end of the document')
}

/**
 * The text of each block (paragraph, heading, list item…) as shown, without the name labels
 * of collaborators' carets.
 */
export async function blockTexts (page, selector = '.prose > *') {
  return page.evaluate(sel => [...document.querySelectorAll(sel)].map(el => {
    const copy = el.cloneNode(true)
    for (const caret of copy.querySelectorAll('.collab-caret')) caret.remove()
    return copy.textContent
  }), selector)
}

/**
 * Waits until the editor's text as shown (without the name labels of collaborators' carets)
 * does (present = true) or does not contain `text`; returns the time it took.
 */
async function waitShown (page, text, present, timeout) {
  const started = Date.now()
  await page.waitForFunction(([t, want]) => {
    const prose = document.querySelector('.prose')
    if (!prose) return false
    const copy = prose.cloneNode(true)
    for (const caret of copy.querySelectorAll('.collab-caret')) caret.remove()
    return copy.textContent.includes(t) === want
  }, [text, present], { timeout, polling: 'raf' })
  return Date.now() - started
}

export function waitForText (page, text, timeout = 10000) {
  return waitShown(page, text, true, timeout)
}

export function waitForNoText (page, text, timeout = 10000) {
  return waitShown(page, text, false, timeout)
}

/** Clicks a toolbar button by its accessible name. */
export async function tool (page, label) {
  await page.getByRole('toolbar', { name: 'Formatting' }).getByRole('button', { name: label, exact: true }).click()
}

/** The editor body's HTML as ProseMirror renders it, without collaborators' carets. */
export async function bodyHTML (page) {
  return page.evaluate(() => window.quire.editor.getHTML())
}
