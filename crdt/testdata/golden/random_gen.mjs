// Generates random_golden.json: random scenarios in doc_golden.json's
// format (see doc_gen.mjs), with rich-text formatting, embeds, maps, arrays
// and concurrent replicas, so the Go tests replay many local edits and
// compare each update with Yjs'.
// Run: ln -s /tmp/yjs-src/node_modules node_modules && node random_gen.mjs > random_golden.json
import { run } from './doc_lib.mjs'

let seed = 20261125
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
const pick = (a) => a[Math.floor(rnd() * a.length)]
const int = (n) => Math.floor(rnd() * n)
const words = ['a', 'bc', 'def', ' ', '\n', 'é', 'ß', '漢字', '😀', 'hello ', 'xyz']
const attrs = [{ bold: true }, { italic: true }, { bold: null }, { color: '#f00' }, { color: '#0f0' }, { link: 'https://x.y' }, { bold: true, italic: true }, {}, { color: null, italic: null }]
// Go applies attribute keys in sorted order: keep the presets sorted, and
// hand Yjs a fresh object each time (it adds keys to the object it gets).
const pickAttrs = () => structuredClone(pick(attrs))

const out = []
for (let s = 0; s < 40; s++) {
  const nrep = 1 + int(3)
  const clients = Array.from({ length: nrep }, (_, i) => 100 + s * 10 + i)
  const lens = clients.map(() => 0) // approximate text length per replica (UTF-16)
  const alen = clients.map(() => 0)
  const ops = []
  for (let k = 0; k < 30; k++) {
    const r = int(nrep)
    const x = rnd()
    if (x < 0.12 && nrep > 1) {
      const o = (r + 1 + int(nrep - 1)) % nrep
      ops.push([r, 'sync', o]); continue
    }
    // lengths are re-read by run() through the callbacks below
    if (x < 0.45) ops.push([r, 'textInsert', 't', () => int(lens[r] + 1), pick(words), ...(rnd() < 0.4 ? [pickAttrs()] : [])])
    else if (x < 0.6) ops.push([r, 'textDelete', 't', () => int(lens[r] + 1), () => int(4)])
    else if (x < 0.75) ops.push([r, 'textFormat', 't', () => int(lens[r] + 1), () => 1 + int(6), pickAttrs()])
    else if (x < 0.8) ops.push([r, 'textEmbed', 't', () => int(lens[r] + 1), { image: pick(['a.png', 'b.png']) }, ...(rnd() < 0.5 ? [pickAttrs()] : [])])
    else if (x < 0.88) ops.push([r, 'mapSet', 'm', pick(['a', 'b', 'c']), pick([1, 'x', true, null, { n: 1 }, [1, 2], 2.5])])
    else if (x < 0.92) ops.push([r, 'mapDelete', 'm', pick(['a', 'b', 'c'])])
    else if (x < 0.97) ops.push([r, 'arrayInsert', 'arr', () => int(alen[r] + 1), [pick([1, 'y', false, { k: 'v' }])]])
    else ops.push([r, 'arrayDelete', 'arr', () => int(alen[r] + 1), () => 1])
  }
  out.push(run(`random-${s}`, clients, ops, {
    deliver: pick(['inorder', 'reverse', 'oddsfirst']),
    gc: rnd() < 0.8,
    observe: (r, doc) => { lens[r] = doc.getText('t').length; alen[r] = doc.getArray('arr').length },
  }))
}
console.log(JSON.stringify(out))
