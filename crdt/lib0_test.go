package crdt

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strconv"
	"testing"
)

// lib0Golden is testdata/golden/lib0_golden.json, written by real lib0
// (testdata/golden/lib0_gen.mjs).
type lib0Golden struct {
	VarUint   []struct{ V, Hex string } `json:"varUint"`
	VarInt    []struct{ V, Hex string } `json:"varInt"`
	VarString []struct{ V, Hex string } `json:"varString"`
	Any       map[string]string         `json:"any"`
}

func loadLib0Golden(t *testing.T) lib0Golden {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden/lib0_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g lib0Golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVarUintMatchesLib0(t *testing.T) {
	g := loadLib0Golden(t)
	for _, c := range g.VarUint {
		v, err := strconv.ParseUint(c.V, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		var e Encoder
		e.WriteVarUint(v)
		if got := hex.EncodeToString(e.Bytes()); got != c.Hex {
			t.Errorf("WriteVarUint(%d) = %s, lib0 %s", v, got, c.Hex)
		}
		d := NewDecoder(mustHex(t, c.Hex))
		if back, err := d.ReadVarUint(); err != nil || back != v || d.Len() != 0 {
			t.Errorf("ReadVarUint(%s) = %d, %v (left %d)", c.Hex, back, err, d.Len())
		}
	}
}

func TestVarIntMatchesLib0(t *testing.T) {
	g := loadLib0Golden(t)
	for _, c := range g.VarInt {
		b := mustHex(t, c.Hex)
		var e Encoder
		if c.V == "-0" {
			e.writeVarIntSign(0, true)
		} else {
			v, err := strconv.ParseInt(c.V, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			e.WriteVarInt(v)
			d := NewDecoder(b)
			if back, err := d.ReadVarInt(); err != nil || back != v || d.Len() != 0 {
				t.Errorf("ReadVarInt(%s) = %d, %v", c.Hex, back, err)
			}
		}
		if got := hex.EncodeToString(e.Bytes()); got != c.Hex {
			t.Errorf("WriteVarInt(%s) = %s, lib0 %s", c.V, got, c.Hex)
		}
	}
}

func TestVarStringMatchesLib0(t *testing.T) {
	g := loadLib0Golden(t)
	for _, c := range g.VarString {
		// encoding/json turns the lone surrogate into U+FFFD, as lib0 does.
		var e Encoder
		e.WriteVarString(c.V)
		if got := hex.EncodeToString(e.Bytes()); got != c.Hex {
			t.Errorf("WriteVarString(%q) = %s, lib0 %s", c.V, got, c.Hex)
		}
		d := NewDecoder(mustHex(t, c.Hex))
		if s, err := d.ReadVarString(); err != nil || s != c.V {
			t.Errorf("ReadVarString(%s) = %q, %v", c.Hex, s, err)
		}
	}
	// A string lib0 could not have produced: invalid UTF-8 is an error.
	if _, err := NewDecoder([]byte{2, 0xc3, 0x28}).ReadVarString(); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: err = %v", err)
	}
	// Invalid UTF-8 written from Go becomes U+FFFD.
	var e Encoder
	e.WriteVarString("a\xffb")
	if got := hex.EncodeToString(e.Bytes()); got != "0561efbfbd62" {
		t.Errorf("invalid UTF-8 written as %s", got)
	}
}

func TestAnyMatchesLib0(t *testing.T) {
	g := loadLib0Golden(t)
	negZero := math.Copysign(0, -1)
	want := map[string]any{
		"undefined": Undefined{},
		"null":      nil,
		"true":      true,
		"false":     false,
		"int0":      int64(0),
		"negzero":   negZero,
		"int42":     int64(42),
		"intneg":    int64(-123456),
		"intmax31":  int64(math.MaxInt32),
		"int2p31":   float64(1 << 31),
		"int2p40":   float64(1 << 40),
		"float05":   0.5,
		"float01":   0.1,
		"inf":       math.Inf(1),
		"bigint":    BigInt(-5),
		"string":    "hi ✓",
		"bytes":     []byte{1, 2, 255},
		"array":     []any{int64(1), "a", nil, []any{true}},
		"object":    map[string]any{"b": int64(1), "a": map[string]any{"x": []any{}}, "10": "ten", "2": "two"},
	}
	// Go values of other types that must encode as lib0 encodes the same number.
	alsoWrite := map[string]any{"int42": 42, "int2p31": int64(1 << 31), "int2p40": uint64(1 << 40), "float05": float32(0.5), "intneg": int32(-123456)}
	for name, h := range g.Any {
		b := mustHex(t, h)
		d := NewDecoder(b)
		v, err := d.ReadAny()
		if err != nil || d.Len() != 0 {
			t.Errorf("%s: ReadAny(%s): %v, %d left", name, h, err, d.Len())
			continue
		}
		if name == "nan" {
			if f, ok := v.(float64); !ok || !math.IsNaN(f) {
				t.Errorf("nan decoded as %#v", v)
			}
		} else if w, ok := want[name]; !ok {
			t.Errorf("no expectation for %s", name)
		} else if !reflect.DeepEqual(v, w) || (name == "negzero" && !math.Signbit(v.(float64))) {
			t.Errorf("%s: decoded %#v, want %#v", name, v, w)
		}
		for _, val := range []any{v, alsoWrite[name]} {
			if val == nil && name != "null" {
				continue
			}
			var e Encoder
			if err := e.WriteAny(val); err != nil {
				t.Errorf("%s: WriteAny: %v", name, err)
			} else if got := hex.EncodeToString(e.Bytes()); got != h {
				t.Errorf("%s: WriteAny(%#v) = %s, lib0 %s", name, val, got, h)
			}
		}
	}
}

func TestDecoderRejectsBadInput(t *testing.T) {
	cases := map[string][]byte{
		"empty":            {},
		"truncated varint": {0x80},
		"overflow":         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"string too long":  {119, 5, 'a'},
		"unknown tag":      {50},
		"huge array":       {117, 0xff, 0xff, 0xff, 0x0f},
		"huge object":      {118, 0xff, 0xff, 0xff, 0x0f, 0, 126},
		"short float":      {123, 1, 2},
		"array eof":        {117, 2, 126},
	}
	for name, b := range cases {
		if _, err := NewDecoder(b).ReadAny(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	deep := make([]byte, 0, 2000)
	for range 1000 {
		deep = append(deep, 117, 1)
	}
	deep = append(deep, 126)
	if _, err := NewDecoder(deep).ReadAny(); !errors.Is(err, ErrMalformed) {
		t.Errorf("deep nesting: err = %v", err)
	}
	if _, err := NewDecoder([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}).ReadVarUint(); !errors.Is(err, ErrIntegerOverflow) {
		t.Errorf("2^56: err = %v", err)
	}
	var e Encoder
	if err := e.WriteAny(struct{}{}); err == nil {
		t.Error("WriteAny(struct{}{}) succeeded")
	}
}
