// Connection and save state of a document, for the "All changes saved" indicator.
//
// How we know the server has our changes: Quire sends nothing for a document before the
// updates in it are durable, and it echoes every update back to its sender once stored
// (DESIGN.md, "How an edit flows", step 4). So everything that arrives from the server
// over the WebSocket (sync step 2 and update messages) is durable. We apply each of those
// payloads to a second, hidden Y.Doc — the "durable replica" — and the local document is
// saved exactly when the replica covers it: every struct we have (state vector) and every
// deletion we know (delete set) is also in the replica. This needs no counting of
// messages, survives batching or merging of echoes by the server, reconnects (the server's
// reply to our step 1 plus the echo of our step 2) and offline edits, and it covers
// delete-only edits, which a state-vector-only check would miss.
//
// Messages from other tabs (BroadcastChannel) would bypass the server, so pages create
// providers with disableBc and only WebSocket messages feed the replica.
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'

const MESSAGE_SYNC = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2

/** True when every range in `inner` (sorted DeleteItems) lies inside the ranges of `outer`. */
function rangesCovered (inner, outer) {
  let j = 0
  for (const { clock, len } of inner) {
    const end = clock + len
    let at = clock
    while (at < end) {
      while (j < outer.length && outer[j].clock + outer[j].len <= at) j++
      if (j >= outer.length || outer[j].clock > at) return false
      at = outer[j].clock + outer[j].len
    }
  }
  return true
}

/** True when `durable` holds every struct and deletion that `local` holds. */
export function docCovers (durable, local) {
  const have = Y.snapshot(durable)
  const mine = Y.snapshot(local)
  for (const [client, clock] of mine.sv) {
    if ((have.sv.get(client) || 0) < clock) return false
  }
  for (const [client, ranges] of mine.ds.clients) {
    if (!rangesCovered(ranges, have.ds.clients.get(client) || [])) return false
  }
  return true
}

/**
 * Watches a WebsocketProvider and reports one of:
 *   connecting   – first connection not established yet
 *   loading      – connected, waiting for the document
 *   saving       – connected, some local changes not yet durable on the server
 *   saved        – the server durably has everything this tab has
 *   reconnecting – connection lost, retrying; nothing unsaved
 *   offline      – no connection and local changes waiting to be sent
 *   closed       – the server ended the session for good (bad token, deleted document…)
 * onChange({ state, connected, synced, unsaved, closeReason })
 */
export class SyncStatus {
  constructor (provider, onChange) {
    this.provider = provider
    this.doc = provider.doc
    this.onChange = onChange
    this.durable = new Y.Doc()
    this.unsaved = false
    this.everConnected = false
    this.closed = null
    this.checkTimer = 0
    this.last = ''

    // Feed the durable replica from WebSocket messages only (emitSynced is true for the
    // socket and false for BroadcastChannel messages in y-websocket).
    const original = provider.messageHandlers[MESSAGE_SYNC]
    provider.messageHandlers[MESSAGE_SYNC] = (encoder, decoder, prov, emitSynced, messageType) => {
      if (emitSynced) this._observeServerMessage(decoder)
      return original(encoder, decoder, prov, emitSynced, messageType)
    }

    this.doc.on('update', (_update, origin) => {
      if (origin !== provider) {
        this.unsaved = true
        this._emit()
      }
      this._scheduleCheck()
    })
    provider.on('status', ({ status }) => {
      if (status === 'connected') this.everConnected = true
      this._emit()
    })
    provider.on('sync', () => {
      this._scheduleCheck()
      this._emit()
    })
    provider.on('closed', event => {
      this.closed = event
      this._emit()
    })
    this._emit()
  }

  _observeServerMessage (decoder) {
    // Peek without moving the provider's decoder.
    const peek = decoding.createDecoder(decoder.arr.subarray(decoder.pos))
    const type = decoding.readVarUint(peek)
    if (type !== SYNC_STEP2 && type !== SYNC_UPDATE) return
    try {
      Y.applyUpdate(this.durable, decoding.readVarUint8Array(peek))
    } catch {
      // A malformed message will also fail in the provider; the replica just stays behind.
    }
    this._scheduleCheck()
  }

  _scheduleCheck () {
    if (this.checkTimer) return
    // Coalesce bursts (typing, big syncs): the coverage check walks both struct stores.
    this.checkTimer = setTimeout(() => {
      this.checkTimer = 0
      const unsaved = !docCovers(this.durable, this.doc)
      if (unsaved !== this.unsaved) {
        this.unsaved = unsaved
        this._emit()
      }
    }, 120)
  }

  state () {
    const p = this.provider
    if (this.closed) return 'closed'
    if (p.wsconnected) {
      if (!p.synced) return 'loading'
      return this.unsaved ? 'saving' : 'saved'
    }
    if (this.unsaved) return 'offline'
    return this.everConnected ? 'reconnecting' : 'connecting'
  }

  _emit () {
    const info = {
      state: this.state(),
      connected: this.provider.wsconnected,
      synced: this.provider.synced,
      unsaved: this.unsaved,
      closeReason: this.closed
    }
    const key = JSON.stringify(info)
    if (key === this.last) return
    this.last = key
    this.onChange(info)
  }

  destroy () {
    clearTimeout(this.checkTimer)
    this.durable.destroy()
  }
}

/** Human wording for a terminal WebSocket close (COMMON.md close codes). */
export function describeClose (event) {
  if (!event) return ''
  const reason = event.reason ? ` (${event.reason})` : ''
  switch (event.code) {
    case 4401: return 'The link or key used to open this document is not valid.' + reason
    case 4403: return 'You do not have permission to edit this document.' + reason
    case 4404:
    case 4410: return 'This document was deleted.'
    case 4400: return 'The server rejected a change from this tab. Reload to continue.' + reason
    case 1009: return 'A change was too big for the server to accept.' + reason
    default: return `The server closed the connection (code ${event.code}).` + reason
  }
}
