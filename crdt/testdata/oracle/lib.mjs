// Shared helpers for the oracle scripts: seeded PRNG, canonical JSON of Yjs
// content, base64.
import * as Y from 'yjs'

// sfc32 seeded through a string hash: small, fast and identical everywhere.
export const makeRng = (seedText) => {
  let h = 1779033703 ^ seedText.length
  for (let i = 0; i < seedText.length; i++) {
    h = Math.imul(h ^ seedText.charCodeAt(i), 3432918353)
    h = (h << 13) | (h >>> 19)
  }
  const next = () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507)
    h = Math.imul(h ^ (h >>> 13), 3266489909)
    return (h ^= h >>> 16) >>> 0
  }
  let a = next(); let b = next(); let c = next(); let d = next()
  const u32 = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) u32()
  const rng = {
    u32,
    float: () => u32() / 4294967296,
    int: (lo, hi) => lo + Math.floor(rng.float() * (hi - lo + 1)), // inclusive
    bool: (p = 0.5) => rng.float() < p,
    pick: (arr) => arr[Math.floor(rng.float() * arr.length)],
    shuffle: (arr) => {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = Math.floor(rng.float() * (i + 1))
        const t = arr[i]; arr[i] = arr[j]; arr[j] = t
      }
      return arr
    }
  }
  return rng
}

export const b64 = (u8) => Buffer.from(u8).toString('base64')
export const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'))

// canon turns a toJSON() value into plain JSON with sorted object keys;
// binary values become {"$bin": base64} so Go can produce the same shape.
export const canon = (v) => {
  if (v instanceof Uint8Array) return { $bin: b64(v) }
  if (Array.isArray(v)) return v.map(canon)
  if (v !== null && typeof v === 'object') {
    const out = {}
    for (const k of Object.keys(v).sort()) out[k] = canon(v[k])
    return out
  }
  if (v === undefined) return null
  return v
}

export const ROOT_TYPES = {
  Text: (doc, name) => doc.getText(name),
  Map: (doc, name) => doc.getMap(name),
  Array: (doc, name) => doc.getArray(name),
  XmlFragment: (doc, name) => doc.getXmlFragment(name)
}

// content is the per-root JSON a Go replica must reproduce: toJSON with
// sorted keys, plus the delta (formatting + embeds) for Text roots.
export const content = (doc, roots) => {
  const json = {}
  const deltas = {}
  for (const { name, type } of roots) {
    const t = ROOT_TYPES[type](doc, name)
    json[name] = canon(t.toJSON())
    if (type === 'Text') deltas[name] = canon(t.toDelta())
  }
  return { json, deltas }
}

export const hasPending = (doc) => doc.store.pendingStructs !== null || doc.store.pendingDs !== null

export const snapshot = (doc, roots) => {
  const { json, deltas } = content(doc, roots)
  return {
    json,
    deltas,
    sv: b64(Y.encodeStateVector(doc)),
    state: b64(Y.encodeStateAsUpdate(doc)),
    pending: hasPending(doc)
  }
}
