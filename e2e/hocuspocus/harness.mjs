// Harness: starts the real quire binary on a random port with a fresh data directory and
// gives tests real Hocuspocus providers (and y-websocket clients) over the `ws` package.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { WebsocketProvider } from 'y-websocket'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..')

/** Builds ./cmd/quire (QUIRE_BIN names a prebuilt binary instead). */
function buildServer (dir) {
  if (process.env.QUIRE_BIN) return process.env.QUIRE_BIN
  const bin = join(dir, 'quire')
  execFileSync('go', ['build', '-o', bin, './cmd/quire'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] })
  return bin
}

/**
 * Starts quire; resolves with { url, wsURL, hocuspocusURL, kill9, restart, stop, logs } once
 * it logs its "listening" line. restart() reuses the port and the data directory.
 */
export async function startServer ({ args = [] } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'quire-hocus-'))
  const dataDir = join(work, 'data')
  mkdirSync(dataDir)
  const bin = buildServer(work)
  let proc = null
  let addr = '127.0.0.1:0'
  let logs = ''

  async function launch () {
    proc = spawn(bin, ['--addr', addr, '--data-dir', dataDir, '--log-level', 'debug', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const started = new Promise((resolveStart, rejectStart) => {
      const onData = chunk => {
        logs += chunk.toString()
        const m = logs.match(/msg=listening addr=(\S+)/)
        if (m) resolveStart(m[1])
      }
      proc.stdout.on('data', onData)
      proc.stderr.on('data', onData)
      proc.once('exit', code => rejectStart(new Error(`quire exited with ${code} before listening:\n${logs}`)))
    })
    let timer
    const timeout = new Promise((_, rejectTimeout) => { timer = setTimeout(() => rejectTimeout(new Error(`quire did not log "listening" within 20 s:\n${logs}`)), 20000) })
    try {
      addr = await Promise.race([started, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
  await launch()

  async function stopProcess (signal) {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise(resolveExit => proc.once('exit', resolveExit))
    proc.kill(signal)
    await exited
  }

  return {
    get url () { return `http://${addr}` },
    get wsURL () { return `ws://${addr}/ws` },
    get hocuspocusURL () { return `ws://${addr}/hocuspocus` },
    logs: () => logs,
    kill9: () => stopProcess('SIGKILL'),
    async restart () {
      await stopProcess('SIGTERM')
      logs = ''
      await launch()
    },
    async stop () {
      await stopProcess('SIGTERM')
      rmSync(work, { recursive: true, force: true })
    }
  }
}

/** One Hocuspocus socket that several providers share. */
export function hocuspocusSocket (url, options = {}) {
  return new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket, ...options })
}

/**
 * Attaches a provider for document name to socket. Resolves once it is synced (or, with
 * waitSynced false, at once). Records its events on provider.events.
 */
export async function attach (socket, name, { token = null, doc = new Y.Doc(), waitSynced = true, ...options } = {}) {
  const events = { authenticated: [], authenticationFailed: [], stateless: [], close: [] }
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name,
    token,
    document: doc,
    onAuthenticated: e => events.authenticated.push(e.scope),
    onAuthenticationFailed: e => events.authenticationFailed.push(e.reason),
    onStateless: e => events.stateless.push(e.payload),
    onClose: e => events.close.push(e.event),
    ...options
  })
  provider.events = events
  provider.attach()
  if (waitSynced) await waitFor(() => provider.isSynced, `provider ${name} synced`)
  return provider
}

/** A y-websocket client of document name. */
export async function yWebsocket (server, name, { doc = new Y.Doc(), params = {} } = {}) {
  const provider = new WebsocketProvider(server.wsURL, name, doc, { WebSocketPolyfill: WebSocket, params, disableBc: true })
  // The provider leaves its Awareness (and that one's timer) alive; tests end with destroy().
  const destroy = provider.destroy.bind(provider)
  provider.destroy = () => { destroy(); provider.awareness.destroy() }
  await waitFor(() => provider.synced, `y-websocket ${name} synced`)
  return provider
}

/** Polls cond every 20 ms until it is true; fails after timeout ms. */
export async function waitFor (cond, what, timeout = 15000) {
  const start = Date.now()
  for (;;) {
    if (await cond()) return
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise(resolveWait => setTimeout(resolveWait, 20))
  }
}

export const sleep = ms => new Promise(resolveSleep => setTimeout(resolveSleep, ms))
export { Y }
