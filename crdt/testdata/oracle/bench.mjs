// bench.mjs measures Yjs 13.6.33 and ywasm 0.18 on the automerge-paper
// trace, the same work as crdt/bench_test.go, and (with --go FILE holding
// `go test -bench` output) prints Go/Yjs and Go/ywasm ratios.
//
//   node --expose-gc bench.mjs [--traces DIR] [--go go-bench.txt]
import * as Y from 'yjs'
import * as ywasm from 'ywasm'
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { findTraces, loadTrace, replaySequential } from './traces.mjs'

const args = process.argv.slice(2)
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : def
}
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc')

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
// time returns the median over runs; cold keeps the first run (JIT not warm).
const cold = {}
const time = (runs, fn, name) => {
  const ms = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    ms.push(performance.now() - t0)
  }
  cold[name] = ms[0]
  return median(ms)
}
const heapHeld = (make) => {
  global.gc(); global.gc()
  const before = process.memoryUsage()
  const keep = make()
  global.gc(); global.gc()
  const after = process.memoryUsage()
  return { keep, heap: after.heapUsed - before.heapUsed, external: (after.external + after.arrayBuffers) - (before.external + before.arrayBuffers) }
}

const trace = loadTrace(opt('traces', findTraces()), 'automerge-paper')

const results = {}
let doc
results.yjs_replay_ms = time(3, () => { doc = replaySequential(trace, 1) }, 'yjs_replay')
let update
results.yjs_encode_ms = time(60, () => { update = Y.encodeStateAsUpdate(doc) }, 'yjs_encode')
results.update_bytes = update.length
results.yjs_load_ms = time(40, () => {
  const d = new Y.Doc()
  Y.applyUpdate(d, update)
  if (d.getText('text').length === 0) throw new Error('empty')
}, 'yjs_load')
const held = heapHeld(() => {
  const d = new Y.Doc()
  Y.applyUpdate(d, update)
  return d
})
if (held.keep.getText('text').toString() !== trace.endContent) throw new Error('Yjs load lost content')
results.yjs_heap_bytes = held.heap

let wdoc
results.ywasm_load_ms = time(40, () => {
  wdoc = new ywasm.YDoc({})
  ywasm.applyUpdate(wdoc, update, null)
}, 'ywasm_load')
if (wdoc.getText('text').toString(undefined) !== trace.endContent) throw new Error('ywasm load lost content')
results.ywasm_encode_ms = time(60, () => { ywasm.encodeStateAsUpdate(wdoc) }, 'ywasm_encode')
const wheld = heapHeld(() => {
  const d = new ywasm.YDoc({})
  ywasm.applyUpdate(d, update, null)
  return d
})
results.ywasm_heap_bytes_js = wheld.heap // the wasm linear memory grows and is not measured here

const pad = (s, n) => String(s).padEnd(n)
console.log(`Yjs 13.6.33  replay ${results.yjs_replay_ms.toFixed(0)} ms   encode ${results.yjs_encode_ms.toFixed(1)} ms   load ${results.yjs_load_ms.toFixed(1)} ms   heap ${(results.yjs_heap_bytes / 1e6).toFixed(2)} MB   update ${results.update_bytes} bytes`)
console.log(`ywasm 0.18.3 encode ${results.ywasm_encode_ms.toFixed(1)} ms   load ${results.ywasm_load_ms.toFixed(1)} ms`)
console.log(`(medians; first, cold runs: Yjs encode ${cold.yjs_encode.toFixed(1)} ms, load ${cold.yjs_load.toFixed(1)} ms; ywasm encode ${cold.ywasm_encode.toFixed(1)} ms, load ${cold.ywasm_load.toFixed(1)} ms)`)

const goFile = opt('go', null)
if (goFile) {
  // go test -bench lines: BenchmarkName-N  iters  123 ns/op  [value unit]...
  const go = {}
  for (const line of fs.readFileSync(goFile, 'utf8').split('\n')) {
    const m = line.match(/^Benchmark(\w+?)(-\d+)?\s+\d+\s+(.*)$/)
    if (!m) continue
    const fields = m[3].trim().split(/\s+/)
    const vals = {}
    for (let i = 0; i + 1 < fields.length; i += 2) vals[fields[i + 1]] = Number(fields[i])
    go[m[1]] = vals
  }
  const ms = (name) => go[name] ? go[name]['ns/op'] / 1e6 : NaN
  const rows = [
    ['replay (local edits)', ms('ReplayAutomergePaper'), results.yjs_replay_ms, NaN],
    ['apply (one update)', ms('ApplyAutomergePaper'), results.yjs_load_ms, results.ywasm_load_ms],
    ['encode', ms('EncodeAutomergePaper'), results.yjs_encode_ms, results.ywasm_encode_ms],
    ['load (apply + read)', ms('LoadAutomergePaper'), results.yjs_load_ms, results.ywasm_load_ms]
  ]
  console.log('\n' + pad('automerge-paper', 22) + pad('Go ms', 10) + pad('Yjs ms', 10) + pad('ywasm ms', 10) + pad('Go/Yjs', 9) + 'Go/ywasm')
  for (const [name, g, y, w] of rows) {
    console.log(pad(name, 22) + pad(g.toFixed(1), 10) + pad(y.toFixed(1), 10) + pad(Number.isNaN(w) ? '-' : w.toFixed(1), 10) +
      pad((g / y).toFixed(2), 9) + (Number.isNaN(w) ? '-' : (g / w).toFixed(2)))
  }
  const goHeap = go.LoadAutomergePaper && go.LoadAutomergePaper['heap-bytes']
  if (goHeap) console.log(pad('heap held by doc', 22) + pad((goHeap / 1e6).toFixed(2) + 'MB', 10) + pad((results.yjs_heap_bytes / 1e6).toFixed(2) + 'MB', 10) + pad('-', 10) + (goHeap / results.yjs_heap_bytes).toFixed(2))
}
