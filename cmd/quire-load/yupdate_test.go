package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/quire/quire/crdt"
)

// golden holds updates made by real Yjs 13.6.33 (testdata/golden.mjs).
type golden struct {
	Appends []struct {
		Client  uint64   `json:"client"`
		Tokens  []string `json:"tokens"`
		Updates []string `json:"updates"`
		Text    string   `json:"text"`
	} `json:"appends"`
	Mixed struct {
		Update  string   `json:"update"`
		Strings []string `json:"strings"`
	} `json:"mixed"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden_updates.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Appends) == 0 || g.Mixed.Update == "" {
		t.Fatal("golden file has no cases")
	}
	return g
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The hand-built update must be byte-identical to what Yjs emits for the
// same edit: an append at the end of the client's own text.
func TestAppendUpdateMatchesYjs(t *testing.T) {
	for _, c := range loadGolden(t).Appends {
		var clock uint64
		for i, tok := range c.Tokens {
			var enc crdt.Encoder
			appendAppendUpdate(&enc, c.Client, clock, []byte(tok))
			if got := hex.EncodeToString(enc.Bytes()); got != c.Updates[i] {
				t.Errorf("client %d edit %d:\n got %s\nwant %s", c.Client, i, got, c.Updates[i])
			}
			clock += uint64(len(tok))
		}
	}
}

func TestScanStringsReadsYjsUpdates(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Appends {
		for i, u := range c.Updates {
			var got []string
			if err := crdt.ScanStrings(unhex(t, u), func(s []byte) { got = append(got, string(s)) }); err != nil {
				t.Fatalf("client %d update %d: %v", c.Client, i, err)
			}
			if !slices.Equal(got, []string{c.Tokens[i]}) {
				t.Errorf("client %d update %d: strings %q, want %q", c.Client, i, got, c.Tokens[i])
			}
		}
	}
	// Every kind of struct and content, the strings among them in order.
	var got []string
	if err := crdt.ScanStrings(unhex(t, g.Mixed.Update), func(s []byte) { got = append(got, string(s)) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, g.Mixed.Strings) {
		t.Errorf("mixed document: strings %q, want %q", got, g.Mixed.Strings)
	}
}

func TestScanStringsRejectsTruncatedUpdates(t *testing.T) {
	full := unhex(t, loadGolden(t).Mixed.Update)
	// The delete set at the end is not read; cut inside the structs.
	for n := range len(full) - 12 {
		err := crdt.ScanStrings(full[:n], func([]byte) {})
		if !errors.Is(err, crdt.ErrMalformed) {
			t.Fatalf("prefix of %d bytes: err %v, want crdt.ErrMalformed", n, err)
		}
	}
}
