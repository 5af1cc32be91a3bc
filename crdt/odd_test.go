package crdt

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestOddUpdatesMatchYjs applies unusual updates found by fuzzing (objects
// with repeated keys, unsorted delete sets of missing structs, ...) and
// compares with what real Yjs made of them (testdata/golden/odd_gen.mjs).
// Where Yjs throws, Quire must reject that update and change nothing.
func TestOddUpdatesMatchYjs(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/odd_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Update, State string }
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		d := NewDoc(WithClientID(5))
		var before []byte
		var err error
		for _, u := range strings.Split(c.Update, ",") {
			before, _ = d.EncodeStateAsUpdate(nil)
			if err = d.ApplyUpdate(mustHex(t, u)); err != nil {
				break
			}
		}
		if c.State == "error" {
			if err == nil {
				t.Errorf("case %d: Yjs rejects %s, Quire accepted it", i, c.Update)
			} else if after, _ := d.EncodeStateAsUpdate(nil); !bytes.Equal(before, after) {
				t.Errorf("case %d: rejected update changed the doc", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		got, _ := d.EncodeStateAsUpdate(nil)
		if want := mustHex(t, c.State); !bytes.Equal(got, want) {
			t.Errorf("case %d: update %s\n got %x\nwant %x", i, c.Update, got, want)
		}
	}
}
