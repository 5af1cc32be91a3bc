// apply.mjs applies updates produced elsewhere (by the Go CRDT) in real Yjs
// and prints what Yjs makes of them.
//
//   node apply.mjs IN.json [OUT.json]
//
// IN: {gc, roots: [{name, type}], replicas: [{updates: [base64…]}]}; each
// replica is a fresh Y.Doc that defines every root, then applies its
// updates in order. OUT (or stdout): {replicas: [{json, deltas, sv, state,
// pending}]} with the same meaning as the checks in the oracle corpus.
import * as Y from 'yjs'
import fs from 'node:fs'
import { unb64, snapshot, ROOT_TYPES } from './lib.mjs'

const [inFile, outFile] = process.argv.slice(2)
if (!inFile) throw new Error('usage: node apply.mjs IN.json [OUT.json]')
const input = JSON.parse(fs.readFileSync(inFile, 'utf8'))
const replicas = input.replicas.map(({ updates }) => {
  const doc = new Y.Doc({ gc: input.gc !== false })
  for (const { name, type } of input.roots) ROOT_TYPES[type](doc, name)
  for (const u of updates) Y.applyUpdate(doc, unb64(u))
  return snapshot(doc, input.roots)
})
const json = JSON.stringify({ replicas })
if (outFile) fs.writeFileSync(outFile, json)
else process.stdout.write(json + '\n')
