// Per-document authentication with the real provider against the binary started with an
// admin key: the same token rules as /ws and the REST API (admin key or editor share token:
// read-write; viewer share token: readonly; anything else: permission denied).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, hocuspocusSocket, attach, waitFor, sleep } from './harness.mjs'

const ADMIN = 'hocus-e2e-admin-key'
let server

async function rest (method, path, body) {
  const res = await fetch(server.url + '/api/v1' + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body)
  })
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`)
  return res.status === 204 ? null : res.json()
}

const newDoc = async title => (await rest('POST', '/docs', { title })).id
const share = async (id, role) => (await rest('POST', `/docs/${id}/shares`, { role })).token

before(async () => { server = await startServer({ flags: { '--admin-key': ADMIN } }) })
after(async () => { await server?.stop() })

const text = p => p.document.getText('body').toString()

test('a wrong token is denied with a reason, nothing it sends is applied, and the socket\'s other documents keep working', async () => {
  const id = await newDoc('guarded')
  const other = await newDoc('other')
  const socket = hocuspocusSocket(server.hocuspocusURL)
  const good = await attach(socket, other, { token: ADMIN })
  const bad = await attach(socket, id, { token: 'not-a-token', waitSynced: false })
  const watcherSocket = hocuspocusSocket(server.hocuspocusURL)
  const watcher = await attach(watcherSocket, id, { token: ADMIN })
  try {
    await waitFor(() => bad.events.authenticationFailed.length === 1, 'permission denied')
    assert.match(bad.events.authenticationFailed[0], /token is not valid/)
    assert.equal(bad.isAuthenticated, false)
    bad.document.getText('body').insert(0, 'intruder')
    good.document.getText('body').insert(0, 'allowed')
    await waitFor(() => good.unsyncedChanges === 0, 'the good document is acknowledged')
    await sleep(500)
    assert.equal(text(watcher), '', 'nothing from the denied provider reached the document')
    assert.ok(bad.unsyncedChanges > 0, 'the denied provider was never told its edits were saved')
    const content = await (await fetch(`${server.url}/api/v1/docs/${id}/content?format=json`, { headers: { Authorization: `Bearer ${ADMIN}` } })).text()
    assert.doesNotMatch(content, /intruder/)
    assert.equal(socket.webSocket.readyState, 1, 'the shared socket is still open')
    assert.deepEqual(good.events.authenticated, ['read-write'])
  } finally {
    [good, bad, watcher].forEach(p => p.destroy())
    socket.destroy(); watcherSocket.destroy()
  }
})

test('a readonly scope receives the document but cannot write, and is told', async () => {
  const id = await newDoc('read only')
  const viewerToken = await share(id, 'viewer')
  const editorToken = await share(id, 'editor')
  const s1 = hocuspocusSocket(server.hocuspocusURL)
  const s2 = hocuspocusSocket(server.hocuspocusURL)
  const editor = await attach(s1, id, { token: editorToken })
  editor.document.getText('body').insert(0, 'written by the editor')
  await waitFor(() => editor.unsyncedChanges === 0, 'editor acknowledged')
  const viewer = await attach(s2, id, { token: viewerToken })
  try {
    assert.deepEqual(editor.events.authenticated, ['read-write'])
    assert.deepEqual(viewer.events.authenticated, ['readonly'])
    assert.equal(viewer.authorizedScope, 'readonly')
    assert.equal(text(viewer), 'written by the editor', 'the viewer receives the document')
    assert.equal(viewer.unsyncedChanges, 0, 'its empty step 2 was acknowledged')

    viewer.document.getText('body').insert(0, 'VIEWER ')
    editor.document.getText('body').insert(editor.document.getText('body').length, ', more')
    await waitFor(() => text(viewer) === 'VIEWER written by the editor, more', 'the viewer still receives edits')
    await sleep(500)
    assert.equal(text(editor), 'written by the editor, more', 'the viewer\'s edit was refused')
    assert.equal(viewer.unsyncedChanges, 1, 'SyncStatus told the viewer its edit was not saved')

    // Reconnecting pushes the viewer's edit again as sync step 2: refused again.
    s2.disconnect()
    await sleep(100)
    s2.connect()
    await waitFor(() => viewer.isAuthenticated && viewer.isSynced, 'viewer back')
    await sleep(500)
    assert.equal(text(editor), 'written by the editor, more')
    const content = await (await fetch(`${server.url}/api/v1/docs/${id}/content?format=json`, { headers: { Authorization: `Bearer ${ADMIN}` } })).text()
    assert.doesNotMatch(content, /VIEWER/)
  } finally {
    editor.destroy(); viewer.destroy(); s1.destroy(); s2.destroy()
  }
})

test('a share token opens only its own document', async () => {
  const id = await newDoc('mine')
  const elsewhere = await newDoc('elsewhere')
  const token = await share(id, 'editor')
  const socket = hocuspocusSocket(server.hocuspocusURL)
  const ok = await attach(socket, id, { token })
  const denied = await attach(socket, elsewhere, { token, waitSynced: false })
  try {
    await waitFor(() => denied.events.authenticationFailed.length === 1, 'denied')
    assert.match(denied.events.authenticationFailed[0], /only opens its own document/)
    ok.document.getText('body').insert(0, 'fine')
    await waitFor(() => ok.unsyncedChanges === 0, 'acknowledged')
  } finally {
    ok.destroy(); denied.destroy(); socket.destroy()
  }
})

test('deleting a document over REST closes it for its Hocuspocus clients only', async () => {
  const id = await newDoc('doomed')
  const keep = await newDoc('kept')
  const socket = hocuspocusSocket(server.hocuspocusURL)
  const doomed = await attach(socket, id, { token: ADMIN })
  const kept = await attach(socket, keep, { token: ADMIN })
  try {
    await rest('DELETE', `/docs/${id}`)
    await waitFor(() => doomed.events.close.length === 1, 'CLOSE for the deleted document')
    assert.match(doomed.events.close[0].reason, /deleted/)
    assert.equal(kept.events.close.length, 0)
    kept.document.getText('body').insert(0, 'still fine')
    await waitFor(() => kept.unsyncedChanges === 0, 'the other document is still served')
  } finally {
    doomed.destroy(); kept.destroy(); socket.destroy()
  }
})
