// Generates doc_golden.json: scenarios run by real Yjs 13.6.33. Each
// scenario is a list of local operations made by replicas with fixed client
// ids; the Go tests replay the operations (checking the update each one
// produces) and apply the updates in the recorded delivery order to a fresh
// doc (checking encodeStateAsUpdate, the state vector and toJSON).
// Run: ln -s /tmp/yjs-src/node_modules node_modules && node doc_gen.mjs > doc_golden.json
import * as Y from 'yjs'

const hex = (u8) => Buffer.from(u8).toString('hex')

// op: [replica, kind, ...args]
function run (name, clients, ops, { deliver = 'inorder', gc = true } = {}) {
  const docs = clients.map(id => { const d = new Y.Doc({ gc }); d.clientID = id; return d })
  const steps = []
  for (const op of ops) {
    const [r, kind, ...args] = op
    const recorded = structuredClone(args) // Yjs mutates attribute objects
    const d = docs[r]
    let update = null
    const h = (u) => { update = update ? Y.mergeUpdates([update, u]) : u }
    d.on('update', h)
    if (kind === 'sync') {
      const other = docs[args[0]]
      const u = Y.encodeStateAsUpdate(other, Y.encodeStateVector(d))
      Y.applyUpdate(d, u)
      steps.push({ replica: r, op: kind, args, applied: hex(u) })
      d.off('update', h)
      continue
    }
    d.transact(() => {
      switch (kind) {
        case 'textInsert': d.getText(args[0]).insert(args[1], args[2], args[3]); break
        case 'textDelete': d.getText(args[0]).delete(args[1], args[2]); break
        case 'textFormat': d.getText(args[0]).format(args[1], args[2], args[3]); break
        case 'textEmbed': d.getText(args[0]).insertEmbed(args[1], args[2], args[3]); break
        case 'mapSet': d.getMap(args[0]).set(args[1], args[2]); break
        case 'mapDelete': d.getMap(args[0]).delete(args[1]); break
        case 'mapSetMap': d.getMap(args[0]).set(args[1], new Y.Map()); break
        case 'mapSetText': d.getMap(args[0]).set(args[1], new Y.Text()); break
        case 'arrayInsert': d.getArray(args[0]).insert(args[1], args[2]); break
        case 'arrayDelete': d.getArray(args[0]).delete(args[1], args[2]); break
        case 'xmlInsertElement': {
          const f = d.getXmlFragment(args[0])
          const parent = args[1] < 0 ? f : f.get(args[1])
          parent.insert(args[2], [new Y.XmlElement(args[3])])
          break
        }
        case 'xmlInsertText': {
          const f = d.getXmlFragment(args[0])
          const parent = args[1] < 0 ? f : f.get(args[1])
          parent.insert(args[2], [new Y.XmlText()])
          break
        }
        case 'xmlSetAttr': d.getXmlFragment(args[0]).get(args[1]).setAttribute(args[2], args[3]); break
        case 'xmlTextInsert': d.getXmlFragment(args[0]).get(args[1]).get(args[2]).insert(args[3], args[4], args[5]); break
        case 'xmlTextFormat': d.getXmlFragment(args[0]).get(args[1]).get(args[2]).format(args[3], args[4], args[5]); break
        default: throw new Error(kind)
      }
    })
    d.off('update', h)
    steps.push({ replica: r, op: kind, args: recorded, update: update ? hex(update) : null })
  }
  // Deliver every produced update to a fresh doc in the given order.
  const updates = steps.filter(s => s.update).map(s => s.update)
  let order = updates.map((_, i) => i)
  if (deliver === 'reverse') order = order.reverse()
  if (deliver === 'oddsfirst') order = order.filter(i => i % 2 === 1).concat(order.filter(i => i % 2 === 0))
  const fresh = new Y.Doc({ gc }); fresh.clientID = 999
  const types = {}
  for (const op of ops) {
    const kind = op[1]
    if (kind.startsWith('text')) types[op[2]] = 'text'
    if (kind.startsWith('map')) types[op[2]] = 'map'
    if (kind.startsWith('array')) types[op[2]] = 'array'
    if (kind.startsWith('xml')) types[op[2]] = 'xml'
  }
  for (const [n, t] of Object.entries(types)) {
    if (t === 'text') fresh.getText(n); if (t === 'map') fresh.getMap(n); if (t === 'array') fresh.getArray(n); if (t === 'xml') fresh.getXmlFragment(n)
  }
  const afterEach = []
  for (const i of order) {
    Y.applyUpdate(fresh, Buffer.from(updates[i], 'hex'))
    afterEach.push(hex(Y.encodeStateAsUpdate(fresh)))
  }
  const deltas = {}
  for (const [n, t] of Object.entries(types)) if (t === 'text') deltas[n] = fresh.getText(n).toDelta()
  return {
    name, gc, clients, types, steps, order, afterEach,
    replicaStates: docs.map(d => hex(Y.encodeStateAsUpdate(d))),
    state: hex(Y.encodeStateAsUpdate(fresh)),
    stateVector: hex(Y.encodeStateVector(fresh)),
    diffAgainstFirst: hex(Y.encodeStateAsUpdate(fresh, Y.encodeStateVector(docs[0]))),
    json: fresh.toJSON(),
    deltas,
  }
}

const out = []
out.push(run('text-basic', [1], [
  [0, 'textInsert', 't', 0, 'hello'], [0, 'textInsert', 't', 5, ' world'], [0, 'textDelete', 't', 2, 5],
  [0, 'textInsert', 't', 3, 'XY'], [0, 'textInsert', 't', 0, '>'], [0, 'textDelete', 't', 0, 3], [0, 'textInsert', 't', 1, 'héllo 😀!'],
]))
out.push(run('text-concurrent', [10, 20, 5], [
  [0, 'textInsert', 't', 0, 'abc'], [1, 'sync', 0], [2, 'sync', 0],
  [0, 'textInsert', 't', 1, 'X'], [1, 'textInsert', 't', 1, 'Y'], [2, 'textInsert', 't', 1, 'Z'],
  [1, 'textDelete', 't', 2, 2], [0, 'sync', 1], [0, 'sync', 2], [2, 'sync', 1], [2, 'textInsert', 't', 0, 'q'],
  [1, 'sync', 2], [1, 'textInsert', 't', 3, 'mm'], [0, 'textDelete', 't', 0, 1],
], { deliver: 'reverse' }))
out.push(run('map-array', [7, 3], [
  [0, 'mapSet', 'm', 'a', 1], [0, 'mapSet', 'm', 'b', 'str'], [0, 'mapSet', 'm', 'c', { a: 0.5, b: true, x: [1, 2, { y: null }] }],
  [1, 'mapSet', 'm', 'a', 2], [0, 'mapDelete', 'm', 'b'], [0, 'mapSetMap', 'm', 'nested'],
  [0, 'arrayInsert', 'arr', 0, [1, 2, 3]], [0, 'arrayInsert', 'arr', 1, ['x', new Uint8Array([1, 2])]], [1, 'arrayInsert', 'arr', 0, [true, false, null]],
  [0, 'arrayDelete', 'arr', 0, 2], [1, 'sync', 0], [1, 'arrayDelete', 'arr', 1, 3], [1, 'mapSet', 'm', 'big', 2 ** 40], [1, 'mapSet', 'm', 'f', -1.25],
], { deliver: 'oddsfirst' }))
out.push(run('text-format', [4, 8], [
  [0, 'textInsert', 't', 0, 'hello world'], [0, 'textFormat', 't', 0, 5, { bold: true }], [0, 'textInsert', 't', 2, 'XX'],
  [0, 'textInsert', 't', 0, 'plain', {}], [0, 'textFormat', 't', 3, 6, { italic: true, bold: null }], [1, 'sync', 0],
  [1, 'textFormat', 't', 1, 4, { bold: true }], [0, 'textFormat', 't', 2, 3, { bold: true }], [0, 'textEmbed', 't', 4, { image: 'a.png' }, { link: 'x' }],
  [1, 'textDelete', 't', 3, 4], [0, 'sync', 1], [1, 'sync', 0], [0, 'textInsert', 't', 6, 'new', { color: '#f00' }],
]))
out.push(run('xml', [11, 12], [
  [0, 'xmlInsertElement', 'default', -1, 0, 'paragraph'], [0, 'xmlInsertText', 'default', 0, 0], [0, 'xmlTextInsert', 'default', 0, 0, 0, 'Hello world'],
  [0, 'xmlTextFormat', 'default', 0, 0, 0, 5, { bold: {} }], [0, 'xmlInsertElement', 'default', -1, 1, 'heading'], [0, 'xmlSetAttr', 'default', 1, 'level', 2],
  [1, 'sync', 0], [1, 'xmlTextInsert', 'default', 0, 0, 5, '!!', { italic: {} }], [0, 'xmlTextInsert', 'default', 0, 0, 11, '.'],
]))
out.push(run('gc-off', [2], [
  [0, 'textInsert', 't', 0, 'abcdef'], [0, 'mapSetText', 'm', 'k'], [0, 'mapSetMap', 'm', 'k'], [0, 'textDelete', 't', 1, 3], [0, 'arrayInsert', 'a', 0, [1, 2]], [0, 'arrayDelete', 'a', 0, 1],
], { gc: false }))
out.push(run('gc-on-nested', [2], [
  [0, 'textInsert', 't', 0, 'abcdef'], [0, 'mapSetText', 'm', 'k'], [0, 'mapSetMap', 'm', 'k'], [0, 'textDelete', 't', 1, 3], [0, 'arrayInsert', 'a', 0, [1, 2]], [0, 'arrayDelete', 'a', 0, 1],
]))
out.push(run('pending', [30, 40], [
  [0, 'textInsert', 't', 0, 'one'], [1, 'sync', 0], [1, 'textInsert', 't', 3, ' two'], [0, 'sync', 1], [0, 'textInsert', 't', 7, ' three'],
  [1, 'sync', 0], [1, 'textDelete', 't', 0, 4], [0, 'textInsert', 't', 0, 'zero '],
], { deliver: 'reverse' }))
console.log(JSON.stringify(out, null, 1))
