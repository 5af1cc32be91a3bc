package content

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/quire/quire/crdt"
)

// The oracle: documents written by real TipTap editors (y-tiptap) in Node,
// see testdata/pm/gen.mjs. For each, the ProseMirror JSON we read from the
// Yjs update must equal y-prosemirror's yXmlFragmentToProsemirrorJSON, the
// normalised document must equal TipTap's editor.getJSON(), and our HTML
// must equal TipTap's editor.getHTML().

type golden struct {
	ProseMirror json.RawMessage `json:"prosemirror"`
	TipTap      json.RawMessage `json:"tiptap"`
	HTML        string          `json:"html"`
}

func loadGoldens(t *testing.T) map[string]golden {
	t.Helper()
	files, err := filepath.Glob("testdata/pm/golden/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no goldens in testdata/pm/golden (run make content-goldens): %v", err)
	}
	out := map[string]golden{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = g
	}
	return out
}

func loadUpdate(t *testing.T, name string) *crdt.Doc {
	t.Helper()
	u, err := os.ReadFile(filepath.Join("testdata/pm/golden", name+".update"))
	if err != nil {
		t.Fatal(err)
	}
	d := crdt.NewDoc()
	if err := d.ApplyUpdate(u); err != nil {
		t.Fatalf("%s: apply update: %v", name, err)
	}
	return d
}

// canonicalJSON decodes JSON into plain values with every "marks" list
// sorted by mark type: y-prosemirror lists marks in the order their
// formats were applied, which a Go map does not keep; ProseMirror itself
// sorts them by schema rank when it builds nodes.
func canonicalJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(x any) {
		switch y := x.(type) {
		case map[string]any:
			if ms, ok := y["marks"].([]any); ok {
				sort.SliceStable(ms, func(i, j int) bool {
					return ms[i].(map[string]any)["type"].(string) < ms[j].(map[string]any)["type"].(string)
				})
			}
			for _, c := range y {
				walk(c)
			}
		case []any:
			for _, c := range y {
				walk(c)
			}
		}
	}
	walk(v)
	return v
}

func TestFragmentMatchesYProsemirror(t *testing.T) {
	for name, g := range loadGoldens(t) {
		t.Run(name, func(t *testing.T) {
			d := loadUpdate(t, name)
			frag := d.GetXmlFragment("default")
			raw, err := json.Marshal(FragmentJSON(frag))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := canonicalJSON(t, raw), canonicalJSON(t, g.ProseMirror); !reflect.DeepEqual(got, want) {
				t.Errorf("FragmentJSON differs from y-prosemirror:\n got %s\nwant %s", raw, g.ProseMirror)
			}
			doc, err := FromFragment(frag)
			if err != nil {
				t.Fatal(err)
			}
			norm, _ := doc.JSON()
			if got, want := canonicalJSON(t, norm), canonicalJSON(t, g.TipTap); !reflect.DeepEqual(got, want) {
				t.Errorf("FromFragment differs from TipTap's getJSON:\n got %s\nwant %s", norm, g.TipTap)
			}
			if got := RenderHTML(doc); got != g.HTML {
				t.Errorf("HTML differs from TipTap's getHTML:\n got %s\nwant %s", got, g.HTML)
			}
		})
	}
}
