package content

import (
	"strings"
	"unicode/utf8"
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
