package content

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/quire/quire/crdt"
)

// A long document (~200 KB of Markdown) of every kind of block.
func benchDoc(b *testing.B) *Node {
	b.Helper()
	g := &docGen{r: rand.New(rand.NewPCG(42, 42))}
	var blocks []*Node
	for len(blocks) < 2000 {
		blocks = append(blocks, g.block(0))
	}
	d := NewDoc(blocks...)
	if err := Validate(d); err != nil {
		b.Fatal(err)
	}
	return d
}

func BenchmarkMarkdown(b *testing.B) {
	doc := benchDoc(b)
	md := []byte(RenderMarkdown(doc))
	b.Run("render", func(b *testing.B) {
		b.SetBytes(int64(len(md)))
		for b.Loop() {
			RenderMarkdown(doc)
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(md)))
		for b.Loop() {
			if _, err := ParseMarkdown(md); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkHTML(b *testing.B) {
	doc := benchDoc(b)
	h := []byte(RenderHTML(doc))
	b.Run("render", func(b *testing.B) {
		b.SetBytes(int64(len(h)))
		for b.Loop() {
			RenderHTML(doc)
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(h)))
		for b.Loop() {
			if _, err := ParseHTML(h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFragment(b *testing.B) {
	doc := benchDoc(b)
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			d := crdt.NewDoc()
			var err error
			d.Transact(func() { err = WriteFragment(d.GetXmlFragment("default"), doc) })
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	d := crdt.NewDoc()
	d.Transact(func() { _ = WriteFragment(d.GetXmlFragment("default"), doc) })
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, err := FromFragment(d.GetXmlFragment("default")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update-one-paragraph", func(b *testing.B) {
		changed := *doc
		changed.Content = append([]*Node(nil), doc.Content...)
		for b.Loop() {
			b.StopTimer()
			changed.Content[len(changed.Content)/2] = &Node{Type: TypeParagraph, Content: []*Node{{Type: TypeText, Text: strconv.FormatInt(rand.N[int64](1<<40), 36)}}}
			b.StartTimer()
			var err error
			d.Transact(func() { err = UpdateFragment(d.GetXmlFragment("default"), &changed) })
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
