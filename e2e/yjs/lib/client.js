// Yjs clients as users run them: a Y.Doc behind y-websocket's WebsocketProvider (with `ws` as the
// WebSocket), plus a record of what the server sent, and raw sockets for protocol-level tests.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as awarenessProtocol from 'y-protocols/awareness'

export const MSG_SYNC = 0
export const MSG_AWARENESS = 1
export const SYNC_STEP1 = 0
export const SYNC_STEP2 = 1
export const SYNC_UPDATE = 2

const live = new Set()
/** Destroy every client still open (node:test `after` hook of each file). */
export function destroyAllClients () {
  for (const c of live) c.destroy()
}

export function toU8 (data) {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  throw new Error(`unexpected message data ${Object.prototype.toString.call(data)}`)
}

/**
 * Decode one y-websocket message. Returns { type, syncType?, payload? } or throws on a frame that
 * does not parse.
 */
export function decodeMessage (data) {
  const d = decoding.createDecoder(toU8(data))
  const type = decoding.readVarUint(d)
  if (type === MSG_SYNC) {
    const syncType = decoding.readVarUint(d)
    return { type, syncType, payload: decoding.readVarUint8Array(d) }
  }
  if (type === MSG_AWARENESS) return { type, payload: decoding.readVarUint8Array(d) }
  return { type }
}

export function syncMessage (syncType, payload) {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MSG_SYNC)
  encoding.writeVarUint(e, syncType)
  encoding.writeVarUint8Array(e, payload)
  return encoding.toUint8Array(e)
}

export function awarenessMessage (update) {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MSG_AWARENESS)
  encoding.writeVarUint8Array(e, update)
  return encoding.toUint8Array(e)
}

/**
 * A `ws` WebSocket class for WebsocketProvider's WebSocketPolyfill that reports every message the
 * server sends and every close, before the provider sees them.
 */
function tappedWebSocket ({ origin, onMessage, onClose, onSocket }) {
  return class TappedWebSocket extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols, origin ? { origin } : {})
      onSocket?.(this)
      this.on('message', (data) => onMessage(data))
      this.on('close', (code, reason) => onClose({ code, reason: reason.toString() }))
    }
  }
}

/**
 * One editor: a Y.Doc with a Y.Text named 'text', connected through WebsocketProvider.
 *
 * `seen` is a second Y.Doc holding exactly what the server sent this client (sync step 2 replies
 * and forwarded updates, the echo of its own edits included): the server acknowledges an edit by
 * forwarding it, so `seen` is what the client has been told is saved.
 */
export class Client {
  constructor (server, docID, { name = 'client', origin, connect = true, user, maxBackoffTime = 500 } = {}) {
    this.name = name
    this.docID = docID
    this.doc = new Y.Doc()
    this.text = this.doc.getText('text')
    this.seen = new Y.Doc()
    this.closes = [] // { code, reason } of every connection that ended
    this.received = 0 // frames from the server
    this.sockets = [] // every WebSocket the provider opened
    const Polyfill = tappedWebSocket({
      origin,
      onSocket: (ws) => this.sockets.push(ws),
      onMessage: (data) => {
        this.received++
        const m = decodeMessage(data)
        if (m.type === MSG_SYNC && (m.syncType === SYNC_STEP2 || m.syncType === SYNC_UPDATE)) {
          Y.applyUpdate(this.seen, m.payload, 'server')
        }
      },
      onClose: (ev) => this.closes.push(ev)
    })
    this.provider = new WebsocketProvider(server.wsBase, docID, this.doc, {
      WebSocketPolyfill: Polyfill,
      // BroadcastChannel exists in Node: without this, clients in one process would sync
      // through it and bypass the server.
      disableBc: true,
      connect,
      maxBackoffTime
    })
    this.awareness = this.provider.awareness
    if (user) this.awareness.setLocalStateField('user', user)
    live.add(this)
  }

  get clientID () { return this.doc.clientID }
  get content () { return this.text.toString() }
  get seenContent () { return this.seen.getText('text').toString() }
  /** The socket currently in use, if any. */
  get ws () { return this.provider.ws }

  async synced (what = `${this.name} synced`, timeout) {
    await waitFor(() => this.provider.synced, { what, timeout })
    return this
  }

  destroy () {
    if (!live.has(this)) return
    live.delete(this)
    this.provider.destroy()
    this.doc.destroy()
    this.seen.destroy()
  }
}

/** Connect a Client and wait until it has synced. */
export async function connectClient (server, docID, opts) {
  const c = new Client(server, docID, opts)
  await c.synced()
  return c
}

/**
 * A bare WebSocket speaking y-websocket by hand. Resolves once open; rejects with
 * err.statusCode when the server refuses the handshake.
 */
export function rawSocket (url, { origin } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {})
    const messages = []
    ws.messages = messages
    ws.closed = new Promise(resolve => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    ws.on('message', (data) => messages.push(decodeMessage(data)))
    ws.once('unexpected-response', (_req, res) => {
      const err = new Error(`handshake refused: HTTP ${res.statusCode}`)
      err.statusCode = res.statusCode
      res.resume()
      ws.terminate()
      reject(err)
    })
    ws.once('error', reject)
    ws.once('open', () => {
      ws.off('error', reject)
      ws.on('error', () => {}) // errors after open surface as 'close'
      resolve(ws)
    })
  })
}

export function encodeAwareness (clientID, clock, state) {
  // A one-client awareness update: varUint count, then client, clock, JSON state.
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, clientID)
  encoding.writeVarUint(e, clock)
  encoding.writeVarString(e, JSON.stringify(state))
  return encoding.toUint8Array(e)
}

/** Client ids listed in an awareness update. */
export function awarenessClients (update) {
  const d = decoding.createDecoder(update)
  const ids = []
  for (let n = decoding.readVarUint(d); n > 0; n--) {
    ids.push(decoding.readVarUint(d))
    decoding.readVarUint(d) // clock
    decoding.readVarString(d) // state JSON
  }
  return ids
}

export { Y, awarenessProtocol }

/**
 * Poll `cond` until it returns a truthy value (returned) or `timeout` ms pass (throws, naming
 * `what` and the last value seen by `describe`).
 */
export async function waitFor (cond, { timeout = 5000, interval = 10, what = 'condition', describe } = {}) {
  const deadline = Date.now() + timeout
  for (;;) {
    const v = await cond()
    if (v) return v
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${describe ? `: ${describe()}` : ''}`)
    }
    await new Promise(resolve => setTimeout(resolve, interval))
  }
}

/** Positions in `s` that sit between whole tokens "[...]" (start, or right after a ']'). */
export function boundaries (s) {
  const out = [0]
  for (let i = 0; i < s.length; i++) if (s[i] === ']') out.push(i + 1)
  return out
}

/** The complete tokens "[...]" in `s`. */
export function tokens (s) {
  return s.match(/\[[^\][]*\]/g) ?? []
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed. */
export function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** True when state vector `a` (Map client→clock) is covered by `b`. Returns the first gap otherwise. */
export function svGap (a, b) {
  for (const [client, clock] of a) {
    const have = b.get(client) ?? 0
    if (have < clock) return { client, want: clock, have }
  }
  return null
}
