// Generates lib0_golden.json: lib0 encodings of sample values, made by real lib0.
// Run: ln -s /tmp/yjs-src/node_modules node_modules && node lib0_gen.mjs > lib0_golden.json
// (with yjs@13.6.33 and lib0 installed under /tmp/yjs-src).
import * as encoding from 'lib0/encoding'

const hex = (u8) => Buffer.from(u8).toString('hex')
const enc = (f) => { const e = encoding.createEncoder(); f(e); return hex(encoding.toUint8Array(e)) }

const out = {
  varUint: [0, 1, 127, 128, 300, 16383, 16384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER].map(v => ({ v: String(v), hex: enc(e => encoding.writeVarUint(e, v)) })),
  varInt: [0, -0, 1, -1, 63, -63, 64, -64, 8191, 8192, -8192, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40)].map(v => ({ v: Object.is(v, -0) ? '-0' : String(v), hex: enc(e => encoding.writeVarInt(e, v)) })),
  varString: ['', 'a', 'héllo', '日本語', '😀x', '\ud800'].map(v => ({ v, hex: enc(e => encoding.writeVarString(e, v)) })),
  any: {
    undefined: enc(e => encoding.writeAny(e, undefined)),
    null: enc(e => encoding.writeAny(e, null)),
    true: enc(e => encoding.writeAny(e, true)),
    false: enc(e => encoding.writeAny(e, false)),
    int0: enc(e => encoding.writeAny(e, 0)),
    negzero: enc(e => encoding.writeAny(e, -0)),
    int42: enc(e => encoding.writeAny(e, 42)),
    intneg: enc(e => encoding.writeAny(e, -123456)),
    intmax31: enc(e => encoding.writeAny(e, 2 ** 31 - 1)),
    int2p31: enc(e => encoding.writeAny(e, 2 ** 31)),
    int2p40: enc(e => encoding.writeAny(e, 2 ** 40)),
    float05: enc(e => encoding.writeAny(e, 0.5)),
    float01: enc(e => encoding.writeAny(e, 0.1)),
    inf: enc(e => encoding.writeAny(e, Infinity)),
    nan: enc(e => encoding.writeAny(e, NaN)),
    bigint: enc(e => encoding.writeAny(e, -5n)),
    string: enc(e => encoding.writeAny(e, 'hi ✓')),
    bytes: enc(e => encoding.writeAny(e, new Uint8Array([1, 2, 255]))),
    array: enc(e => encoding.writeAny(e, [1, 'a', null, [true]])),
    object: enc(e => encoding.writeAny(e, { a: { x: [] }, b: 1, 10: 'ten', 2: 'two' })),
  },
}
console.log(JSON.stringify(out, null, 1))
