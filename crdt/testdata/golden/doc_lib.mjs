// Runs scenarios in real Yjs 13.6.33 (used by doc_gen.mjs and random_gen.mjs). Each
// scenario is a list of local operations made by replicas with fixed client
// ids; the Go tests replay the operations (checking the update each one
// produces) and apply the updates in the recorded delivery order to a fresh
// doc (checking encodeStateAsUpdate, the state vector and toJSON).
import * as Y from 'yjs'

const hex = (u8) => Buffer.from(u8).toString('hex')

// op: [replica, kind, ...args]
export function run (name, clients, ops, { deliver = 'inorder', gc = true, observe = null } = {}) {
  const docs = clients.map(id => { const d = new Y.Doc({ gc }); d.clientID = id; return d })
  const steps = []
  for (const op of ops) {
    if (observe) docs.forEach((d, i) => observe(i, d))
    const [r, kind, ...rawArgs] = op
    // Arguments may be functions of the replicas' current state.
    const args = rawArgs.map(a => typeof a === 'function' ? a() : a)
    if (kind === 'arrayDelete' && args[1] + args[2] > docs[r].getArray(args[0]).length) continue
    if (kind === 'textDelete' && docs[r].getText(args[0]).length === 0) continue // Yjs throws on it
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

