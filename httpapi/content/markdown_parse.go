package content

import (
	"bufio"
	"bytes"
	stdhtml "html"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// CommonMark plus GFM strikethrough (~~x~~), the one extension the schema
// has a mark for.
var markdownParser = goldmark.New(goldmark.WithExtensions(extension.Strikethrough)).Parser()

// ParseMarkdown reads CommonMark (with ~~strikethrough~~). Elements the
// schema lacks degrade to their text: images become a link on their alt
// text, HTML blocks are read as HTML (see ParseHTML), inline HTML tags
// <u>, <strong>/<b>, <em>/<i>, <s>/<del>, <code> and <br> are honoured and
// other tags dropped. Only input that is not UTF-8 is refused.
func ParseMarkdown(src []byte) (*Node, error) {
	if !utf8.Valid(src) {
		return nil, invalidf("markdown is not valid UTF-8")
	}
	if err := checkMarkdownNesting(src); err != nil {
		return nil, err
	}
	root := markdownParser.Parse(text.NewReader(src), parser.WithContext(parser.NewContext()))
	p := &mdParser{src: src}
	return fixDoc(p.blocks(root)), nil
}

type mdParser struct {
	src []byte
	// Marks opened by inline HTML tags (<u>…</u>) in the current textblock.
	htmlMarks []Mark
}

func (p *mdParser) blocks(parent ast.Node) []*Node {
	var out []*Node
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		out = append(out, p.block(c)...)
	}
	return out
}

func (p *mdParser) block(n ast.Node) []*Node {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return []*Node{{Type: TypeParagraph, Content: p.inlineBlock(n)}}
	case *ast.Heading:
		return []*Node{{Type: TypeHeading, Attrs: map[string]any{"level": float64(n.Level)}, Content: p.inlineBlock(n)}}
	case *ast.ThematicBreak:
		return []*Node{{Type: TypeHorizontalRule}}
	case *ast.FencedCodeBlock:
		attrs := defaultAttrs(TypeCodeBlock)
		if lang := n.Language(p.src); len(lang) > 0 {
			attrs["language"] = p.decode(lang)
		}
		return []*Node{codeBlock(attrs, p.lines(n))}
	case *ast.CodeBlock:
		return []*Node{codeBlock(defaultAttrs(TypeCodeBlock), p.lines(n))}
	case *ast.Blockquote:
		return []*Node{{Type: TypeBlockquote, Content: p.blocks(n)}}
	case *ast.List:
		if n.IsOrdered() {
			attrs := defaultAttrs(TypeOrderedList)
			attrs["start"] = float64(n.Start)
			return []*Node{{Type: TypeOrderedList, Attrs: attrs, Content: p.blocks(n)}}
		}
		return []*Node{{Type: TypeBulletList, Content: p.blocks(n)}}
	case *ast.ListItem:
		return []*Node{{Type: TypeListItem, Content: p.blocks(n)}}
	case *ast.HTMLBlock:
		var b bytes.Buffer
		for i := range n.Lines().Len() {
			seg := n.Lines().At(i)
			b.Write(seg.Value(p.src))
		}
		if n.HasClosure() {
			b.Write(n.ClosureLine.Value(p.src))
		}
		doc, err := ParseHTML(b.Bytes())
		if err != nil {
			return nil
		}
		return doc.Content
	}
	// Anything else (a link reference definition leaves nothing): its blocks.
	return p.blocks(n)
}

func codeBlock(attrs map[string]any, body string) *Node {
	n := &Node{Type: TypeCodeBlock, Attrs: attrs}
	body = strings.TrimSuffix(body, "\n")
	if body != "" {
		n.Content = []*Node{{Type: TypeText, Text: body}}
	}
	return n
}

func (p *mdParser) lines(n ast.Node) string {
	var b strings.Builder
	for i := range n.Lines().Len() {
		seg := n.Lines().At(i)
		b.Write(seg.Value(p.src))
	}
	return b.String()
}

// decode resolves backslash escapes and entity references, as a CommonMark
// renderer does for text, link destinations and titles.
func (p *mdParser) decode(raw []byte) string {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	gmhtml.NewWriter().Write(w, raw)
	_ = w.Flush()
	return stdhtml.UnescapeString(buf.String())
}

func (p *mdParser) inlineBlock(n ast.Node) []*Node {
	p.htmlMarks = nil
	var out []*Node
	out = p.inlines(n, nil, out)
	return trimInline(out)
}

// linked reads n's children with a link to destination added to marks, or
// without one if the URI is not allowed.
func (p *mdParser) linked(n ast.Node, destination, title []byte, marks []Mark, out []*Node) []*Node {
	href := p.decode(destination)
	if !isAllowedURI(href) {
		return p.inlines(n, marks, out)
	}
	return p.inlines(n, withMark(marks, LinkMark(href, p.decode(title))), out)
}

func (p *mdParser) inlines(parent ast.Node, marks []Mark, out []*Node) []*Node {
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		out = p.inline(c, marks, out)
	}
	return out
}

func (p *mdParser) activeMarks(marks []Mark) []Mark {
	ms := marks
	for _, m := range p.htmlMarks {
		ms = withMark(ms, m)
	}
	return ms
}

func (p *mdParser) inline(n ast.Node, marks []Mark, out []*Node) []*Node {
	switch n := n.(type) {
	case *ast.Text:
		out = appendText(out, p.decode(n.Value(p.src)), p.activeMarks(marks))
		switch {
		case n.HardLineBreak():
			out = append(out, &Node{Type: TypeHardBreak})
		case n.SoftLineBreak():
			out = appendText(out, " ", p.activeMarks(marks))
		}
		return out
	case *ast.String:
		if n.IsCode() || n.IsRaw() {
			return appendText(out, string(n.Value), p.activeMarks(marks))
		}
		return appendText(out, p.decode(n.Value), p.activeMarks(marks))
	case *ast.CodeSpan:
		var b strings.Builder
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch t := c.(type) {
			case *ast.Text:
				v := t.Value(p.src)
				if bytes.HasSuffix(v, []byte("\n")) {
					v = append(v[:len(v)-1:len(v)-1], ' ')
				}
				b.Write(v)
			case *ast.String:
				b.Write(t.Value)
			}
		}
		return appendText(out, b.String(), withMark(p.activeMarks(marks), Mark{Type: MarkCode}))
	case *ast.Emphasis:
		m := Mark{Type: MarkItalic}
		if n.Level >= 2 {
			m.Type = MarkBold
		}
		return p.inlines(n, withMark(marks, m), out)
	case *extast.Strikethrough:
		return p.inlines(n, withMark(marks, Mark{Type: MarkStrike}), out)
	case *ast.Link:
		return p.linked(n, n.Destination, n.Title, marks, out)
	case *ast.AutoLink:
		url := string(n.URL(p.src))
		label := string(n.Label(p.src))
		if n.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(url), "mailto:") {
			url = "mailto:" + url
		}
		if !isAllowedURI(url) {
			return appendText(out, label, p.activeMarks(marks))
		}
		return appendText(out, label, withMark(p.activeMarks(marks), LinkMark(url, "")))
	case *ast.Image:
		// No image node in the schema: keep the alt text, linked to the image.
		return p.linked(n, n.Destination, n.Title, marks, out)
	case *ast.RawHTML:
		var b strings.Builder
		for i := range n.Segments.Len() {
			seg := n.Segments.At(i)
			b.Write(seg.Value(p.src))
		}
		return p.rawHTML(b.String(), out)
	}
	return p.inlines(n, marks, out)
}

// rawHTML honours the inline tags that map onto the schema's marks.
func (p *mdParser) rawHTML(tag string, out []*Node) []*Node {
	t := strings.ToLower(strings.TrimSpace(tag))
	if !strings.HasPrefix(t, "<") {
		return out
	}
	closing := strings.HasPrefix(t, "</")
	name := strings.TrimLeft(t, "</")
	if i := strings.IndexAny(name, " \t\n/>"); i >= 0 {
		name = name[:i]
	}
	var mt string
	switch name {
	case "br":
		return append(out, &Node{Type: TypeHardBreak})
	case "u", "ins":
		mt = MarkUnderline
	case "strong", "b":
		mt = MarkBold
	case "em", "i":
		mt = MarkItalic
	case "s", "del", "strike":
		mt = MarkStrike
	case "code":
		mt = MarkCode
	default:
		return out
	}
	if closing {
		for i := len(p.htmlMarks) - 1; i >= 0; i-- {
			if p.htmlMarks[i].Type == mt {
				p.htmlMarks = append(p.htmlMarks[:i:i], p.htmlMarks[i+1:]...)
				break
			}
		}
		return out
	}
	p.htmlMarks = append(p.htmlMarks, Mark{Type: mt})
	return out
}

// maxMarkdownIndent bounds how deep a line may nest (columns of leading
// spaces, tabs and '>' markers). goldmark's time grows much faster than the
// input with nesting depth (2000 nested list levels take a minute), and no
// document needs 200 levels.
const maxMarkdownIndent = 400

func checkMarkdownNesting(src []byte) error {
	line := 1
	col := 0
	inLead := true
	for _, c := range src {
		switch {
		case c == '\n':
			line++
			col, inLead = 0, true
			continue
		case !inLead:
			continue
		case c == ' ' || c == '>':
			col++
		case c == '\t':
			col += 4
		default:
			inLead = false
			continue
		}
		if col > maxMarkdownIndent {
			return invalidf("markdown line %d is nested or indented more than %d columns deep; flatten it", line, maxMarkdownIndent)
		}
	}
	return nil
}
