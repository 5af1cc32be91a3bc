package content

import (
	"strings"
	"unicode/utf8"

	"github.com/quire/quire/crdt"
)

// ParseText reads plain text: one paragraph per line (\n, \r\n or \r), a
// final line break ending the last line rather than starting a new one.
func ParseText(src []byte) (*Node, error) {
	if !utf8.Valid(src) {
		return nil, invalidf("text is not valid UTF-8")
	}
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	var blocks []*Node
	for line := range strings.SplitSeq(s, "\n") {
		p := &Node{Type: TypeParagraph}
		if line != "" {
			p.Content = []*Node{{Type: TypeText, Text: line}}
		}
		blocks = append(blocks, p)
	}
	return NewDoc(blocks...), nil
}

// RenderText writes the text of doc: each paragraph, heading and code
// block on its own line(s), hard breaks as line breaks, list and quote
// structure and marks dropped, horizontal rules omitted. ParseText reads
// it back as the same paragraphs.
func RenderText(doc *Node) string {
	var lines []string
	var walk func(*Node)
	walk = func(n *Node) {
		switch {
		case n.Type == TypeCodeBlock:
			lines = append(lines, n.TextContent())
		case n.IsTextblock():
			var b strings.Builder
			for _, c := range n.Content {
				if c.Type == TypeHardBreak {
					b.WriteByte('\n')
				}
				b.WriteString(c.Text)
			}
			lines = append(lines, b.String())
		default:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(doc)
	return strings.Join(lines, "\n")
}

// ParseTextRaw checks plain text for a Y.Text root: UTF-8, line breaks
// normalised to \n, kept otherwise as it is.
func ParseTextRaw(src []byte) (string, error) {
	if !utf8.Valid(src) {
		return "", invalidf("text is not valid UTF-8")
	}
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n"), nil
}

// SpliceText makes t hold want with one splice: the characters between the
// common prefix and suffix are replaced, so concurrent edits elsewhere in
// the text survive. Call it inside the Doc's Transact.
func SpliceText(t *crdt.Text, want string) {
	cur := t.String()
	if cur == want {
		return
	}
	spliceTo(t, cur, want)
}

// spliceTo makes t, whose text the caller read as cur, hold want: it
// deletes and inserts only the characters between their common prefix and
// suffix.
func spliceTo(t *crdt.Text, cur, want string) {
	idx, remove, ins := splice(cur, want)
	if remove > 0 {
		t.Delete(idx, remove)
	}
	if ins != "" {
		t.Insert(idx, ins)
	}
}

// splice finds the one edit from cur to want: the UTF-16 index, the UTF-16
// length to delete there, and the text to insert. It never splits a
// character.
func splice(cur, want string) (index, remove int, insert string) {
	ra, rb := []rune(cur), []rune(want)
	pre := 0
	for pre < len(ra) && pre < len(rb) && ra[pre] == rb[pre] {
		pre++
	}
	suf := 0
	for suf < len(ra)-pre && suf < len(rb)-pre && ra[len(ra)-1-suf] == rb[len(rb)-1-suf] {
		suf++
	}
	index = utf16Len(string(ra[:pre]))
	remove = utf16Len(string(ra[pre : len(ra)-suf]))
	return index, remove, string(rb[pre : len(rb)-suf])
}
