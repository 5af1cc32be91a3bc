// The shared-cursors demo: pointers travel through awareness, notes through the document.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { personContext, screenshot, serverAndBrowser, watchConsole } from './harness.mjs'
import { ALICE, BOB } from './pages.mjs'

const env = serverAndBrowser()

async function openDemo (context) {
  const page = await context.newPage()
  await page.goto(`${env.server.baseURL}/demo/cursors`)
  await page.locator('.sync-status[data-state="saved"]').waitFor()
  return page
}

/** Moves the mouse to a fraction of the board's size. */
async function pointAt (page, fx, fy) {
  const box = await page.locator('.board').boundingBox()
  await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 4 })
}

test('pointers and notes are shared live; a pointer vanishes when its visitor leaves', async () => {
  const ctxA = await personContext(env.launcher, ALICE)
  // Bob has a smaller window: positions are relative to the board, so they still agree.
  const ctxB = await personContext(env.launcher, BOB, { viewport: { width: 1000, height: 700 } })
  const a = await openDemo(ctxA)
  const b = await openDemo(ctxB)
  const problemsA = watchConsole(a)
  const problemsB = watchConsole(b)

  await a.locator('.people').getByText(`${BOB.name}`).waitFor()
  await b.locator('.people').getByText(`${ALICE.name}`).waitFor()

  await pointAt(a, 0.25, 0.4)
  await pointAt(b, 0.7, 0.6)
  const alicePointer = b.locator('.pointer', { hasText: ALICE.name })
  const bobPointer = a.locator('.pointer', { hasText: BOB.name })
  await alicePointer.waitFor()
  await bobPointer.waitFor()

  // Alice's pointer sits where she put it, relative to Bob's board.
  await b.waitForFunction(() => {
    const p = [...document.querySelectorAll('.pointer')].find(el => el.textContent.includes('Alice'))
    return p && Math.abs(parseFloat(p.style.left) - 25) < 1 && Math.abs(parseFloat(p.style.top) - 40) < 1
  })
  assert.equal(await alicePointer.locator('.pointer-label').evaluate(el => getComputedStyle(el).backgroundColor), 'rgb(217, 48, 37)')
  // It follows her mouse.
  await pointAt(a, 0.5, 0.2)
  await b.waitForFunction(() => {
    const p = [...document.querySelectorAll('.pointer')].find(el => el.textContent.includes('Alice'))
    return p && Math.abs(parseFloat(p.style.left) - 50) < 1 && Math.abs(parseFloat(p.style.top) - 20) < 1
  })
  // Nobody sees their own pointer as a remote one.
  assert.equal(await a.locator('.pointer', { hasText: ALICE.name }).count(), 0)

  // A sticky note added and written by Alice appears for Bob; Bob edits it back.
  await a.getByRole('button', { name: 'Add note' }).click()
  const noteA = a.locator('.note').last()
  await noteA.getByLabel('Note text').fill('Ship the editor on Friday')
  const noteB = b.locator('.note', { has: b.locator('textarea') }).last()
  await b.waitForFunction(() => [...document.querySelectorAll('.note textarea')].some(t => t.value === 'Ship the editor on Friday'))
  await noteB.getByLabel('Note text').fill('Ship the editor on Friday — agreed!')
  await a.waitForFunction(() => [...document.querySelectorAll('.note textarea')].some(t => t.value === 'Ship the editor on Friday — agreed!'))
  // Both type into the same note at once: the text merges, nobody's words are lost.
  await noteA.getByLabel('Note text').click()
  await a.keyboard.press('Control+Home')
  await noteB.getByLabel('Note text').click()
  await b.keyboard.press('Control+End')
  await Promise.all([a.keyboard.type('TODO: '), b.keyboard.type(' (Bob)')])
  const merged = 'TODO: Ship the editor on Friday — agreed! (Bob)'
  await a.waitForFunction(t => [...document.querySelectorAll('.note textarea')].some(el => el.value === t), merged)
  await b.waitForFunction(t => [...document.querySelectorAll('.note textarea')].some(el => el.value === t), merged)
  // Moving a note with the keyboard moves it for everyone.
  const leftBefore = await noteB.evaluate(el => parseFloat(el.style.left))
  await noteA.getByRole('button', { name: /Move note/ }).focus()
  await a.keyboard.press('Shift+ArrowRight')
  await b.waitForFunction(before => {
    const notes = document.querySelectorAll('.note')
    return Math.abs(parseFloat(notes[notes.length - 1].style.left) - (before + 5)) < 0.5
  }, leftBefore)

  await pointAt(a, 0.45, 0.55)
  await pointAt(b, 0.3, 0.3)
  await b.locator('.pointer', { hasText: ALICE.name }).waitFor()
  await screenshot(b, 'cursors', '01-bob-sees-alice')
  await screenshot(a, 'cursors', '02-alice-sees-bob')

  // Bob leaves: his pointer and his name disappear from Alice's screen.
  await ctxB.close()
  await bobPointer.waitFor({ state: 'detached', timeout: 15000 })
  await a.locator('.people').getByText(BOB.name).waitFor({ state: 'detached' })
  await screenshot(a, 'cursors', '03-after-bob-left')

  assert.deepEqual(problemsA, [])
  assert.deepEqual(problemsB, [])
  await ctxA.close()
})
