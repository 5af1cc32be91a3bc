package crdt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedUpdates returns updates to seed fuzzing with: every update of the
// golden scenarios and a sample of the oracle corpus.
func seedUpdates(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	raw, err := os.ReadFile("testdata/golden/doc_golden.json")
	if err == nil {
		for _, line := range strings.Split(string(raw), "\"") {
			if len(line) >= 4 && len(line)%2 == 0 {
				if b, err := hex.DecodeString(line); err == nil && len(b) > 1 {
					out = append(out, b)
				}
			}
		}
	}
	// Every 7th update of the oracle corpus (real Yjs sessions).
	if files, _ := filepath.Glob("testdata/oracle/corpus/*.jsonl.gz"); len(files) > 0 {
		n := 0
		for _, s := range readSessions(tb, "testdata/oracle/corpus") {
			for _, u := range s.updates {
				if n++; n%7 == 0 {
					out = append(out, u)
				}
			}
		}
	}
	return out
}

// baseDoc is a document with text, map and array content that fuzzed
// updates are applied on top of.
func baseDoc(tb testing.TB) *Doc {
	d := NewDoc(WithClientID(77))
	d.GetText("t").Insert(0, "hello world")
	d.GetText("t").Delete(2, 3)
	if err := d.GetMap("m").Set("k", "v"); err != nil {
		tb.Fatal(err)
	}
	if err := d.GetArray("a").Push(int64(1), "two"); err != nil {
		tb.Fatal(err)
	}
	return d
}

func checkApply(t *testing.T, d *Doc, update []byte) {
	before, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = d.ApplyUpdate(update)
	if err != nil {
		if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("ApplyUpdate(%x): %v", update, err)
		}
		after, _ := d.EncodeStateAsUpdate(nil)
		if !bytes.Equal(before, after) {
			t.Fatalf("failed ApplyUpdate(%x) changed the doc", update)
		}
		return
	}
	// A document's own encoding must load into a fresh document. (Loading
	// is not always byte-stable, in Yjs either: a fresh load merges
	// structs the original kept apart.)
	u1, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	d2 := NewDoc()
	if err := d2.ApplyUpdate(u1); err != nil {
		t.Fatalf("reloading %x: %v", u1, err)
	}
	_ = d.ToJSON()
	_ = d2.ToJSON()
}

func FuzzApplyUpdate(f *testing.F) {
	for _, s := range seedUpdates(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, update []byte) {
		checkApply(t, NewDoc(WithClientID(5)), update)
		checkApply(t, baseDoc(t), update)
		checkApply(t, NewDoc(WithClientID(5), WithGC(false)), update)
	})
}

func FuzzDecodeStateVector(f *testing.F) {
	f.Add([]byte{0})
	f.Add(EncodeStateVector(map[uint64]uint64{1: 5, 1 << 40: 3}))
	for _, s := range seedUpdates(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sv, err := DecodeStateVector(b)
		if err != nil {
			return
		}
		back, err := DecodeStateVector(EncodeStateVector(sv))
		if err != nil || len(back) != len(sv) {
			t.Fatalf("round trip of %v: %v, %v", sv, back, err)
		}
		for c, k := range sv {
			if back[c] != k {
				t.Fatalf("round trip of %v: %v", sv, back)
			}
		}
		if _, err := baseDoc(t).EncodeStateAsUpdate(b); err != nil {
			t.Fatalf("EncodeStateAsUpdate(%x): %v", b, err)
		}
	})
}

// TestApplyUpdateAtomic corrupts real updates in every way a byte can be
// cut or changed and checks that each failure leaves the doc unchanged.
func TestApplyUpdateAtomic(t *testing.T) {
	seeds := seedUpdates(t)
	if len(seeds) == 0 {
		t.Fatal("no seed updates")
	}
	rejected := 0
	for _, u := range seeds[:min(len(seeds), 40)] {
		for cut := 0; cut < len(u); cut++ {
			d := baseDoc(t)
			before, _ := d.EncodeStateAsUpdate(nil)
			if err := d.ApplyUpdate(u[:cut]); err != nil {
				rejected++
				if after, _ := d.EncodeStateAsUpdate(nil); !bytes.Equal(before, after) {
					t.Fatalf("truncated update changed the doc")
				}
			}
		}
		for i := range u {
			for _, x := range []byte{0xff, 0x80, 0x01, 0x7f} {
				bad := append([]byte(nil), u...)
				bad[i] ^= x
				checkApply(t, baseDoc(t), bad)
			}
		}
	}
	if rejected == 0 {
		t.Fatal("no corrupted update was rejected")
	}
}

// TestDeeplyNestedTypes builds an update nesting maps 200,000 deep (about
// 1.4 MB): applying it, deleting the outermost map (which deletes and
// collects everything inside) and viewing it must not exhaust the stack.
func TestDeeplyNestedTypes(t *testing.T) {
	const depth = 200000
	const client = 9
	e := NewEncoderSize(depth * 8)
	e.WriteVarUint(1)
	e.WriteVarUint(depth)
	e.WriteVarUint(client)
	e.WriteVarUint(0)
	// Root map entry "k" holding a Map.
	e.WriteUint8(refType | 0x20)
	e.WriteVarUint(1)
	e.WriteVarString("m")
	e.WriteVarString("k")
	e.WriteVarUint(uint64(kindMap))
	for clock := uint64(1); clock < depth; clock++ {
		// Entry "k" of the map created at clock-1.
		e.WriteUint8(refType | 0x20)
		e.WriteVarUint(0)
		e.WriteVarUint(client)
		e.WriteVarUint(clock - 1)
		e.WriteVarString("k")
		e.WriteVarUint(uint64(kindMap))
	}
	e.WriteVarUint(0)
	d := NewDoc(WithClientID(1))
	if err := d.ApplyUpdate(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	m := d.GetMap("m")
	if _, err := json.Marshal(m.ToJSON()); err != nil {
		t.Fatal(err)
	}
	m.Delete("k")
	if len(m.Keys()) != 0 {
		t.Fatalf("keys after delete: %v", m.Keys())
	}
	u, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Everything inside was collected: the client's structs are one GC run
	// after the deleted root entry.
	if len(u) > 64 {
		t.Fatalf("state after deleting everything is %d bytes", len(u))
	}
}
