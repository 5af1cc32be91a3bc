// Test harness: builds and starts the real Quire binary on a random port with a fresh data
// directory, launches Debian's Chromium through playwright-core, and collects screenshots
// and console problems. Every test file calls setup() once.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, '..', '..')
export const resultsDir = join(here, 'test-results')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/**
 * Builds ./cmd/quire into dir (Go's build cache makes repeat builds quick). QUIRE_BIN names
 * a prebuilt binary instead (same flags: --addr, --data-dir).
 */
function buildServer (dir) {
  if (process.env.QUIRE_BIN) return process.env.QUIRE_BIN
  const bin = join(dir, 'quire')
  execFileSync('go', ['build', '-o', bin, './cmd/quire'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] })
  return bin
}

/**
 * Starts the server and resolves once it logs its "listening" line (slog, text or JSON),
 * with { baseURL, stop, restart }. The data directory survives restart().
 */
export async function startServer ({ extraArgs = [], env = {} } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'quire-e2e-'))
  const dataDir = join(work, 'data')
  mkdirSync(dataDir)
  const bin = buildServer(work)
  let proc = null
  let addr = '127.0.0.1:0'
  let logs = ''

  async function launch () {
    proc = spawn(bin, ['--addr', addr, '--data-dir', dataDir, ...extraArgs], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const started = new Promise((resolveStart, rejectStart) => {
      const onData = chunk => {
        logs += chunk.toString()
        const found = findListenAddr(logs)
        if (found) resolveStart(found)
      }
      proc.stdout.on('data', onData)
      proc.stderr.on('data', onData)
      proc.once('exit', code => rejectStart(new Error(`quire exited with ${code} before listening:\n${logs}`)))
    })
    const timeout = new Promise((_, rejectTimeout) => setTimeout(() => rejectTimeout(new Error(`quire did not log "listening" within 20 s:\n${logs}`)), 20000).unref())
    const listenAddr = await Promise.race([started, timeout])
    // Restarts reuse the port so open pages reconnect to the same URL.
    addr = listenAddr
    return listenAddr
  }

  const listenAddr = await launch()
  const baseURL = `http://${listenAddr}`

  async function stopProcess () {
    if (!proc || proc.exitCode !== null) return
    const exited = new Promise(r => proc.once('exit', r))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000)
    await exited
    clearTimeout(timer)
  }

  return {
    baseURL,
    logs: () => logs,
    async restart () {
      await stopProcess()
      logs = ''
      await launch()
    },
    async stop () {
      await stopProcess()
      rmSync(work, { recursive: true, force: true })
    }
  }
}

/** Finds addr in a slog line with msg=listening (text handler) or "msg":"listening" (JSON). */
function findListenAddr (logs) {
  for (const line of logs.split('\n')) {
    if (!/listening/.test(line)) continue
    const m = line.match(/\baddr=("?)([^\s"]+)\1/) || line.match(/"addr":"([^"]+)"/)
    if (m) return (m[2] || m[1]).replace(/^\[::\]|^0\.0\.0\.0/, '127.0.0.1')
  }
  return null
}

/**
 * Launches headless Chromium. playwright-core gives each launch a fresh temporary profile
 * (user-data-dir) and deletes it on close.
 */
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
