// A viewer share token with the real y-websocket client: it receives everything live, its edits
// are refused (the document is unchanged), and the client is told with y-protocols' auth
// permission-denied message, which y-websocket reports through its permission-denied handler
// (a console warning) without closing. One notice per burst, not one per keystroke.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Server } from '../../lib/server.mjs'
import { connectClient, destroyAllClients, waitFor, toU8 } from '../lib/client.js'
import * as decoding from 'lib0/decoding'

const ADMIN = 'e2e-admin-key'
let server
let api
before(async () => {
  server = await new Server({ flags: { '--admin-key': ADMIN } }).start()
  api = async (method, path, body) => {
    const res = await fetch(server.httpURL + '/api/v1' + path, {
      method,
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    return { status: res.status, text, json: text ? JSON.parse(text) : undefined }
  }
})
after(async () => { destroyAllClients(); await server?.dispose() })

/** Auth permission-denied reasons (messageAuth 2, permissionDenied 0) the socket received. */
function tapDenied (client) {
  const reasons = []
  client.ws.on('message', (data) => {
    const d = decoding.createDecoder(toU8(data))
    if (decoding.readVarUint(d) === 2 && decoding.readVarUint(d) === 0) reasons.push(decoding.readVarString(d))
  })
  return reasons
}

test('a viewer receives live edits; its own are refused with permission-denied and the session stays open', async () => {
  const created = await api('POST', '/docs', { title: 'Shared' })
  assert.equal(created.status, 201, created.text)
  const id = created.json.id
  const share = await api('POST', `/docs/${id}/shares`, { role: 'viewer' })
  assert.equal(share.status, 201, share.text)

  // The document name carries the query: y-websocket builds serverUrl + '/' + room.
  const editor = await connectClient(server, `${id}?token=${ADMIN}`, { name: 'editor' })
  const warnings = []
  const warn = console.warn
  console.warn = (...args) => { warnings.push(args.join(' ')) }
  try {
    const viewer = await connectClient(server, `${id}?token=${encodeURIComponent(share.json.token)}`, { name: 'viewer' })
    const denied = tapDenied(viewer)

    editor.text.insert(0, 'hello ')
    await waitFor(() => viewer.content === 'hello ', { what: 'the viewer to receive the edit live' })
    assert.deepEqual(denied, [], 'syncing what it has is not an edit')

    // A burst of keystrokes from the viewer.
    for (const ch of 'viewer typing') viewer.text.insert(viewer.text.length, ch)
    await waitFor(() => denied.length === 1, { what: 'a permission-denied message' })
    assert.match(denied[0], /read-only/)
    await waitFor(() => warnings.some(w => w.includes('Permission denied') && w.includes('read-only')), {
      what: "y-websocket's permission-denied handler to run"
    })

    editor.text.insert(0, '> ')
    await waitFor(() => viewer.content.startsWith('> hello '), { what: 'the viewer to keep receiving' })
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(editor.content, '> hello ', 'the viewer\'s edits reached the editor')
    assert.equal(denied.length, 1, 'one notice per burst')
    assert.equal(viewer.closes.length, 0, `viewer disconnected: ${JSON.stringify(viewer.closes)}`)
    assert.ok(viewer.provider.wsconnected)

    const content = await fetch(`${server.httpURL}/api/v1/docs/${id}/content?format=json`, {
      headers: { Authorization: `Bearer ${ADMIN}` }
    }).then(r => r.text())
    assert.ok(!content.includes('viewer typing'), `stored content has the viewer's edits: ${content}`)
  } finally {
    console.warn = warn
  }
})
