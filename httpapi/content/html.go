package content

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// RenderHTML writes doc as TipTap's editor.getHTML() does for the
// StarterKit schema: <p>, <h1>…<h6>, <ul>/<ol start>/<li><p>, <blockquote>,
// <pre><code class="language-x">, <br>, <hr>, and marks nested in schema
// order as <a target rel href>, <strong>, <code>, <em>, <s>, <u>.
func RenderHTML(doc *Node) string {
	var b strings.Builder
	for _, c := range doc.Content {
		renderHTMLBlock(&b, c)
	}
	return b.String()
}

func renderHTMLBlock(b *strings.Builder, n *Node) {
	switch n.Type {
	case TypeParagraph:
		b.WriteString("<p>")
		renderHTMLInline(b, n.Content)
		b.WriteString("</p>")
	case TypeHeading:
		lv := strconv.Itoa(min(max(n.AttrInt("level", 1), 1), 6))
		b.WriteString("<h" + lv + ">")
		renderHTMLInline(b, n.Content)
		b.WriteString("</h" + lv + ">")
	case TypeBulletList:
		b.WriteString("<ul>")
		renderHTMLChildren(b, n)
		b.WriteString("</ul>")
	case TypeOrderedList:
		b.WriteString("<ol")
		if start := n.AttrInt("start", 1); start != 1 {
			b.WriteString(` start="` + strconv.Itoa(start) + `"`)
		}
		if t := n.AttrString("type"); t != "" && t != "1" {
			b.WriteString(` type="` + escapeHTMLAttr(t) + `"`)
		}
		b.WriteString(">")
		renderHTMLChildren(b, n)
		b.WriteString("</ol>")
	case TypeListItem:
		b.WriteString("<li>")
		renderHTMLChildren(b, n)
		b.WriteString("</li>")
	case TypeBlockquote:
		b.WriteString("<blockquote>")
		renderHTMLChildren(b, n)
		b.WriteString("</blockquote>")
	case TypeCodeBlock:
		b.WriteString("<pre><code")
		if lang := n.AttrString("language"); lang != "" {
			b.WriteString(` class="language-` + escapeHTMLAttr(lang) + `"`)
		}
		b.WriteString(">")
		b.WriteString(escapeHTMLText(n.TextContent()))
		b.WriteString("</code></pre>")
	case TypeHorizontalRule:
		b.WriteString("<hr>")
	default:
		renderHTMLInline(b, []*Node{n})
	}
}

func renderHTMLChildren(b *strings.Builder, n *Node) {
	for _, c := range n.Content {
		renderHTMLBlock(b, c)
	}
}

// renderHTMLInline nests marks as ProseMirror's DOMSerializer does: marks a
// node shares with the open ones (from the outside in) stay open, the rest
// close and the node's other marks open.
func renderHTMLInline(b *strings.Builder, nodes []*Node) {
	var open []Mark
	for _, n := range nodes {
		keep := 0
		for keep < len(open) && keep < len(n.Marks) && open[keep].equal(n.Marks[keep]) {
			keep++
		}
		for i := len(open) - 1; i >= keep; i-- {
			b.WriteString(closeTag(open[i]))
		}
		open = open[:keep]
		for _, m := range n.Marks[keep:] {
			b.WriteString(openTag(m))
			open = append(open, m)
		}
		switch n.Type {
		case TypeText:
			b.WriteString(escapeHTMLText(n.Text))
		case TypeHardBreak:
			b.WriteString("<br>")
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString(closeTag(open[i]))
	}
}

func openTag(m Mark) string {
	switch m.Type {
	case MarkLink:
		var s strings.Builder
		s.WriteString("<a")
		// TipTap merges its HTMLAttributes option (target, rel, class) with the
		// mark's attributes (href, target, rel, class, title), in that key order.
		for _, k := range []string{"target", "rel", "class"} {
			if v := m.attrString(k); v != "" {
				s.WriteString(" " + k + `="` + escapeHTMLAttr(v) + `"`)
			}
		}
		href := m.attrString("href")
		if !isAllowedURI(href) {
			href = "" // as TipTap does: never render a javascript: link
		}
		s.WriteString(` href="` + escapeHTMLAttr(href) + `"`)
		if v := m.attrString("title"); v != "" {
			s.WriteString(` title="` + escapeHTMLAttr(v) + `"`)
		}
		s.WriteString(">")
		return s.String()
	case MarkBold:
		return "<strong>"
	case MarkItalic:
		return "<em>"
	case MarkStrike:
		return "<s>"
	case MarkCode:
		return "<code>"
	case MarkUnderline:
		return "<u>"
	}
	return ""
}

func closeTag(m Mark) string {
	switch m.Type {
	case MarkLink:
		return "</a>"
	case MarkBold:
		return "</strong>"
	case MarkItalic:
		return "</em>"
	case MarkStrike:
		return "</s>"
	case MarkCode:
		return "</code>"
	case MarkUnderline:
		return "</u>"
	}
	return ""
}

// escapeHTMLText escapes as a browser's innerHTML serialisation does.
var htmlTextEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;")
var htmlAttrEscaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "\u00a0", "&nbsp;")

func escapeHTMLText(s string) string { return htmlTextEscaper.Replace(s) }
func escapeHTMLAttr(s string) string { return htmlAttrEscaper.Replace(s) }

// allowedURI is TipTap's Link check: a known scheme, or something that is
// not a scheme at all (relative paths, "example.com/x"). It keeps
// javascript: and data: URLs out of documents.
var allowedURI = regexp.MustCompile(`(?i)^(?:(?:http|https|ftp|ftps|mailto|tel|callto|sms|cid|xmpp):|[^a-z]|[a-z0-9+.\-]+(?:[^a-z+.\-:]|$))`)

var unicodeSpace = regexp.MustCompile(`[\x{0000}-\x{0020}\x{00A0}\x{1680}\x{180E}\x{2000}-\x{2029}\x{205F}\x{3000}]`)

func isAllowedURI(uri string) bool {
	return uri == "" || allowedURI.MatchString(unicodeSpace.ReplaceAllString(uri, ""))
}

// LinkMark returns a link mark with TipTap's default attributes.
func LinkMark(href, title string) Mark {
	m := Mark{Type: MarkLink, Attrs: defaultMarkAttrs(MarkLink)}
	m.Attrs["href"] = href
	if title != "" {
		m.Attrs["title"] = title
	}
	return m
}

// ParseHTML reads an HTML document or fragment. It is tolerant, as a paste
// into the editor is: tags outside the schema give their text (block tags
// such as <div> or <td> their own paragraphs), <script>, <style> and other
// non-content elements are dropped, links with unsafe URLs lose the link.
// Only input that is not UTF-8 is refused.
func ParseHTML(src []byte) (*Node, error) {
	if !utf8.Valid(src) {
		return nil, invalidf("HTML is not valid UTF-8")
	}
	root, err := html.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, invalidf("HTML: %v", err)
	}
	body := findBody(root)
	if body == nil {
		return NewDoc(), nil
	}
	doc := fixDoc(htmlChildren(body, nil))
	collapseDocSpaces(doc)
	return doc, nil
}

func findBody(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == atom.Body {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if b := findBody(c); b != nil {
			return b
		}
	}
	return nil
}

func htmlChildren(n *html.Node, marks []Mark) []*Node {
	var out []*Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, htmlNode(c, marks)...)
	}
	return out
}

var htmlSpaces = regexp.MustCompile(`[ \t\r\n\f]+`)

func htmlNode(n *html.Node, marks []Mark) []*Node {
	switch n.Type {
	case html.TextNode:
		t := htmlSpaces.ReplaceAllString(n.Data, " ")
		if t == "" {
			return nil
		}
		return []*Node{{Type: TypeText, Text: t, Marks: append([]Mark(nil), marks...)}}
	case html.ElementNode:
	default:
		return nil
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Iframe, atom.Object, atom.Embed,
		atom.Svg, atom.Math, atom.Head, atom.Title, atom.Meta, atom.Link, atom.Canvas, atom.Audio,
		atom.Video, atom.Img, atom.Input, atom.Select, atom.Textarea, atom.Button:
		return nil
	case atom.P:
		return []*Node{{Type: TypeParagraph, Content: htmlChildren(n, marks)}}
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		lv := float64(n.Data[1] - '0')
		return []*Node{{Type: TypeHeading, Attrs: map[string]any{"level": lv}, Content: htmlChildren(n, marks)}}
	case atom.Ul:
		return []*Node{{Type: TypeBulletList, Content: htmlChildren(n, nil)}}
	case atom.Ol:
		attrs := defaultAttrs(TypeOrderedList)
		if s, ok := htmlAttr(n, "start"); ok {
			if v, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && v >= 0 {
				attrs["start"] = float64(v)
			}
		}
		if t, ok := htmlAttr(n, "type"); ok && t != "" {
			attrs["type"] = t
		}
		return []*Node{{Type: TypeOrderedList, Attrs: attrs, Content: htmlChildren(n, nil)}}
	case atom.Li:
		return []*Node{{Type: TypeListItem, Content: htmlChildren(n, marks)}}
	case atom.Blockquote:
		return []*Node{{Type: TypeBlockquote, Content: htmlChildren(n, marks)}}
	case atom.Pre:
		attrs := defaultAttrs(TypeCodeBlock)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				if cls, ok := htmlAttr(c, "class"); ok {
					for _, f := range strings.Fields(cls) {
						if lang, ok := strings.CutPrefix(f, "language-"); ok && lang != "" {
							attrs["language"] = lang
							break
						}
					}
				}
				break
			}
		}
		text := htmlText(n)
		var kids []*Node
		if text != "" {
			kids = []*Node{{Type: TypeText, Text: text}}
		}
		return []*Node{{Type: TypeCodeBlock, Attrs: attrs, Content: kids}}
	case atom.Hr:
		return []*Node{{Type: TypeHorizontalRule}}
	case atom.Br:
		return []*Node{{Type: TypeHardBreak}}
	case atom.Strong, atom.B:
		if st, _ := htmlAttr(n, "style"); strings.Contains(strings.ReplaceAll(st, " ", ""), "font-weight:normal") {
			return htmlChildren(n, marks) // Google Docs wraps pastes in <b style="font-weight:normal">
		}
		return htmlChildren(n, withMark(marks, Mark{Type: MarkBold}))
	case atom.Em, atom.I:
		return htmlChildren(n, withMark(marks, Mark{Type: MarkItalic}))
	case atom.S, atom.Del, atom.Strike:
		return htmlChildren(n, withMark(marks, Mark{Type: MarkStrike}))
	case atom.U:
		return htmlChildren(n, withMark(marks, Mark{Type: MarkUnderline}))
	case atom.Code, atom.Kbd, atom.Samp, atom.Tt:
		return htmlChildren(n, withMark(marks, Mark{Type: MarkCode}))
	case atom.A:
		href, ok := htmlAttr(n, "href")
		if !ok || href == "" || !isAllowedURI(href) {
			return htmlChildren(n, marks)
		}
		m := LinkMark(href, "")
		for _, k := range []string{"target", "rel", "class", "title"} {
			if v, ok := htmlAttr(n, k); ok {
				m.Attrs[k] = v
			}
		}
		return htmlChildren(n, withMark(marks, m))
	}
	if isHTMLBlockElement(n.DataAtom) {
		// Block wrappers (div, section, td, …) give their content its own blocks.
		return fixBlocks(htmlChildren(n, marks))
	}
	return htmlChildren(n, marks) // inline wrappers (span, font, …) are transparent
}

func isHTMLBlockElement(a atom.Atom) bool {
	switch a {
	case atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Main, atom.Nav, atom.Aside,
		atom.Figure, atom.Figcaption, atom.Table, atom.Thead, atom.Tbody, atom.Tfoot, atom.Tr, atom.Td,
		atom.Th, atom.Caption, atom.Dl, atom.Dt, atom.Dd, atom.Address, atom.Details, atom.Summary,
		atom.Form, atom.Fieldset, atom.Legend, atom.Center, atom.Body, atom.Html, atom.Menu, atom.Hgroup:
		return true
	}
	return false
}

// withMark adds m to marks, replacing a mark of the same type (an inner
// link wins over an outer one) and keeping code exclusive: code text takes
// no other marks, as StarterKit's code mark excludes all others.
func withMark(marks []Mark, m Mark) []Mark {
	if _, ok := hasMark(marks, MarkCode); ok {
		return marks
	}
	var out []Mark
	if m.Type != MarkCode {
		for _, x := range marks {
			if x.Type != m.Type {
				out = append(out, x)
			}
		}
	}
	out = append(out, m)
	sortMarks(out)
	return out
}

func htmlAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func htmlText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		switch {
		case x.Type == html.TextNode:
			b.WriteString(x.Data)
		case x.Type == html.ElementNode && x.DataAtom == atom.Br:
			b.WriteString("\n")
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// collapseDocSpaces applies HTML's whitespace rules to every paragraph and
// heading: spaces at the start and end of a line vanish, runs become one.
func collapseDocSpaces(n *Node) {
	switch n.Type {
	case TypeParagraph, TypeHeading:
		n.Content = collapseSpaces(n.Content)
		return
	case TypeCodeBlock:
		return
	}
	for _, c := range n.Content {
		collapseDocSpaces(c)
	}
}

func collapseSpaces(kids []*Node) []*Node {
	var out []*Node
	lineStart := true
	for _, k := range kids {
		if k.Type != TypeText {
			// Trailing space before a break goes.
			out = trimTrailingSpace(out)
			out = append(out, k)
			lineStart = true
			continue
		}
		t := k.Text
		if lineStart || (len(out) > 0 && out[len(out)-1].Type == TypeText && strings.HasSuffix(out[len(out)-1].Text, " ")) {
			t = strings.TrimLeft(t, " ")
		}
		if t == "" {
			continue
		}
		lineStart = false
		out = appendText(out, t, k.Marks)
	}
	return trimTrailingSpace(out)
}

func trimTrailingSpace(out []*Node) []*Node {
	for len(out) > 0 && out[len(out)-1].Type == TypeText {
		last := out[len(out)-1]
		last.Text = strings.TrimRight(last.Text, " ")
		if last.Text != "" {
			break
		}
		out = out[:len(out)-1]
	}
	return out
}
