// Harness: starts the real quire binary (../lib/server.mjs: built once, random port, fresh data
// directory) and gives tests real Hocuspocus providers (and y-websocket clients) over the `ws`
// package.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { WebsocketProvider } from 'y-websocket'
import { Server } from '../lib/server.mjs'

/**
 * Starts quire with flags (e.g. { '--admin-key': 'k' }) and debug logs; resolves with
 * { url, wsURL, hocuspocusURL, kill9, restart, stop, logs } once it logs its "listening" line.
 * restart() reuses the port and the data directory.
 */
export async function startServer ({ flags = {} } = {}) {
  const server = new Server({ flags: { '--log-level': 'debug', ...flags }, ref: null })
  await server.start()
  return {
    get url () { return server.httpURL },
    get wsURL () { return server.wsBase },
    get hocuspocusURL () { return `ws://127.0.0.1:${server.port}/hocuspocus` },
    logs: () => server.log.join('\n'),
    kill9: () => server.kill(),
    restart: () => server.restart(),
    stop: () => server.dispose()
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
