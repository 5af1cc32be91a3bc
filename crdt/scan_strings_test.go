package crdt

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf16"
)

// ScanStrings must report the same strings, in the same order, as the full
// raw-update decoder (itself checked against Yjs) on every corpus update.
func TestScanStringsMatchesDecoder(t *testing.T) {
	var updates, strs int
	for _, s := range readSessions(t, filepath.Join(oracleDir, "corpus")) {
		for ui, u := range s.updates {
			lu, err := decodeLazyUpdate(u)
			if err != nil {
				t.Fatalf("session %s update %d: %v", s.ID, ui, err)
			}
			var want []string
			for _, st := range lu.structs {
				if st.kind == lazyItem && st.contentRef == refString {
					want = append(want, string(utf16.Decode(st.units)))
				}
			}
			var got []string
			if err := ScanStrings(u, func(b []byte) { got = append(got, string(b)) }); err != nil {
				t.Fatalf("session %s update %d: %v", s.ID, ui, err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("session %s update %d: strings %q, want %q", s.ID, ui, got, want)
			}
			updates++
			strs += len(got)
		}
	}
	if strs == 0 {
		t.Fatal("corpus holds no string items")
	}
	t.Logf("%d strings in %d updates", strs, updates)
}

func TestScanStringsRejectsUnknownContent(t *testing.T) {
	var e Encoder
	e.WriteVarUint(1) // one client
	e.WriteVarUint(1) // one struct
	e.WriteVarUint(7) // client
	e.WriteVarUint(0) // clock
	e.WriteUint8(infoOrigin | 11)
	e.WriteVarUint(7)
	e.WriteVarUint(0)
	if err := ScanStrings(e.Bytes(), func([]byte) {}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("content ref 11: err %v, want ErrMalformed", err)
	}
}
