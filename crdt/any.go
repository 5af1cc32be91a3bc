package crdt

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Any is lib0's self-describing value encoding, which Yjs uses for map
// values, array elements, embeds and format attributes. Go values map to it
// as follows (decoding yields the left column):
//
//	nil               null        (126)
//	Undefined{}       undefined   (127)
//	bool              true/false  (120/121)
//	string            string      (119)
//	int64             integer     (125)  decoding yields int64; -0 yields float64(-0)
//	float64           float32/64  (124/123)
//	BigInt            bigint      (122)
//	[]byte            Uint8Array  (116)
//	[]any             array       (117)
//	map[string]any    object      (118)
//
// Numbers are encoded the way lib0 encodes a JavaScript number, whatever
// their Go type: integers within ±(2^31-1) as var ints, values exactly
// representable as float32 as float32, the rest as float64. Any int, uint or
// float type is accepted when writing.
//
// Object keys are written in JavaScript's Object.keys order for keys that
// are array indexes (ascending) followed by the other keys sorted, since a Go
// map has no insertion order.

// Undefined is JavaScript's undefined as an Any value.
type Undefined struct{}

// BigInt is a JavaScript BigInt (64-bit) as an Any value.
type BigInt int64

// maxAnyDepth bounds the nesting of decoded arrays and objects so hostile
// input cannot exhaust the stack.
const maxAnyDepth = 256

const bits31 = 0x7fffffff

// WriteAny writes v in lib0's Any encoding. It returns an error for values
// that have no Any representation (the encoder may then hold a partial
// value; callers discard it).
func (e *Encoder) WriteAny(v any) error {
	return e.writeAny(v, 0)
}

func (e *Encoder) writeAny(v any, depth int) error {
	if depth > maxAnyDepth {
		return fmt.Errorf("%w: value nested deeper than %d", ErrMalformed, maxAnyDepth)
	}
	switch x := v.(type) {
	case nil:
		e.WriteUint8(126)
	case Undefined:
		e.WriteUint8(127)
	case bool:
		if x {
			e.WriteUint8(120)
		} else {
			e.WriteUint8(121)
		}
	case string:
		e.WriteUint8(119)
		e.WriteVarString(x)
	case int:
		e.writeInt(int64(x))
	case int8:
		e.writeInt(int64(x))
	case int16:
		e.writeInt(int64(x))
	case int32:
		e.writeInt(int64(x))
	case int64:
		e.writeInt(x)
	case uint:
		e.writeUint(uint64(x))
	case uint8:
		e.writeInt(int64(x))
	case uint16:
		e.writeInt(int64(x))
	case uint32:
		e.writeInt(int64(x))
	case uint64:
		e.writeUint(x)
	case float32:
		e.writeNumber(float64(x))
	case float64:
		e.writeNumber(x)
	case BigInt:
		e.WriteUint8(122)
		e.WriteBigInt64(int64(x))
	case []byte:
		e.WriteUint8(116)
		e.WriteVarBytes(x)
	case []any:
		e.WriteUint8(117)
		e.WriteVarUint(uint64(len(x)))
		for _, el := range x {
			if err := e.writeAny(el, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		e.WriteUint8(118)
		e.WriteVarUint(uint64(len(x)))
		for _, k := range objectKeys(x) {
			e.WriteVarString(k)
			if err := e.writeAny(x[k], depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("crdt: cannot encode %T as a Yjs value", v)
	}
	return nil
}

func (e *Encoder) writeInt(v int64) {
	if v >= -bits31 && v <= bits31 {
		e.WriteUint8(125)
		e.WriteVarInt(v)
		return
	}
	e.writeNumber(float64(v))
}

func (e *Encoder) writeUint(v uint64) {
	if v <= bits31 {
		e.WriteUint8(125)
		e.WriteVarInt(int64(v))
		return
	}
	e.writeNumber(float64(v))
}

// writeNumber encodes a JavaScript number as lib0 writeAny does.
func (e *Encoder) writeNumber(f float64) {
	if f == math.Trunc(f) && math.Abs(f) <= bits31 {
		e.WriteUint8(125)
		e.writeVarIntSign(uint64(math.Abs(f)), math.Signbit(f))
		return
	}
	if float64(float32(f)) == f {
		e.WriteUint8(124)
		e.WriteFloat32(float32(f))
		return
	}
	e.WriteUint8(123)
	e.WriteFloat64(f)
}

// objectKeys orders keys as JavaScript's Object.keys would for an object
// whose non-index keys were inserted in sorted order.
func objectKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ai, aok := arrayIndex(keys[i])
		bi, bok := arrayIndex(keys[j])
		switch {
		case aok && bok:
			return ai < bi
		case aok != bok:
			return aok
		default:
			return keys[i] < keys[j]
		}
	})
	return keys
}

// arrayIndex reports whether k is a canonical array index ("0".."4294967294"),
// which JavaScript enumerates before other keys.
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n >= math.MaxUint32 {
		return 0, false
	}
	return n, true
}

// ReadAny reads one Any value (see the table on Undefined's package docs).
func (d *Decoder) ReadAny() (any, error) {
	return d.readAny(0)
}

func (d *Decoder) readAny(depth int) (any, error) {
	if depth > maxAnyDepth {
		return nil, fmt.Errorf("%w: value nested deeper than %d", ErrMalformed, maxAnyDepth)
	}
	tag, err := d.ReadUint8()
	if err != nil {
		return nil, err
	}
	switch tag {
	case 127:
		return Undefined{}, nil
	case 126:
		return nil, nil
	case 125:
		mag, neg, err := d.readVarIntSign()
		if err != nil {
			return nil, err
		}
		if neg {
			if mag == 0 {
				return math.Copysign(0, -1), nil
			}
			return -int64(mag), nil
		}
		return int64(mag), nil
	case 124:
		f, err := d.ReadFloat32()
		return float64(f), err
	case 123:
		return d.ReadFloat64()
	case 122:
		v, err := d.ReadBigInt64()
		return BigInt(v), err
	case 121:
		return false, nil
	case 120:
		return true, nil
	case 119:
		return d.ReadVarString()
	case 118:
		n, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		// Each entry takes at least two bytes (empty key, one-byte value).
		if n > uint64(d.Len())/2 {
			return nil, fmt.Errorf("%w: object of %d entries in %d bytes", ErrUnexpectedEOF, n, d.Len())
		}
		obj := make(map[string]any, n)
		for i := uint64(0); i < n; i++ {
			k, err := d.ReadVarString()
			if err != nil {
				return nil, err
			}
			v, err := d.readAny(depth + 1)
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		return obj, nil
	case 117:
		n, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if n > uint64(d.Len()) {
			return nil, fmt.Errorf("%w: array of %d elements in %d bytes", ErrUnexpectedEOF, n, d.Len())
		}
		arr := make([]any, n)
		for i := range arr {
			if arr[i], err = d.readAny(depth + 1); err != nil {
				return nil, err
			}
		}
		return arr, nil
	case 116:
		b, err := d.ReadVarBytes()
		if err != nil {
			return nil, err
		}
		return append([]byte{}, b...), nil
	}
	return nil, fmt.Errorf("%w: unknown value tag %d", ErrMalformed, tag)
}

// jsReencodeAny re-encodes one Any value (raw, already validated by
// ReadAny) the way Yjs does after decoding it into a JavaScript value: an
// object keeps each key once, at its first position, with its last value,
// and lists array-index keys first in ascending order (Object.keys order).
func jsReencodeAny(raw []byte) []byte {
	d := NewDecoder(raw)
	var e Encoder
	if err := d.reencodeJS(&e, 0); err != nil {
		return raw
	}
	return e.Bytes()
}

func (d *Decoder) reencodeJS(e *Encoder, depth int) error {
	if depth > maxAnyDepth {
		return ErrMalformed
	}
	start := d.pos
	tag, err := d.ReadUint8()
	if err != nil {
		return err
	}
	switch tag {
	case 118:
		n, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		var keys []string
		vals := map[string][]byte{}
		for range n {
			k, err := d.ReadVarString()
			if err != nil {
				return err
			}
			var ve Encoder
			if err := d.reencodeJS(&ve, depth+1); err != nil {
				return err
			}
			if _, seen := vals[k]; !seen {
				keys = append(keys, k)
			}
			vals[k] = ve.Bytes()
		}
		// Object.keys order: array indexes ascending, then insertion order.
		var idx, rest []string
		for _, k := range keys {
			if _, ok := arrayIndex(k); ok {
				idx = append(idx, k)
			} else {
				rest = append(rest, k)
			}
		}
		sort.Slice(idx, func(i, j int) bool {
			a, _ := arrayIndex(idx[i])
			b, _ := arrayIndex(idx[j])
			return a < b
		})
		e.WriteUint8(118)
		e.WriteVarUint(uint64(len(keys)))
		for _, k := range append(idx, rest...) {
			e.WriteVarString(k)
			e.WriteBytes(vals[k])
		}
		return nil
	case 117:
		n, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		e.WriteUint8(117)
		e.WriteVarUint(n)
		for range n {
			if err := d.reencodeJS(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	// Scalars: as lib0 writes the JavaScript value read.
	d.pos = start
	v, err := d.readAny(depth)
	if err != nil {
		return err
	}
	return e.WriteAny(v)
}

// objectFieldJS returns the value of key in the encoded object raw (the
// last one if repeated), re-encoded as Yjs would write it; nil if absent.
func objectFieldJS(raw []byte, key string) []byte {
	d := NewDecoder(raw)
	if tag, err := d.ReadUint8(); err != nil || tag != 118 {
		return nil
	}
	n, err := d.ReadVarUint()
	if err != nil {
		return nil
	}
	var found []byte
	for range n {
		k, err := d.ReadVarString()
		if err != nil {
			return nil
		}
		var ve Encoder
		if err := d.reencodeJS(&ve, 1); err != nil {
			return nil
		}
		if k == key {
			found = ve.Bytes()
		}
	}
	return found
}
