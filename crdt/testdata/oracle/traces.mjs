// Replays of the editing traces in /work/shared/traces (josephg/editing-traces)
// with real Yjs, the same way crdt/trace_test.go replays them in Go.
import * as Y from 'yjs'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

export const loadTrace = (dir, name) => {
  const file = path.join(dir, `${name}.json.gz`)
  if (!fs.existsSync(file)) throw new Error(`trace ${file} is missing (expected shared/traces beside the repository)`)
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8'))
}

// findTraces looks for shared/traces beside the repository (or beside its
// parent, for git worktrees kept one level down).
export const findTraces = () => {
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..')
  for (const up of ['..', '../..']) {
    const dir = path.resolve(repo, up, 'shared/traces')
    if (fs.existsSync(dir)) return dir
  }
  return path.resolve(repo, '../shared/traces')
}

const hasAstral = (s) => /[\u{10000}-\u{10FFFF}]/u.test(s)

// utf16Pos converts a code-point position in s to a UTF-16 position.
const utf16Pos = (s, cp) => {
  let u = 0
  for (let c = 0; c < cp; c++) u += s.codePointAt(u) > 0xffff ? 2 : 1
  return u
}

// applyPatch applies one [pos, delCount, insText] patch (code points) to a
// Y.Text. astral says whether any astral characters can be present, so the
// common case skips the conversion walk.
export const applyPatch = (text, [pos, del, ins], astral) => {
  if (astral) {
    const s = text.toString()
    const from = utf16Pos(s, pos)
    const to = del > 0 ? from + utf16Pos(s.slice(from), del) : from
    if (to > from) text.delete(from, to - from)
    if (ins !== '') text.insert(from, ins)
    return
  }
  if (del > 0) text.delete(pos, del)
  if (ins !== '') text.insert(pos, ins)
}

const traceHasAstral = (t) => hasAstral(t.startContent || '') || t.txns.some(x => x.patches.some(p => hasAstral(p[2])))

// replaySequential makes one local transaction per patch on a Y.Text "text".
export const replaySequential = (trace, clientID) => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const text = doc.getText('text')
  const astral = traceHasAstral(trace)
  if (trace.startContent) doc.transact(() => text.insert(0, trace.startContent))
  for (const txn of trace.txns) {
    for (const p of txn.patches) doc.transact(() => applyPatch(text, p, astral))
  }
  return doc
}

// replayConcurrent replays a concurrent trace with one doc per agent. Before
// an agent's transaction, its doc receives (by update, in trace order) every
// transaction in the ancestry of the parents it has not seen; then the
// patches run as one local transaction. Finally each doc receives what it
// is missing, in trace order.
export const replayConcurrent = (trace, clientIDs) => {
  const astral = traceHasAstral(trace)
  const n = trace.numAgents
  const docs = clientIDs.slice(0, n).map(id => {
    const d = new Y.Doc()
    d.clientID = id
    d.getText('text')
    return d
  })
  const seen = docs.map(() => new Uint8Array(trace.txns.length))
  const updates = new Array(trace.txns.length)
  const catchUp = (a, roots) => {
    const missing = []
    const stack = [...roots]
    while (stack.length > 0) {
      const t = stack.pop()
      if (seen[a][t] === 2) continue
      if (seen[a][t] === 1) throw new Error(`agent ${a} applied txn ${t} twice`)
      seen[a][t] = 2 // marked as queued
      missing.push(t)
      for (const p of trace.txns[t].parents) stack.push(p)
    }
    missing.sort((x, y) => x - y)
    for (const t of missing) {
      if (trace.txns[t].agent === a) throw new Error(`agent ${a} lacks its own txn ${t}`)
      Y.applyUpdate(docs[a], updates[t])
    }
  }
  trace.txns.forEach((txn, i) => {
    const a = txn.agent
    catchUp(a, txn.parents)
    const text = docs[a].getText('text')
    let update = null
    const h = (u) => { update = u }
    docs[a].on('update', h)
    docs[a].transact(() => { for (const p of txn.patches) applyPatch(text, p, astral) })
    docs[a].off('update', h)
    updates[i] = update
    seen[a][i] = 2
  })
  const all = trace.txns.map((_, i) => i)
  for (let a = 0; a < n; a++) catchUp(a, all)
  return docs
}

const main = () => {
  const args = process.argv.slice(2)
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : def
  }
  const dir = opt('traces', findTraces())
  const mode = args[0]
  const out = opt('out', null)
  let result
  if (mode === 'sequential') {
    const trace = loadTrace(dir, opt('name', 'automerge-paper'))
    const doc = replaySequential(trace, Number(opt('client', '1')))
    const content = doc.getText('text').toString()
    if (content !== trace.endContent) throw new Error('Yjs replay does not give endContent')
    result = { content, sv: Buffer.from(Y.encodeStateVector(doc)).toString('base64'), state: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64') }
  } else if (mode === 'concurrent') {
    const trace = loadTrace(dir, opt('name', 'friendsforever'))
    const docs = replayConcurrent(trace, opt('clients', '1,2').split(',').map(Number))
    result = {
      replicas: docs.map(d => ({
        content: d.getText('text').toString(),
        sv: Buffer.from(Y.encodeStateVector(d)).toString('base64'),
        state: Buffer.from(Y.encodeStateAsUpdate(d)).toString('base64')
      }))
    }
    if (result.replicas.some(r => r.content !== trace.endContent)) throw new Error('Yjs replay does not give endContent')
  } else {
    throw new Error('usage: node traces.mjs sequential|concurrent [--name N] [--traces DIR] [--client ID | --clients A,B] [--out FILE]')
  }
  const json = JSON.stringify(result)
  if (out) fs.writeFileSync(out, json)
  else process.stdout.write(json + '\n')
}

if (import.meta.url === `file://${process.argv[1]}`) main()
