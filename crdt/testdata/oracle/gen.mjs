// gen.mjs generates random multi-client Yjs editing sessions and records
// what real Yjs 13.6.33 does with them, for Quire's Go CRDT to reproduce.
//
//   node gen.mjs --seed S --sessions N --out DIR [--start K] [--gzip-level L]
//
// writes DIR/seed-S.jsonl.gz (sessions K..K+N-1; -from-K in the name when
// K > 0): one JSON session per line (format in
// README.md next to this file). Same seed, same bytes.
import * as Y from 'yjs'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { makeRng, b64, snapshot, content, hasPending, ROOT_TYPES } from './lib.mjs'

const REMOTE = 'remote'
const LOCAL = 'local'
// Mirrors use a client id no session uses, so applying their own
// replica's updates as remote ones never trips Yjs' id-collision rule.
const MIRROR_CLIENT = 424242

const WORDS = [
  'the', 'quick', 'brown', 'fox', ' ', ' ', '\n', 'Lorem', 'ipsum', 'é', 'ü', 'ß', 'naïve',
  '漢字', 'かな', '한국어', 'Ω', '😀', '👍🏽', '🎉', '𝄞', 'e\u0301', '—', '"quoted"', '<tag>', '&amp;', 'tab\t'
]
const TEXT_ATTRS = [
  { bold: true }, { italic: true }, { bold: null }, { italic: null }, { color: '#c00' }, { color: '#0a0' },
  { color: null }, { link: 'https://example.com/a' }, { bold: true, italic: true }, { size: 12 }
]
const XML_MARKS = [
  { bold: {} }, { italic: {} }, { bold: null }, { italic: null }, { link: { href: 'https://quire.example/x', target: '_blank' } },
  { link: null }, { code: {} }, { bold: {}, italic: {} }
]
const EMBEDS = [{ image: 'https://example.com/cat.png' }, { formula: 'e=mc^2' }, { video: { src: 'v.mp4', w: 640 } }, { hr: true }]
const MAP_KEYS = ['a', 'b', 'c', 'title', 'count', 'nested', 'list', 'ü-key', '']

const randomString = (rng) => {
  const n = rng.int(1, 4)
  let s = ''
  for (let i = 0; i < n; i++) s += rng.pick(WORDS)
  return s
}

const randomAny = (rng, depth = 0) => {
  switch (rng.int(0, 11)) {
    case 0: return rng.int(-5, 100)
    case 1: return rng.pick([0.5, -2.25, 1.1, 3.14159, 1e21, 2 ** 40, -(2 ** 33), 2 ** 31, -(2 ** 31)])
    case 2: return randomString(rng)
    case 3: return rng.bool()
    case 4: return null
    case 5: return depth < 2 ? [randomAny(rng, depth + 1), randomAny(rng, depth + 1)] : 7
    case 6: return depth < 2 ? { k: randomAny(rng, depth + 1), z: 'v', a: rng.int(0, 9) } : 'leaf'
    case 7: return new Uint8Array([rng.int(0, 255), rng.int(0, 255), 0, 255].slice(0, rng.int(0, 4)))
    case 8: return ''
    case 9: return rng.int(0, 2 ** 31)
    case 10: return 'x'.repeat(rng.int(0, 3))
    default: return rng.int(0, 1000)
  }
}

// randomValue is a Map/Array value: mostly plain JSON, sometimes a nested
// shared type (prelim, so it may carry initial content).
const randomValue = (rng, depth) => {
  if (depth < 3 && rng.bool(0.3)) {
    switch (rng.int(0, 2)) {
      case 0: {
        const m = new Y.Map()
        if (rng.bool()) m.set(rng.pick(MAP_KEYS), randomAny(rng))
        return m
      }
      case 1: {
        const a = new Y.Array()
        if (rng.bool()) a.push([randomAny(rng), randomAny(rng)])
        return a
      }
      default: return new Y.Text(rng.bool() ? randomString(rng) : undefined)
    }
  }
  return randomAny(rng)
}

// Text positions: UTF-16 units, embeds count one. When allowSplit is false
// positions never fall inside a surrogate pair.
const textUnits = (t) => {
  let s = ''
  for (const op of t.toDelta()) s += typeof op.insert === 'string' ? op.insert : '\u0001'
  return s
}
const boundaries = (t, allowSplit) => {
  const s = textUnits(t)
  const out = []
  for (let i = 0; i <= s.length; i++) {
    if (!allowSplit && i > 0 && i < s.length) {
      const hi = s.charCodeAt(i - 1); const lo = s.charCodeAt(i)
      if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) continue
    }
    out.push(i)
  }
  return out
}
// splitPoints are the positions inside surrogate pairs (surrogate sessions
// aim there on purpose).
const splitPoints = (t) => {
  const s = textUnits(t)
  const out = []
  for (let i = 1; i < s.length; i++) {
    const hi = s.charCodeAt(i - 1); const lo = s.charCodeAt(i)
    if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) out.push(i)
  }
  return out
}
const randomPos = (rng, t, allowSplit) => {
  if (allowSplit && rng.bool(0.5)) {
    const sp = splitPoints(t)
    if (sp.length > 0) return rng.pick(sp)
  }
  return rng.pick(boundaries(t, allowSplit))
}
const randomRange = (rng, t, allowSplit) => {
  const b = boundaries(t, allowSplit)
  if (b.length < 2) return null
  if (allowSplit && rng.bool(0.5)) {
    const sp = splitPoints(t)
    if (sp.length > 0) {
      const p = rng.pick(sp)
      if (rng.bool()) return [p, Math.min(rng.int(1, 3), t.length - p)]
      const start = Math.max(0, p - rng.int(1, 3))
      return [start, p - start]
    }
  }
  const i = rng.int(0, b.length - 2)
  const maxSpan = rng.bool(0.1) ? b.length : 6
  const j = rng.int(i + 1, Math.min(b.length - 1, i + maxSpan))
  return [b[i], b[j] - b[i]]
}

const textOp = (rng, t, xml, allowSplit) => {
  const attrs = xml ? XML_MARKS : TEXT_ATTRS
  const r = rng.int(0, 9)
  if (r <= 4 || t.length === 0) {
    const pos = randomPos(rng, t, allowSplit)
    if (!xml && rng.bool(0.12)) {
      t.insertEmbed(pos, rng.pick(EMBEDS), rng.bool(0.3) ? rng.pick(attrs) : undefined)
    } else if (rng.bool(0.4)) {
      t.insert(pos, randomString(rng), rng.bool(0.3) ? {} : rng.pick(attrs))
    } else {
      t.insert(pos, randomString(rng))
    }
  } else if (r <= 7) {
    const range = randomRange(rng, t, allowSplit)
    if (range) t.delete(range[0], range[1])
  } else {
    const range = randomRange(rng, t, allowSplit)
    if (range) t.format(range[0], range[1], rng.pick(attrs))
  }
}

const mapOp = (rng, m, depth) => {
  if (m.size > 0 && rng.bool(0.25)) {
    m.delete(rng.pick([...m.keys()]))
  } else {
    m.set(rng.pick(MAP_KEYS), randomValue(rng, depth))
  }
}

const arrayOp = (rng, a, depth) => {
  const r = rng.int(0, 9)
  if (r <= 5 || a.length === 0) {
    const vals = []
    for (let i = rng.int(1, 3); i > 0; i--) vals.push(randomValue(rng, depth))
    if (rng.bool(0.2)) a.push(vals)
    else a.insert(rng.int(0, a.length), vals)
  } else {
    const i = rng.int(0, a.length - 1)
    a.delete(i, rng.int(1, Math.min(3, a.length - i)))
  }
}

// Xml trees follow y-prosemirror's shape: fragment "default" of block
// elements; paragraphs/headings hold XmlText with marks as attributes.
const newBlock = (rng, container, depth) => {
  const kind = container === 'bulletList' ? 'listItem' : rng.pick(['paragraph', 'paragraph', 'heading', depth < 3 ? 'bulletList' : 'paragraph', depth < 3 ? 'blockquote' : 'paragraph'])
  const el = new Y.XmlElement(kind)
  if (kind === 'heading') el.setAttribute('level', rng.int(1, 3))
  if (kind === 'paragraph' && rng.bool(0.3)) el.setAttribute('textAlign', rng.pick(['left', 'center']))
  if (kind === 'paragraph' || kind === 'heading') {
    el.insert(0, [new Y.XmlText(rng.bool(0.8) ? randomString(rng) : undefined)])
  } else if (kind === 'bulletList') {
    const li = new Y.XmlElement('listItem')
    const p = new Y.XmlElement('paragraph')
    p.insert(0, [new Y.XmlText(randomString(rng))])
    li.insert(0, [p])
    el.insert(0, [li])
  } else {
    const p = new Y.XmlElement('paragraph')
    p.insert(0, [new Y.XmlText(randomString(rng))])
    el.insert(0, [p])
  }
  return el
}

const xmlContainerOp = (rng, x, depth) => {
  const name = x instanceof Y.XmlElement ? x.nodeName : 'default'
  if (name === 'paragraph' || name === 'heading') {
    const r = rng.int(0, 5)
    if (r === 0) x.setAttribute('textAlign', rng.pick(['left', 'right', 'center']))
    else if (r === 1) x.removeAttribute('textAlign')
    else if (r === 2 && name === 'heading') x.setAttribute('level', rng.int(1, 6))
    else if (r === 3 && x.length < 6) {
      // a hard break followed by more text, as ProseMirror stores it
      x.insert(x.length, [new Y.XmlElement('hardBreak'), new Y.XmlText(randomString(rng))])
    } else if (x.length > 1) {
      x.delete(rng.int(0, x.length - 1), 1)
    } else {
      x.insert(x.length, [new Y.XmlText(randomString(rng))])
    }
    return
  }
  if (x.length > 0 && rng.bool(0.3)) {
    const i = rng.int(0, x.length - 1)
    x.delete(i, rng.int(1, Math.min(2, x.length - i)))
  } else {
    x.insert(rng.int(0, x.length), [newBlock(rng, name, depth)])
  }
}

// liveTypes lists every shared type reachable from the roots, with depth.
const liveTypes = (doc, roots) => {
  const out = []
  const visit = (t, depth) => {
    out.push({ t, depth })
    if (t instanceof Y.Map) {
      for (const v of t.values()) if (v instanceof Y.AbstractType) visit(v, depth + 1)
    } else if (t instanceof Y.Array) {
      for (const v of t.toArray()) if (v instanceof Y.AbstractType) visit(v, depth + 1)
    } else if (t instanceof Y.XmlFragment) {
      for (const v of t.toArray()) if (!(v instanceof Y.XmlElement && v.nodeName === 'hardBreak')) visit(v, depth + 1)
    }
  }
  for (const { name, type } of roots) visit(ROOT_TYPES[type](doc, name), 0)
  return out
}

const randomEdit = (rng, doc, roots, allowSplit) => {
  const types = liveTypes(doc, roots)
  const { t, depth } = rng.pick(types)
  if (t instanceof Y.XmlText) textOp(rng, t, true, allowSplit)
  else if (t instanceof Y.Text) textOp(rng, t, false, allowSplit)
  else if (t instanceof Y.Map) mapOp(rng, t, depth)
  else if (t instanceof Y.Array) arrayOp(rng, t, depth)
  else if (t instanceof Y.XmlFragment) xmlContainerOp(rng, t, depth)
}

const clientIds = (rng, n) => {
  const ids = new Set()
  while (ids.size < n) {
    const r = rng.int(0, 9)
    let id
    if (r <= 1) id = rng.int(0, 40)
    else if (r === 2) id = 0xffffffff - rng.int(0, 5)
    else if (r === 3) id = 2 ** 31 + rng.int(-2, 2)
    else if (r === 4) id = rng.int(128, 20000) // two/three-byte varints
    else if (r === 5 && rng.bool(0.3)) id = 2 ** 32 + rng.int(0, 2 ** 20) * 1024 // beyond uint32
    else id = rng.u32()
    if (id !== MIRROR_CLIENT) ids.add(id)
  }
  return [...ids]
}

export const generateSession = (seed, index, opts = {}) => {
  const rng = makeRng(`quire-oracle:${seed}:${index}`)
  const kind = opts.kind || (index % 10 === 9 ? 'surrogate' : 'random')
  const allowSplit = kind === 'surrogate'
  const n = rng.int(3, 5)
  const clients = clientIds(rng, n)
  const gc = rng.bool(0.85)
  const roots = [
    { name: 'text', type: 'Text' },
    { name: 'map', type: 'Map' },
    { name: 'array', type: 'Array' },
    { name: 'default', type: 'XmlFragment' }
  ]
  if (rng.bool(0.3)) roots.push({ name: 'notes', type: 'Text' })
  const activeRoots = allowSplit ? roots.filter(r => r.type === 'Text' || r.type === 'XmlFragment') : roots

  const updates = [] // Uint8Array
  const logs = clients.map(() => [])
  const checks = clients.map(() => []) // step counts at which to snapshot
  const online = clients.map(() => true)
  // chan[i][j]: update indexes sent by i, not yet delivered to j.
  const chan = clients.map(() => clients.map(() => []))
  const docs = clients.map((id) => {
    const d = new Y.Doc({ gc })
    d.clientID = id
    for (const { name, type } of roots) ROOT_TYPES[type](d, name)
    return d
  })
  const addUpdate = (u) => { updates.push(u); return updates.length - 1 }
  const broadcast = (i, k) => { for (let j = 0; j < n; j++) if (j !== i) chan[i][j].push(k) }
  docs.forEach((d, i) => {
    d.on('update', (u, origin) => {
      if (origin === REMOTE) return
      // a local edit, or the formatting cleanup Yjs runs after remote changes
      const k = addUpdate(u)
      logs[i].push(k)
      broadcast(i, k)
    })
  })
  const apply = (j, k) => {
    logs[j].push(k)
    Y.applyUpdate(docs[j], updates[k], REMOTE)
  }
  const linkUp = (i, j) => online[i] && online[j]
  const upLinks = () => {
    const out = []
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && linkUp(i, j) && chan[i][j].length > 0) out.push([i, j])
    return out
  }
  // deliverOne hands j one message from i, picked at random (so out of
  // order), sometimes keeping a copy to deliver again later.
  const deliverOne = (i, j) => {
    const q = chan[i][j]
    const p = rng.int(0, q.length - 1)
    const k = q[p]
    if (!rng.bool(0.12)) q.splice(p, 1)
    apply(j, k)
  }
  // deliverBatch merges everything i has for j with Y.mergeUpdates.
  const deliverBatch = (i, j) => {
    const q = chan[i][j].splice(0)
    rng.shuffle(q)
    apply(j, addUpdate(Y.mergeUpdates(q.map(k => updates[k]))))
  }
  // syncBySV is y-protocols' sync step 2 in both directions.
  // Messages queued before the exchange are covered by it and are mostly
  // dropped; clean-up updates the exchange itself causes are kept.
  const syncBySV = (i, j) => {
    const toJ = Y.encodeStateAsUpdate(docs[i], Y.encodeStateVector(docs[j]))
    const toI = Y.encodeStateAsUpdate(docs[j], Y.encodeStateVector(docs[i]))
    const queuedIJ = chan[i][j].length
    const queuedJI = chan[j][i].length
    apply(j, addUpdate(toJ))
    apply(i, addUpdate(toI))
    if (rng.bool(0.7)) { chan[i][j].splice(0, queuedIJ); chan[j][i].splice(0, queuedJI) }
  }
  const flush = () => {
    for (let links = upLinks(); links.length > 0; links = upLinks()) {
      const [i, j] = rng.pick(links)
      if (rng.bool(0.1) && chan[i][j].length > 1) deliverBatch(i, j)
      else deliverOne(i, j)
    }
  }
  const edit = (i) => {
    const ops = rng.bool(0.1) ? rng.int(4, 10) : rng.int(1, 3)
    docs[i].transact(() => {
      for (let o = 0; o < ops; o++) randomEdit(rng, docs[i], activeRoots, allowSplit)
    }, LOCAL)
  }

  const phases = rng.int(2, 3)
  for (let ph = 0; ph < phases; ph++) {
    const last = ph === phases - 1
    const wasOnline = online.slice()
    for (let i = 0; i < n; i++) online[i] = last || rng.bool(0.65)
    // reconnecting replicas sometimes catch up by state vector
    for (let i = 0; i < n; i++) {
      if (online[i] && !wasOnline[i]) {
        for (let j = 0; j < n; j++) if (j !== i && online[j] && rng.bool(0.4)) syncBySV(i, j)
      }
    }
    const steps = last ? rng.int(5, 20) : rng.int(15, 45)
    for (let s = 0; s < steps; s++) {
      const links = upLinks()
      if (links.length > 0 && rng.bool(0.5)) {
        const [i, j] = rng.pick(links)
        deliverOne(i, j)
      } else {
        edit(rng.int(0, n - 1))
      }
      if (rng.bool(0.03)) { const i = rng.int(0, n - 1); checks[i].push(logs[i].length) }
    }
    flush()
    for (let i = 0; i < n; i++) checks[i].push(logs[i].length)
  }

  // Yjs can leave a replica waiting on pending structs although every update
  // reached it (after Y.mergeUpdates batches; minimal case in
  // crdt/oracle_test.go TestOracleStuckPending). A state-vector exchange, as
  // a reconnect does, settles it; the checks before it record the stuck
  // state.
  let resyncs = 0
  while (docs.some(hasPending) && resyncs < 3) {
    resyncs++
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const toJ = Y.encodeStateAsUpdate(docs[i], Y.encodeStateVector(docs[j]))
        const toI = Y.encodeStateAsUpdate(docs[j], Y.encodeStateVector(docs[i]))
        apply(j, addUpdate(toJ))
        apply(i, addUpdate(toI))
      }
    }
    flush() // clean-up updates the exchange caused
    for (let i = 0; i < n; i++) checks[i].push(logs[i].length)
  }

  // Originals must agree once everything is delivered (except where the
  // surrogate rule is in play: that is what the surrogate sessions record).
  const finalJSON = docs.map(d => JSON.stringify(content(d, roots)))
  const converged = finalJSON.every(j => j === finalJSON[0])
  if (!converged && kind !== 'surrogate') {
    const detail = finalJSON.map((j, i) => `  replica ${i} (client ${clients[i]}) pending ${hasPending(docs[i])} sv ${JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(docs[i]))])}: ${j.slice(0, 300)}`).join('\n')
    throw new Error(`session ${seed}:${index}: Yjs replicas did not converge\n${detail}`)
  }

  // Expected results come from mirrors that apply exactly the logged
  // updates in the logged order, which is what a Go replica does.
  const replicas = clients.map((id, i) => {
    const m = new Y.Doc({ gc })
    m.clientID = MIRROR_CLIENT
    for (const { name, type } of roots) ROOT_TYPES[type](m, name)
    const out = []
    let done = 0
    const at = [...new Set(checks[i])].sort((a, b) => a - b)
    for (const step of at) {
      for (; done < step; done++) Y.applyUpdate(m, updates[logs[i][done]], REMOTE)
      out.push({ after: step, ...snapshot(m, roots) })
    }
    const mirrorJSON = JSON.stringify(content(m, roots))
    return { client: id, steps: logs[i], checks: out, localMatchesMirror: mirrorJSON === finalJSON[i] }
  })

  // Expectations for the raw-update API.
  const raw = []
  const own = []
  for (let i = 0; i < n; i++) for (const k of logs[i]) if (!own.includes(k)) own.push(k)
  for (let c = 0; c < 3 && updates.length > 1; c++) {
    const inputs = []
    for (let m = rng.int(2, 6); m > 0; m--) inputs.push(rng.int(0, updates.length - 1))
    raw.push({ op: 'merge', inputs, out: b64(Y.mergeUpdates(inputs.map(k => updates[k]))) })
  }
  const all = rng.shuffle(updates.map((_, k) => k))
  raw.push({ op: 'merge', inputs: all, out: b64(Y.mergeUpdates(all.map(k => updates[k]))) })
  const mergedAll = raw.length - 1
  const svs = replicas.flatMap(r => r.checks.map(c => c.sv))
  svs.push(b64(new Uint8Array([0])))
  for (let c = 0; c < 3; c++) {
    const sv = rng.pick(svs)
    if (c === 0) {
      raw.push({ op: 'diff', input: { merge: mergedAll }, sv, out: b64(Y.diffUpdate(Y.mergeUpdates(all.map(k => updates[k])), Buffer.from(sv, 'base64'))) })
    } else {
      const k = rng.int(0, updates.length - 1)
      raw.push({ op: 'diff', input: { update: k }, sv, out: b64(Y.diffUpdate(updates[k], Buffer.from(sv, 'base64'))) })
    }
  }
  raw.push({ op: 'sv', input: { merge: mergedAll }, out: b64(Y.encodeStateVectorFromUpdate(Y.mergeUpdates(all.map(k => updates[k])))) })
  for (let c = 0; c < 2; c++) {
    const k = rng.int(0, updates.length - 1)
    raw.push({ op: 'sv', input: { update: k }, out: b64(Y.encodeStateVectorFromUpdate(updates[k])) })
  }

  return {
    id: `${seed}:${index}`,
    kind,
    gc,
    roots,
    converged,
    resyncs,
    updates: updates.map(b64),
    replicas,
    raw
  }
}

const main = () => {
  const args = process.argv.slice(2)
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : def
  }
  const seed = opt('seed', '1')
  const start = Number(opt('start', '0'))
  const sessions = Number(opt('sessions', '10'))
  const outDir = opt('out', '.')
  const level = Number(opt('gzip-level', '9'))
  fs.mkdirSync(outDir, { recursive: true })
  const lines = []
  for (let i = start; i < start + sessions; i++) lines.push(JSON.stringify(generateSession(seed, i)))
  const file = path.join(outDir, start === 0 ? `seed-${seed}.jsonl.gz` : `seed-${seed}-from-${start}.jsonl.gz`)
  fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n', { level }))
  process.stdout.write(`${file}\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) main()
