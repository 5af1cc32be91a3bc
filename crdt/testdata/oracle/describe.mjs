// describe.mjs prints two v1 updates (expected from Yjs, actual from Go) as
// Yjs decodes them, struct by struct, and marks where they first differ.
// Go tests call it when bytes do not match.
//
//   node describe.mjs EXPECTED.bin ACTUAL.bin
import * as Y from 'yjs'
import fs from 'node:fs'

const describeContent = (c) => {
  const name = c.constructor.name
  if (c.str !== undefined) return `${name}(${JSON.stringify(c.str)})`
  if (c.arr !== undefined) return `${name}(${JSON.stringify(c.arr)})`
  if (c.key !== undefined) return `${name}(${JSON.stringify(c.key)}=${JSON.stringify(c.value)})`
  if (c.embed !== undefined) return `${name}(${JSON.stringify(c.embed)})`
  if (c.len !== undefined) return `${name}(len ${c.len})`
  if (c.type !== undefined) return `${name}(${c.type.constructor.name}${c.type.nodeName ? ' ' + c.type.nodeName : ''})`
  if (c.content !== undefined) return `${name}(${c.content.length} bytes)`
  return name
}
const id = (x) => x ? `${x.client}:${x.clock}` : '-'
const describeStruct = (s) => {
  const base = `${s.constructor.name} ${id(s.id)} len ${s.length}`
  if (s.constructor.name !== 'Item') return base
  const parent = s.parent === null ? '-' : (typeof s.parent === 'string' ? `root ${JSON.stringify(s.parent)}` : id(s.parent))
  return `${base} origin ${id(s.origin)} rightOrigin ${id(s.rightOrigin)} parent ${parent}${s.parentSub !== null ? ' sub ' + JSON.stringify(s.parentSub) : ''} ${describeContent(s.content)}`
}
const describe = (bytes) => {
  try {
    const { structs, ds } = Y.decodeUpdate(bytes)
    const lines = structs.map(describeStruct)
    const del = []
    ds.clients.forEach((items, client) => { for (const it of items) del.push(`${client}:${it.clock}+${it.len}`) })
    lines.push(`deletes ${del.join(' ') || '-'}`)
    return lines
  } catch (e) {
    return [`(Yjs cannot decode it: ${e.message})`]
  }
}

const [expFile, actFile] = process.argv.slice(2)
const exp = describe(new Uint8Array(fs.readFileSync(expFile)))
const act = describe(new Uint8Array(fs.readFileSync(actFile)))
let first = -1
for (let i = 0; i < Math.max(exp.length, act.length); i++) {
  if (exp[i] !== act[i]) { first = i; break }
}
if (first < 0) {
  console.log('Yjs decodes both to the same structs and deletes (the difference is in encoding only)')
} else {
  console.log(`first differing struct line: #${first}`)
  const from = Math.max(0, first - 3)
  console.log('expected (Yjs):')
  for (let i = from; i < Math.min(exp.length, first + 4); i++) console.log(`${i === first ? '>' : ' '} ${i}: ${exp[i]}`)
  console.log('actual (Go):')
  for (let i = from; i < Math.min(act.length, first + 4); i++) console.log(`${i === first ? '>' : ' '} ${i}: ${act[i]}`)
  console.log(`(${exp.length} vs ${act.length} lines)`)
}
