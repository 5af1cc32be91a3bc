package content

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// Random documents full of characters that mean something in Markdown or
// HTML must survive a trip through each format unchanged. The generator
// leaves out what a format cannot carry (documented on the renderers):
// empty paragraphs and edge spaces inside emphasis for Markdown, runs of
// spaces for HTML (a browser collapses them too).

type docGen struct {
	r    *rand.Rand
	html bool // generate only what HTML keeps
}

var trickyWords = []string{
	"a", "word", "*", "**", "_", "__", "`", "``", "[", "]", "(", ")", "<", ">", "&", "&amp;", "&#35;",
	"#", "-", "+", "=", "~", "~~", "!", "\\", "1.", "2)", "|", "\"", "'", "é", "🎉", "日本", "<b>",
	"http://x.y", "a_b_c", "x*y*z", "--", "***", "#tag", ":", "\u00a0",
}

func (g *docGen) text() string {
	n := 1 + g.r.IntN(5)
	var parts []string
	for range n {
		parts = append(parts, trickyWords[g.r.IntN(len(trickyWords))])
	}
	sep := " "
	if !g.html && g.r.IntN(4) == 0 {
		sep = "  "
	}
	if g.r.IntN(3) == 0 {
		sep = ""
	}
	return strings.Join(parts, sep)
}

func (g *docGen) marks() []Mark {
	if g.r.IntN(3) == 0 {
		return nil
	}
	if g.r.IntN(6) == 0 {
		return []Mark{{Type: MarkCode}}
	}
	var ms []Mark
	for _, t := range []string{MarkBold, MarkItalic, MarkStrike, MarkUnderline} {
		if g.r.IntN(3) == 0 {
			ms = append(ms, Mark{Type: t})
		}
	}
	if g.r.IntN(4) == 0 {
		hrefs := []string{"https://example.com/a_b?c=d&e=f", "/rel/path (1)", "mailto:x@y.z", "a b", "#frag", "x(y)"}
		ms = append(ms, LinkMark(hrefs[g.r.IntN(len(hrefs))], []string{"", "T \"q\"", "a\\b"}[g.r.IntN(3)]))
	}
	sortMarks(ms)
	return ms
}

func (g *docGen) inline(allowBreak bool) []*Node {
	var out []*Node
	n := 1 + g.r.IntN(5)
	for i := range n {
		if allowBreak && i > 0 && i < n-1 && g.r.IntN(5) == 0 && out[len(out)-1].Type != TypeHardBreak {
			out = append(out, &Node{Type: TypeHardBreak})
			continue
		}
		t := g.text()
		ms := g.marks()
		if g.html || hasEmphasis(ms) {
			t = strings.Trim(t, " ")
		}
		if t == "" {
			t = "x"
		}
		out = appendText(out, t, ms)
	}
	if g.html {
		out = collapseSpaces(out)
	}
	if len(out) == 0 {
		out = []*Node{{Type: TypeText, Text: "x"}}
	}
	return out
}

func hasEmphasis(ms []Mark) bool {
	for _, m := range ms {
		if m.Type == MarkBold || m.Type == MarkItalic || m.Type == MarkStrike {
			return true
		}
	}
	return false
}

func (g *docGen) blocks(depth int) []*Node {
	n := 1 + g.r.IntN(4)
	var out []*Node
	for range n {
		out = append(out, g.block(depth))
	}
	return out
}

func (g *docGen) block(depth int) *Node {
	k := g.r.IntN(8)
	if depth > 2 && k >= 5 {
		k = 0
	}
	switch k {
	case 0, 1:
		return &Node{Type: TypeParagraph, Content: g.inline(true)}
	case 2:
		return &Node{Type: TypeHeading, Attrs: map[string]any{"level": float64(1 + g.r.IntN(6))}, Content: g.inline(true)}
	case 3:
		lang := []any{nil, "go", "c++"}[g.r.IntN(3)]
		code := strings.Join([]string{"x := `a`", "```", "\t<tag> & *b*", "  ~~~", ""}[:1+g.r.IntN(4)], "\n")
		return &Node{Type: TypeCodeBlock, Attrs: map[string]any{"language": lang}, Content: []*Node{{Type: TypeText, Text: code}}}
	case 4:
		return &Node{Type: TypeHorizontalRule}
	case 5:
		return &Node{Type: TypeBlockquote, Content: g.blocks(depth + 1)}
	default:
		items := 1 + g.r.IntN(3)
		l := &Node{Type: TypeBulletList}
		if k == 7 {
			l = &Node{Type: TypeOrderedList, Attrs: map[string]any{"start": float64(g.r.IntN(12)), "type": nil}}
		}
		for range items {
			item := &Node{Type: TypeListItem, Content: []*Node{{Type: TypeParagraph, Content: g.inline(true)}}}
			if g.r.IntN(3) == 0 {
				item.Content = append(item.Content, g.blocks(depth+1)...)
			}
			l.Content = append(l.Content, item)
		}
		return l
	}
}

func TestRandomRoundTrips(t *testing.T) {
	for seed := range uint64(1000) {
		for _, html := range []bool{false, true} {
			g := &docGen{r: rand.New(rand.NewPCG(seed, 7)), html: html}
			doc := NewDoc(g.blocks(0)...)
			if err := Validate(doc); err != nil {
				t.Fatalf("seed %d: generator made an invalid doc: %v", seed, err)
			}
			want, _ := doc.JSON()
			var out string
			var back *Node
			var err error
			if html {
				out = RenderHTML(doc)
				back, err = ParseHTML([]byte(out))
			} else {
				out = RenderMarkdown(doc)
				back, err = ParseMarkdown([]byte(out))
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, doc) {
				got, _ := back.JSON()
				t.Fatalf("seed %d html=%v: round trip differs\nrendered:\n%s\n got %s\nwant %s", seed, html, out, got, want)
			}
		}
	}
}
