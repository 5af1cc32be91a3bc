// Test harness: starts the real Quire binary (e2e/lib/server.mjs) on a random port with a fresh data
// directory, launches Debian's Chromium through playwright-core, and collects screenshots
// and console problems. Every test file calls setup() once.
import { mkdirSync } from 'node:fs'
import { after, before } from 'node:test'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { Server } from '../lib/server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
export const resultsDir = join(here, 'test-results')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/**
 * Starts the real server (e2e/lib/server.mjs: built once per run or $QUIRE_BIN, random port,
 * fresh data directory) and resolves with { baseURL, logs, restart, stop }. restart() keeps the
 * port and the data, so open pages reconnect to the same URL; stop() also removes the data.
 */
export async function startServer ({ flags = {}, env = {} } = {}) {
  const server = await new Server({ flags, env }).start()
  return {
    baseURL: server.httpURL,
    logs: () => server.log.join('\n'),
    restart: () => server.restart(),
    stop: () => server.dispose()
  }
}

/**
 * Launches headless Chromium. playwright-core gives each launch a fresh temporary profile
 * (user-data-dir) and deletes it on close.
 */
// serverAndBrowser starts a server (startServer's options) and a browser
// before the file's tests and stops both after them; the returned object's
// server and launcher are set once the tests run.
export function serverAndBrowser (options) {
  const env = { server: null, launcher: null }
  before(async () => {
    env.server = await startServer(options)
    env.launcher = await launchBrowser()
  })
  after(async () => {
    if (env.launcher) await env.launcher.close()
    if (env.server) await env.server.stop()
  })
  return env
}

export async function launchBrowser () {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']
  })
  return {
    browser,
    async newContext (options = {}) {
      return browser.newContext({ viewport: { width: 1280, height: 860 }, ...options })
    },
    async close () {
      await browser.close()
    }
  }
}

/**
 * A context whose pages already know who the person is (name and colour in localStorage),
 * so the welcome dialog does not appear.
 */
export async function personContext (launcher, user, options = {}) {
  const context = await launcher.newContext(options)
  if (user) {
    await context.addInitScript(u => {
      if (!localStorage.getItem('quire.user')) localStorage.setItem('quire.user', JSON.stringify(u))
    }, user)
  }
  return context
}

/**
 * Starts buffering a page's console and errors before it navigates, so watchConsole(page)
 * called later still sees what happened during loading.
 */
export function bufferConsole (page) {
  const early = []
  page.on('pageerror', err => early.push(err))
  page.on('console', msg => early.push(msg))
  page.__earlyConsole = early
  return page
}

/**
 * Records uncaught page errors and console errors (including those buffered since
 * bufferConsole). Failures the test provokes on purpose (allow: RegExps matched against
 * the text and URL) are ignored.
 */
export function watchConsole (page, allow = []) {
  const problems = []
  const record = entry => {
    if (entry instanceof Error) {
      problems.push(`pageerror: ${entry.message}`)
      return
    }
    if (entry.type() !== 'error') return
    const where = entry.location() && entry.location().url ? ` (${entry.location().url})` : ''
    const text = entry.text() + where
    if (allow.some(re => re.test(text))) return
    problems.push(`console.error: ${text}`)
  }
  for (const entry of page.__earlyConsole || []) record(entry)
  page.on('pageerror', record)
  page.on('console', record)
  return problems
}

/** Saves a full-page screenshot under test-results/<group>/<name>.png and returns its path. */
export async function screenshot (page, group, name) {
  const dir = join(resultsDir, group)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${name}.png`)
  await page.screenshot({ path })
  return path
}

/** Polls fn (in Node) until it returns a truthy value or the timeout passes. */
export async function eventually (fn, { timeout = 10000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message}; last: ${last}`)
    await new Promise(r => setTimeout(r, interval))
  }
}
