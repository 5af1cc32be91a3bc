// jssort.mjs prints how V8's Array.prototype.sort orders arrays under an
// inconsistent comparator shaped like the one Yjs' mergeUpdates uses, so
// crdt/updates_sort_test.go can check jsSort against it.
//
//   node jssort.mjs SEED COUNT
import { makeRng } from './lib.mjs'

const [seed = '1', count = '200'] = process.argv.slice(2)
const rng = makeRng(`jssort:${seed}`)
const cases = []
for (let c = 0; c < Number(count); c++) {
  const n = rng.bool(0.5) ? rng.int(0, 20) : rng.int(20, 400)
  const keys = rng.int(1, Math.max(1, n >> rng.int(0, 4)))
  // [client, clock, kind]: kind 0 GC, 1 Item, 2 Skip
  const items = []
  for (let i = 0; i < n; i++) items.push([rng.int(0, 3), rng.int(0, keys), rng.int(0, 2)])
  if (rng.bool(0.4)) {
    // long natural runs (ascending or descending, a few swaps) make
    // TimSort gallop
    items.sort((a, b) => (b[0] - a[0]) || (a[1] - b[1]))
    if (rng.bool(0.3)) items.reverse()
    for (let s = rng.int(0, 5); s > 0 && n > 1; s--) {
      const i = rng.int(0, n - 1); const j = rng.int(0, n - 1)
      const t = items[i]; items[i] = items[j]; items[j] = t
    }
  }
  const sorted = items.map((v, i) => ({ v, i }))
  sorted.sort((a, b) => {
    const [c1, k1, t1] = a.v
    const [c2, k2, t2] = b.v
    if (c1 === c2) {
      const d = k1 - k2
      if (d === 0) return t1 === t2 ? 0 : (t1 === 2 ? 1 : -1)
      return d
    }
    return c2 - c1
  })
  cases.push({ items, order: sorted.map(x => x.i) })
}
process.stdout.write(JSON.stringify(cases))
