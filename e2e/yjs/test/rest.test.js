// The REST API against live y-websocket clients: imports, restores, renames and deletes reach
// connected editors at once, as CRDT edits that lose nothing either side typed.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Server } from '../../lib/server.mjs'
import { connectClient, destroyAllClients, waitFor, Y } from '../lib/client.js'

let server
let api
before(async () => {
  server = await new Server().start()
  const base = server.wsBase.replace(/^ws:/, 'http:').replace(/\/ws$/, '')
  api = async (method, path, body, type) => {
    const headers = {}
    if (body !== undefined) headers['Content-Type'] = type || 'application/json'
    const res = await fetch(base + '/api/v1' + path, {
      method,
      headers,
      body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body))
    })
    const text = await res.text()
    let json
    try { json = JSON.parse(text) } catch {}
    return { status: res.status, text, json }
  }
})
after(async () => { destroyAllClients(); await server?.dispose() })

/** The plain text of each top-level block of the client's rich-text body (TipTap's "default"). */
function blocks (doc) {
  const text = (node) => node instanceof Y.XmlText
    ? node.toDelta().map(d => typeof d.insert === 'string' ? d.insert : '').join('')
    : node.toArray().map(text).join('')
  return doc.getXmlFragment('default').toArray().map(text)
}

test('a REST import reaches a typing y-websocket client within a second, and nothing is lost', async () => {
  const created = await api('POST', '/docs', { title: 'Live', content: 'Typed here:\n\nSecond.\n', format: 'markdown' })
  assert.equal(created.status, 201, created.text)
  const docID = created.json.id
  const c = await connectClient(server, docID, { name: 'typist' })
  await waitFor(() => blocks(c.doc).length === 2, { what: 'the client to receive the document' })
  assert.equal((await api('GET', `/docs/${docID}`)).json.editors, 1)

  // Type into the first paragraph, one character per transaction, while the import happens.
  let typed = ''
  let typing = true
  const typist = (async () => {
    for (let i = 0; typing; i++) {
      const ch = String.fromCharCode(97 + i % 26)
      const p = c.doc.getXmlFragment('default').get(0)
      const t = p.get(0)
      t.insert(t.length, ch)
      typed += ch
      await new Promise(resolve => setTimeout(resolve, 2))
    }
  })()
  let took
  try {
    await new Promise(resolve => setTimeout(resolve, 50))
    const started = Date.now()
    const put = await api('PUT', `/docs/${docID}/content?format=markdown&mode=append`, 'Imported **block**.\n', 'text/markdown')
    assert.equal(put.status, 200, put.text)
    await waitFor(() => blocks(c.doc).includes('Imported block.'), {
      timeout: 1000, what: 'the import to reach the client within a second', describe: () => JSON.stringify(blocks(c.doc))
    })
    took = Date.now() - started
    await new Promise(resolve => setTimeout(resolve, 50))
  } finally {
    typing = false
    await typist
  }

  const want = `Typed here:${typed}\n\nSecond.\n\nImported **block**.\n`
  await waitFor(async () => (await api('GET', `/docs/${docID}/content?format=markdown`)).text === want, {
    what: 'the server to hold every keystroke and the import'
  })
  await waitFor(() => blocks(c.seen).join('|') === blocks(c.doc).join('|'), { what: 'the client to be told everything is saved' })
  assert.deepEqual(blocks(c.doc), [`Typed here:${typed}`, 'Second.', 'Imported block.'])
  assert.ok(took < 1000, `import took ${took} ms`)
})

test('restore, rename and delete reach connected clients', async () => {
  const docID = (await api('POST', '/docs', { title: 'First', content: 'Version one.', format: 'text' })).json.id
  const c = await connectClient(server, docID, { name: 'viewer' })
  await waitFor(() => blocks(c.doc)[0] === 'Version one.', { what: 'the client to receive the document' })

  assert.equal((await api('PATCH', `/docs/${docID}`, { title: 'Second' })).status, 200)
  await waitFor(() => c.doc.getMap('meta').get('title') === 'Second', { what: 'the new title in the meta map' })

  const v = await api('POST', `/docs/${docID}/versions`, { name: 'v1' })
  assert.equal(v.status, 201, v.text)
  // The client rewrites the paragraph.
  const t = c.doc.getXmlFragment('default').get(0).get(0)
  c.doc.transact(() => { t.delete(0, t.length); t.insert(0, 'Rewritten.') })
  await waitFor(async () => (await api('GET', `/docs/${docID}/content?format=text`)).text === 'Rewritten.', { what: 'the server to have the edit' })
  const before = Y.encodeStateVector(c.doc)
  assert.equal((await api('POST', `/docs/${docID}/versions/${v.json.id}/restore`)).status, 200)
  await waitFor(() => blocks(c.doc)[0] === 'Version one.', { what: 'the restore to reach the client' })
  // A restore is a forward edit: the client's history is kept and it received new structs.
  assert.notDeepEqual(Y.encodeStateVector(c.doc), before)

  assert.equal((await api('DELETE', `/docs/${docID}`)).status, 204)
  await waitFor(() => c.closes.some(e => e.code === 4410), { what: 'the client to be closed with 4410' })
  assert.match(c.closes.find(e => e.code === 4410).reason, /deleted/)
  assert.equal((await api('GET', `/docs/${docID}`)).status, 404)
})
