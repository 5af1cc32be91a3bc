// Generates doc_golden.json: scenarios run by real Yjs 13.6.33 (doc_lib.mjs).
// Run: ln -s /tmp/yjs-src/node_modules node_modules && node doc_gen.mjs > doc_golden.json
import { run } from './doc_lib.mjs'

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
// Splitting a surrogate pair leaves U+FFFD on both sides (Yjs ContentString.splice).
out.push(run('surrogate-split', [50, 60], [
  [0, 'textInsert', 't', 0, 'a😀b😀c'], [1, 'sync', 0], [0, 'textInsert', 't', 2, 'x'], [1, 'textDelete', 't', 4, 1],
  [1, 'textFormat', 't', 0, 2, { bold: true }], [0, 'sync', 1], [1, 'sync', 0],
]))
console.log(JSON.stringify(out, null, 1))
