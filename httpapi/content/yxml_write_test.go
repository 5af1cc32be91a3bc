package content

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/quire/quire/crdt"
)

// testDocs are the documents the writer tests use: every Markdown case
// and a batch of random documents.
func testDocs(t *testing.T, random int) []*Node {
	t.Helper()
	var docs []*Node
	for _, c := range markdownCases {
		d, err := ParseMarkdown([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	for seed := range uint64(random) {
		g := &docGen{r: rand.New(rand.NewPCG(seed, 11))}
		d := NewDoc(g.blocks(0)...)
		if err := Validate(d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

func writeDoc(t *testing.T, doc *Node) []byte {
	t.Helper()
	d := crdt.NewDoc()
	var err error
	d.Transact(func() { err = WriteFragment(d.GetXmlFragment("default"), doc) })
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readDoc(t *testing.T, update []byte) *Node {
	t.Helper()
	d := crdt.NewDoc()
	if err := d.ApplyUpdate(update); err != nil {
		t.Fatal(err)
	}
	doc, err := FromFragment(d.GetXmlFragment("default"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func sameDoc(t *testing.T, what string, got, want *Node) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := got.JSON()
		w, _ := want.JSON()
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func TestWriteFragmentReadsBack(t *testing.T) {
	for i, doc := range testDocs(t, 300) {
		sameDoc(t, fmt.Sprintf("doc %d written and read back", i), readDoc(t, writeDoc(t, doc)), WithTrailingParagraph(doc))
	}
}

func TestUpdateFragment(t *testing.T) {
	docs := testDocs(t, 120)
	for i := range docs {
		from, to := docs[i], docs[(i*7+3)%len(docs)]
		d := crdt.NewDoc()
		if err := d.ApplyUpdate(writeDoc(t, from)); err != nil {
			t.Fatal(err)
		}
		var err error
		d.Transact(func() { err = UpdateFragment(d.GetXmlFragment("default"), to) })
		if err != nil {
			t.Fatal(err)
		}
		u, _ := d.EncodeStateAsUpdate(nil)
		sameDoc(t, fmt.Sprintf("update %d → %d", i, (i*7+3)%len(docs)), readDoc(t, u), WithTrailingParagraph(to))
		// Updating to the same document again changes nothing.
		if again := d.Transact(func() { err = UpdateFragment(d.GetXmlFragment("default"), to) }); again != nil || err != nil {
			t.Fatalf("update %d: a second identical update made a change (%d bytes, %v)", i, len(again), err)
		}
	}
}

// An import that changes one paragraph leaves the others alone, so what a
// person types into them at the same time survives the merge.
func TestUpdateFragmentKeepsConcurrentTyping(t *testing.T) {
	start, _ := ParseMarkdown([]byte("First paragraph.\n\nSecond **paragraph**.\n\nThird.\n"))
	server := crdt.NewDoc(crdt.WithClientID(1))
	if err := server.ApplyUpdate(writeDoc(t, start)); err != nil {
		t.Fatal(err)
	}
	client := crdt.NewDoc(crdt.WithClientID(2))
	s0, _ := server.EncodeStateAsUpdate(nil)
	if err := client.ApplyUpdate(s0); err != nil {
		t.Fatal(err)
	}
	// The client types into the first paragraph…
	typed := client.Transact(func() {
		p := client.GetXmlFragment("default").Children()[0].(*crdt.XmlElement)
		p.Children()[0].(*crdt.XmlText).Insert(5, " typed")
	})
	// …while an import rewrites the third and adds a fourth.
	imported, _ := ParseMarkdown([]byte("First paragraph.\n\nSecond **paragraph**.\n\nThird, _changed_.\n\n- new\n"))
	var err error
	edit := server.Transact(func() { err = UpdateFragment(server.GetXmlFragment("default"), imported) })
	if err != nil {
		t.Fatal(err)
	}
	if err := server.ApplyUpdate(typed); err != nil {
		t.Fatal(err)
	}
	if err := client.ApplyUpdate(edit); err != nil {
		t.Fatal(err)
	}
	want, _ := ParseMarkdown([]byte("First typed paragraph.\n\nSecond **paragraph**.\n\nThird, _changed_.\n\n- new\n"))
	want = WithTrailingParagraph(want)
	for name, d := range map[string]*crdt.Doc{"server": server, "client": client} {
		got, err := FromFragment(d.GetXmlFragment("default"))
		if err != nil {
			t.Fatal(err)
		}
		sameDoc(t, name, got, want)
	}
}

// Real TipTap editors open what we write: the documents they show are the
// ones we wrote, and y-prosemirror finds nothing to repair.
func TestTipTapReadsWhatWeWrite(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is required for this test: %v", err)
	}
	if _, err := os.Stat("testdata/pm/node_modules/@tiptap/core/package.json"); err != nil {
		t.Fatalf("TipTap is not installed: run `make content-deps` (npm ci in httpapi/content/testdata/pm): %v", err)
	}
	dir := t.TempDir()
	docs := testDocs(t, 40)
	// Plus documents reached by UpdateFragment, whose structure differs.
	for i := 0; i+1 < len(docs) && i < 20; i += 2 {
		d := crdt.NewDoc()
		if err := d.ApplyUpdate(writeDoc(t, docs[i])); err != nil {
			t.Fatal(err)
		}
		var err error
		d.Transact(func() { err = UpdateFragment(d.GetXmlFragment("default"), docs[i+1]) })
		if err != nil {
			t.Fatal(err)
		}
		u, _ := d.EncodeStateAsUpdate(nil)
		f := filepath.Join(dir, fmt.Sprintf("u%03d.update", i))
		if err := os.WriteFile(f, u, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	var want []*Node
	for i, doc := range docs {
		f := filepath.Join(dir, fmt.Sprintf("w%03d.update", i))
		if err := os.WriteFile(f, writeDoc(t, doc), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		want = append(want, WithTrailingParagraph(doc))
	}
	for i := 0; i+1 < len(docs) && i < 20; i += 2 {
		files = append(files, filepath.Join(dir, fmt.Sprintf("u%03d.update", i)))
		want = append(want, WithTrailingParagraph(docs[i+1]))
	}
	cmd := exec.Command("node", append([]string{"read.mjs"}, files...)...)
	cmd.Dir = "testdata/pm"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node read.mjs: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	i := 0
	for ; sc.Scan(); i++ {
		var res struct {
			TipTap          json.RawMessage `json:"tiptap"`
			HTML            string          `json:"html"`
			ChangedByEditor bool            `json:"changedByEditor"`
		}
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		ours, _ := want[i].JSON()
		if res.ChangedByEditor {
			t.Errorf("%s: opening it in TipTap changed the document (y-prosemirror repaired something)", files[i])
		}
		if got, w := canonicalJSON(t, res.TipTap), canonicalJSON(t, ours); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: TipTap shows\n %s\nwe wrote\n %s", files[i], res.TipTap, ours)
		}
		if h := RenderHTML(want[i]); h != res.HTML {
			t.Errorf("%s: TipTap's HTML\n %s\nours\n %s", files[i], res.HTML, h)
		}
	}
	if i != len(files) {
		t.Fatalf("node answered for %d of %d files", i, len(files))
	}
}

// Content written by other editors or by hand does not stop an export:
// what the schema cannot hold gives its text.
func TestFromFragmentForeignContent(t *testing.T) {
	d := crdt.NewDoc()
	d.Transact(func() {
		f := d.GetXmlFragment("default")
		img, _ := f.InsertElement(0, "image")
		_ = img.SetAttribute("src", "x.png")
		fig, _ := f.InsertElement(1, "figure")
		cap, _ := fig.InsertText(0)
		cap.Insert(0, "caption")
		h, _ := f.InsertElement(2, "heading")
		_ = h.SetAttribute("level", "huge")
		_ = h.SetAttribute("align", "center")
		ht, _ := h.InsertText(0)
		ht.InsertFormatted(0, "Title", map[string]any{"link": map[string]any{"title": "no href"}, "highlight": map[string]any{}})
		p, _ := f.InsertElement(3, "paragraph")
		inner, _ := p.InsertElement(0, "paragraph")
		it, _ := inner.InsertText(0)
		it.InsertFormatted(0, "nested", map[string]any{"bold": true})
	})
	doc, err := FromFragment(d.GetXmlFragment("default"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := RenderHTML(doc), "<p>caption</p><h1>Title</h1><p><strong>nested</strong></p>"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
