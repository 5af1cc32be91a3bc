package crdt

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// Content kinds, numbered as in the Yjs update format (the low 5 bits of
// a struct's info byte). 0 is a GC struct and 10 a Skip; neither is content.
const (
	refGC      = 0
	refDeleted = 1
	refJSON    = 2
	refBinary  = 3
	refString  = 4
	refEmbed   = 5
	refFormat  = 6
	refType    = 7
	refAny     = 8
	refDoc     = 9
	refSkip    = 10
)

// The rest of a struct's info byte says which of origin, right origin and
// parent sub follow it.
const (
	infoContentRef  = 0x1f
	infoParentSub   = 0x20
	infoRightOrigin = 0x40
	infoOrigin      = 0x80
)

// content is what an Item carries. Each kind mirrors one Yjs Content class.
// Lengths are in clock units (UTF-16 code units for strings).
type content interface {
	ref() byte
	length() int
	countable() bool
	// splice keeps the first offset units and returns the rest. Only kinds
	// whose length can exceed one implement it meaningfully.
	splice(offset int) content
	// mergeWith appends right (of the same kind) if the kind allows it.
	mergeWith(right content) bool
	write(e *Encoder, offset int)
}

// contentDeleted stands for deleted content whose data was dropped.
type contentDeleted struct{ n int }

func (c *contentDeleted) ref() byte       { return refDeleted }
func (c *contentDeleted) length() int     { return c.n }
func (c *contentDeleted) countable() bool { return false }
func (c *contentDeleted) splice(offset int) content {
	r := &contentDeleted{n: c.n - offset}
	c.n = offset
	return r
}
func (c *contentDeleted) mergeWith(right content) bool {
	c.n += right.(*contentDeleted).n
	return true
}
func (c *contentDeleted) write(e *Encoder, offset int) { e.WriteVarUint(uint64(c.n - offset)) }

// contentJSON is Yjs' legacy JSON content: each element is kept as the JSON
// text it arrived as ("undefined" for undefined), which is what Yjs writes
// back for any text JSON.stringify produced.
type contentJSON struct{ vals []string }

func (c *contentJSON) ref() byte       { return refJSON }
func (c *contentJSON) length() int     { return len(c.vals) }
func (c *contentJSON) countable() bool { return true }
func (c *contentJSON) splice(offset int) content {
	r := &contentJSON{vals: append([]string(nil), c.vals[offset:]...)}
	c.vals = c.vals[:offset:offset]
	return r
}
func (c *contentJSON) mergeWith(right content) bool {
	c.vals = append(c.vals, right.(*contentJSON).vals...)
	return true
}
func (c *contentJSON) write(e *Encoder, offset int) {
	e.WriteVarUint(uint64(len(c.vals) - offset))
	for _, v := range c.vals[offset:] {
		e.WriteVarString(v)
	}
}

// contentBinary is a Uint8Array.
type contentBinary struct{ b []byte }

func (c *contentBinary) ref() byte                    { return refBinary }
func (c *contentBinary) length() int                  { return 1 }
func (c *contentBinary) countable() bool              { return true }
func (c *contentBinary) splice(int) content           { panic("crdt: binary content cannot be split") }
func (c *contentBinary) mergeWith(content) bool       { return false }
func (c *contentBinary) write(e *Encoder, offset int) { e.WriteVarBytes(c.b) }

// contentString is text, kept as UTF-8 bytes so that merging the items of
// a typing run appends in place (amortized) instead of copying the run. n
// caches the UTF-16 length, the unit of positions and clocks in Yjs.
// Slices handed to a left part are capped, so appends never overwrite the
// bytes of a right part.
type contentString struct {
	b []byte
	n int
}

func newContentString(s string) *contentString {
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	return &contentString{b: []byte(s), n: utf16Len(s)}
}

func (c *contentString) str() string     { return string(c.b) }
func (c *contentString) ref() byte       { return refString }
func (c *contentString) length() int     { return c.n }
func (c *contentString) countable() bool { return true }

// splice splits at a UTF-16 offset. Splitting a surrogate pair leaves
// U+FFFD on both sides, as Yjs does.
func (c *contentString) splice(offset int) content {
	if len(c.b) == c.n { // ASCII
		r := &contentString{b: c.b[offset:], n: c.n - offset}
		c.b, c.n = c.b[:offset:offset], offset
		return r
	}
	b, split := utf16ToByteOffset(c.b, offset)
	r := &contentString{n: c.n - offset}
	if split {
		// offset falls inside the rune starting at byte b.
		_, size := utf8.DecodeRune(c.b[b:])
		r.b = append([]byte("\uFFFD"), c.b[b+size:]...)
		c.b = append(c.b[:b:b], "\uFFFD"...)
	} else {
		r.b = c.b[b:]
		c.b = c.b[:b:b]
	}
	c.n = offset
	return r
}

func (c *contentString) mergeWith(right content) bool {
	r := right.(*contentString)
	c.b = append(c.b, r.b...)
	c.n += r.n
	return true
}

func (c *contentString) write(e *Encoder, offset int) {
	b := c.b
	if offset > 0 {
		var split bool
		var i int
		i, split = utf16ToByteOffset(b, offset)
		if split {
			_, size := utf8.DecodeRune(b[i:])
			e.WriteVarUint(uint64(len(b) - i - size + 3))
			e.WriteBytes([]byte("\uFFFD"))
			e.WriteBytes(b[i+size:])
			return
		}
		b = b[i:]
	}
	e.WriteVarBytes(b)
}

// contentEmbed is a rich-text embed, kept as its JSON text.
type contentEmbed struct{ raw string }

func (c *contentEmbed) ref() byte                    { return refEmbed }
func (c *contentEmbed) length() int                  { return 1 }
func (c *contentEmbed) countable() bool              { return true }
func (c *contentEmbed) splice(int) content           { panic("crdt: embed content cannot be split") }
func (c *contentEmbed) mergeWith(content) bool       { return false }
func (c *contentEmbed) write(e *Encoder, offset int) { e.WriteVarString(c.raw) }
func (c *contentEmbed) value() any                   { return parseJSONValue(c.raw) }

// contentFormat is a formatting mark in rich text: attribute key and value
// (JSON text; "null" ends the attribute).
type contentFormat struct {
	key string
	raw string
	val any // parsed raw
	// ident is the format whose value object this one shares: Yjs copies
	// the same JavaScript object into negating formats, and compares
	// object values by identity.
	ident *contentFormat
}

func newContentFormat(key, raw string) *contentFormat {
	c := &contentFormat{key: key, raw: raw, val: parseJSONValue(raw)}
	c.ident = c
	return c
}

func (c *contentFormat) ref() byte              { return refFormat }
func (c *contentFormat) length() int            { return 1 }
func (c *contentFormat) countable() bool        { return false }
func (c *contentFormat) splice(int) content     { panic("crdt: format content cannot be split") }
func (c *contentFormat) mergeWith(content) bool { return false }
func (c *contentFormat) write(e *Encoder, offset int) {
	e.WriteVarString(c.key)
	e.WriteVarString(c.raw)
}

// contentType is a nested shared type.
type contentType struct{ t *branch }

func (c *contentType) ref() byte              { return refType }
func (c *contentType) length() int            { return 1 }
func (c *contentType) countable() bool        { return true }
func (c *contentType) splice(int) content     { panic("crdt: type content cannot be split") }
func (c *contentType) mergeWith(content) bool { return false }
func (c *contentType) write(e *Encoder, offset int) {
	e.WriteVarUint(uint64(c.t.kind))
	if c.t.kind == kindXmlElement || c.t.kind == kindXmlHook {
		e.WriteVarString(c.t.name)
	}
}

// contentAny holds Any values (map values, array elements). raw keeps the
// bytes an element arrived as when it contains an object with several keys:
// Yjs re-encodes objects in their insertion order, which a Go map loses.
type contentAny struct {
	vals []any
	raw  [][]byte // nil, or one entry per element (nil entry: encode vals[i])
}

func (c *contentAny) ref() byte       { return refAny }
func (c *contentAny) length() int     { return len(c.vals) }
func (c *contentAny) countable() bool { return true }
func (c *contentAny) splice(offset int) content {
	r := &contentAny{vals: append([]any(nil), c.vals[offset:]...)}
	if c.raw != nil {
		r.raw = append([][]byte(nil), c.raw[offset:]...)
		c.raw = c.raw[:offset:offset]
	}
	c.vals = c.vals[:offset:offset]
	return r
}
func (c *contentAny) mergeWith(right content) bool {
	r := right.(*contentAny)
	if c.raw != nil || r.raw != nil {
		if c.raw == nil {
			c.raw = make([][]byte, len(c.vals))
		}
		rr := r.raw
		if rr == nil {
			rr = make([][]byte, len(r.vals))
		}
		c.raw = append(c.raw, rr...)
	}
	c.vals = append(c.vals, r.vals...)
	return true
}
func (c *contentAny) write(e *Encoder, offset int) {
	e.WriteVarUint(uint64(len(c.vals) - offset))
	for i := offset; i < len(c.vals); i++ {
		if c.raw != nil && c.raw[i] != nil {
			e.WriteBytes(c.raw[i])
			continue
		}
		_ = e.WriteAny(c.vals[i]) // values were validated when inserted
	}
}

// contentDoc is a subdocument. Quire never loads subdocuments; it keeps the
// guid and the options Yjs would write back.
type contentDoc struct {
	guid string
	opts map[string]any // gc:false / autoLoad:true / meta, as Yjs normalizes them
	// metaRaw is the meta option as Yjs re-encodes it, when it came in an
	// update (object keys keep their JavaScript order).
	metaRaw []byte
}

func (c *contentDoc) ref() byte              { return refDoc }
func (c *contentDoc) length() int            { return 1 }
func (c *contentDoc) countable() bool        { return true }
func (c *contentDoc) splice(int) content     { panic("crdt: doc content cannot be split") }
func (c *contentDoc) mergeWith(content) bool { return false }
func (c *contentDoc) write(e *Encoder, offset int) {
	e.WriteVarString(c.guid)
	// Key order as Yjs builds the object: gc, autoLoad, meta.
	e.WriteUint8(118)
	n := 0
	_, hasGC := c.opts["gc"]
	_, hasAuto := c.opts["autoLoad"]
	meta, hasMeta := c.opts["meta"]
	for _, b := range []bool{hasGC, hasAuto, hasMeta} {
		if b {
			n++
		}
	}
	e.WriteVarUint(uint64(n))
	if hasGC {
		e.WriteVarString("gc")
		e.WriteUint8(121)
	}
	if hasAuto {
		e.WriteVarString("autoLoad")
		e.WriteUint8(120)
	}
	if hasMeta {
		e.WriteVarString("meta")
		if c.metaRaw != nil {
			e.WriteBytes(c.metaRaw)
		} else {
			_ = e.WriteAny(meta)
		}
	}
}

// newContentDocFromOpts normalizes decoded options as Yjs' Doc constructor
// and ContentDoc do.
func newContentDocFromOpts(guid string, opts any) *contentDoc {
	c := &contentDoc{guid: guid, opts: map[string]any{}}
	m, _ := opts.(map[string]any)
	if m == nil {
		return c
	}
	if v, ok := m["gc"]; ok && !jsTruthy(v) {
		if _, isUndef := v.(Undefined); !isUndef {
			c.opts["gc"] = false
		}
	}
	if v, ok := m["autoLoad"]; ok && jsTruthy(v) {
		c.opts["autoLoad"] = true
	}
	if v, ok := m["meta"]; ok && v != nil {
		if _, isUndef := v.(Undefined); !isUndef {
			c.opts["meta"] = v
		}
	}
	return c
}

// jsTruthy is JavaScript's truthiness of an Any value.
func jsTruthy(v any) bool {
	switch x := v.(type) {
	case nil, Undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0 && x == x
	case string:
		return x != ""
	case BigInt:
		return x != 0
	}
	return true
}

// parseJSONValue parses JSON text as JavaScript's JSON.parse would for the
// values Yjs stores (numbers become float64).
func parseJSONValue(raw string) any {
	if raw == "undefined" {
		return Undefined{}
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil
	}
	return v
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len[S string | []byte](s S) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			n++
			continue
		}
		// Count runes by their lead bytes: 4-byte sequences are two units.
		switch {
		case c >= 0xf0:
			n += 2
		case c >= 0xc0:
			n++
		}
	}
	return n
}

// utf16ToByteOffset maps a UTF-16 offset in s to a byte offset. split is
// true when the offset falls between the two halves of a surrogate pair;
// the byte offset is then that of the rune being split.
func utf16ToByteOffset(s []byte, off int) (b int, split bool) {
	u := 0
	for b < len(s) {
		if u >= off {
			return b, false
		}
		if s[b] < utf8.RuneSelf {
			u++
			b++
			continue
		}
		r, size := utf8.DecodeRune(s[b:])
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if u+w > off {
			return b, true
		}
		u += w
		b += size
	}
	return b, false
}

// sliceUTF16 returns s from UTF-16 offset off, with U+FFFD for a half pair.
func sliceUTF16(s []byte, off int) string {
	b, split := utf16ToByteOffset(s, off)
	if split {
		_, size := utf8.DecodeRune(s[b:])
		return "\uFFFD" + string(s[b+size:])
	}
	return string(s[b:])
}

// utf16Units converts s to UTF-16 (used only at API edges when needed).
func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }
