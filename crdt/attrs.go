package crdt

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// attrVal is a formatting attribute value and the format item it came
// from, so that Yjs' strict (===) comparisons of object values, which are
// identity comparisons in JavaScript, can be reproduced.
type attrVal struct {
	v   any
	src *contentFormat
}

// attrMap is an insertion-ordered map, as a JavaScript Map.
type attrMap struct {
	keys []string
	vals map[string]attrVal
}

func (m *attrMap) get(k string) (attrVal, bool) {
	v, ok := m.vals[k]
	return v, ok
}

func (m *attrMap) set(k string, v attrVal) {
	if m.vals == nil {
		m.vals = map[string]attrVal{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *attrMap) del(k string) {
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, kk := range m.keys {
		if kk == k {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
}

func (m *attrMap) size() int { return len(m.keys) }

func (m *attrMap) clone() *attrMap {
	if len(m.keys) == 0 {
		return &attrMap{}
	}
	c := &attrMap{keys: append([]string(nil), m.keys...), vals: make(map[string]attrVal, len(m.vals))}
	for k, v := range m.vals {
		c.vals[k] = v
	}
	return c
}

// updateCurrentAttributes applies a format item (Yjs updateCurrentAttributes).
func (m *attrMap) update(f *contentFormat) {
	if f.val == nil {
		m.del(f.key)
	} else {
		m.set(f.key, attrVal{v: f.val, src: f})
	}
}

// isObject reports whether v is a JavaScript object (compared by identity).
func isObject(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// numberOf returns v as a JavaScript number if it is one.
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// primEqual is === on primitive values.
func primEqual(a, b any) bool {
	if af, ok := numberOf(a); ok {
		bf, ok := numberOf(b)
		return ok && af == bf
	}
	if isObject(a) || isObject(b) {
		return false
	}
	return a == b
}

// strictEqual is JavaScript's === on attribute values.
func strictEqual(a, b attrVal) bool {
	if isObject(a.v) || isObject(b.v) {
		return a.src != nil && b.src != nil && a.src.ident == b.src.ident
	}
	return primEqual(a.v, b.v)
}

// equalAttrs is Yjs' equalAttrs: === or shallow equality of objects.
func equalAttrs(a, b any) bool {
	if primEqual(a, b) {
		return true
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !primEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !primEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// jsonStringify renders v as JavaScript's JSON.stringify does, for the
// values attributes and embeds hold.
func jsonStringify(v any) string {
	var b strings.Builder
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *strings.Builder, v any) {
	if f, ok := numberOf(v); ok {
		b.WriteString(jsNumber(f))
		return
	}
	switch x := v.(type) {
	case nil, Undefined:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		first := true
		for _, k := range objectKeys(x) {
			if _, u := x[k].(Undefined); u {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, x[k])
		}
		b.WriteByte('}')
	case []byte:
		// JSON.stringify of a Uint8Array is an object of its indexes.
		m := map[string]any{}
		for i, c := range x {
			m[strconv.Itoa(i)] = int64(c)
		}
		writeJSON(b, m)
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// jsNumber formats f as JavaScript's Number.prototype.toString.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f), math.IsInf(f, 0):
		return "null" // JSON.stringify writes null for these
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // like 1e+21, 1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	if exp[0] == '+' || exp[0] == '-' {
		sign := exp[:1]
		digits := strings.TrimLeft(exp[1:], "0")
		return mant + "e" + sign + digits
	}
	return s
}

// sortedKeys returns m's keys in the order attribute objects are iterated.
