package content

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

// Each case imports Markdown and checks what comes out as Markdown and as
// HTML. Between them the cases cover every node and mark of the schema.
var markdownCases = []struct {
	name     string
	in       string
	markdown string // "" means: same as in
	html     string
}{
	{"paragraphs", "One.\n\nTwo.\n", "",
		"<p>One.</p><p>Two.</p>"},
	{"soft break is a space", "one\ntwo\n", "one two\n",
		"<p>one two</p>"},
	{"headings", "# H1\n\n## H2\n\n### H3\n\n#### H4\n\n##### H5\n\n###### H6\n", "",
		"<h1>H1</h1><h2>H2</h2><h3>H3</h3><h4>H4</h4><h5>H5</h5><h6>H6</h6>"},
	{"setext heading", "Title\n=====\n", "# Title\n",
		"<h1>Title</h1>"},
	{"marks", "**bold** _italic_ ~~strike~~ `code` <u>under</u>\n", "",
		"<p><strong>bold</strong> <em>italic</em> <s>strike</s> <code>code</code> <u>under</u></p>"},
	{"star italic and underscore bold", "*it* __b__\n", "_it_ **b**\n",
		"<p><em>it</em> <strong>b</strong></p>"},
	{"nested marks", "**bold _both_** ~~**x**~~\n", "**bold _both_** **~~x~~**\n",
		"<p><strong>bold <em>both</em></strong> <strong><s>x</s></strong></p>"},
	{"link", "[Quire](https://example.com/a_b \"The title\") and <https://x.org>\n", "[Quire](https://example.com/a_b \"The title\") and [https://x.org](https://x.org)\n",
		`<p><a target="_blank" rel="noopener noreferrer nofollow" href="https://example.com/a_b" title="The title">Quire</a> and <a target="_blank" rel="noopener noreferrer nofollow" href="https://x.org">https://x.org</a></p>`},
	{"bold link", "**[a](/x)** [**b**](/y)\n", "[**a**](/x) [**b**](/y)\n",
		`<p><a target="_blank" rel="noopener noreferrer nofollow" href="/x"><strong>a</strong></a> <a target="_blank" rel="noopener noreferrer nofollow" href="/y"><strong>b</strong></a></p>`},
	{"link destination with spaces and parens", "[a](<my file.md>) [b](x\\(1)\n", "[a](<my file.md>) [b](<x(1>)\n",
		`<p><a target="_blank" rel="noopener noreferrer nofollow" href="my file.md">a</a> <a target="_blank" rel="noopener noreferrer nofollow" href="x(1">b</a></p>`},
	{"email autolink", "<me@example.com>\n", "[me@example.com](mailto:me@example.com)\n",
		`<p><a target="_blank" rel="noopener noreferrer nofollow" href="mailto:me@example.com">me@example.com</a></p>`},
	{"unsafe link drops the link", "[click](javascript:alert(1))\n", "click\n",
		"<p>click</p>"},
	{"hard breaks", "a\\\nb  \nc\n", "a\\\nb\\\nc\n",
		"<p>a<br>b<br>c</p>"},
	{"hard break in heading", "# a<br>b\n", "",
		"<h1>a<br>b</h1>"},
	{"bullet list", "- one\n- two\n  - nested\n- three\n", "",
		"<ul><li><p>one</p></li><li><p>two</p><ul><li><p>nested</p></li></ul></li><li><p>three</p></li></ul>"},
	{"ordered list with start", "3. three\n4. four\n", "",
		`<ol start="3"><li><p>three</p></li><li><p>four</p></li></ol>`},
	{"ordered list from one", "1. a\n2. b\n", "",
		"<ol><li><p>a</p></li><li><p>b</p></li></ol>"},
	{"list item with two paragraphs", "- a\n\n  b\n- c\n", "",
		"<ul><li><p>a</p><p>b</p></li><li><p>c</p></li></ul>"},
	{"adjacent lists stay apart", "- a\n- b\n\n* c\n", "",
		"<ul><li><p>a</p></li><li><p>b</p></li></ul><ul><li><p>c</p></li></ul>"},
	{"blockquote", "> quoted\n>\n> - item\n", "",
		"<blockquote><p>quoted</p><ul><li><p>item</p></li></ul></blockquote>"},
	{"code block", "```go\nfunc main() {\n\tprintln(\"<hi>\")\n}\n```\n", "",
		"<pre><code class=\"language-go\">func main() {\n\tprintln(\"&lt;hi&gt;\")\n}</code></pre>"},
	{"code block holding a fence", "````\n```\n````\n", "",
		"<pre><code>```</code></pre>"},
	{"indented code", "    x = 1\n", "```\nx = 1\n```\n",
		"<pre><code>x = 1</code></pre>"},
	{"horizontal rule", "a\n\n***\n\nb\n", "a\n\n---\n\nb\n",
		"<p>a</p><hr><p>b</p>"},
	{"escaped syntax stays text", "\\*not\\* \\_em\\_ \\`x\\` \\[y\\] \\<b\\> 1\\. \\# h \\~~s\\~~ a\\\\b a\\~b\n", "\\*not\\* \\_em\\_ \\`x\\` \\[y\\] \\<b> 1. # h &#126;&#126;s&#126;&#126; a\\\\b a\\~b\n",
		"<p>*not* _em_ `x` [y] &lt;b&gt; 1. # h ~~s~~ a\\b a~b</p>"},
	{"line-start markers are escaped", "\\# not heading\n\n\\- not list\n\n1\\. not list\n\n\\> not quote\n\n\\+ x\n", "",
		"<p># not heading</p><p>- not list</p><p>1. not list</p><p>&gt; not quote</p><p>+ x</p>"},
	{"entities", "AT&amp;T &copy; &#65; & co \\&amp;\n", "AT&T © A & co \\&amp;\n",
		"<p>AT&amp;T © A &amp; co &amp;amp;</p>"},
	{"code span with backticks", "`` a`b `` ` `` `\n", "``a`b`` ``` `` ```\n",
		"<p><code>a`b</code> <code>``</code></p>"},
	{"image becomes linked alt text", "![a cat](cat.png)\n", "[a cat](cat.png)\n",
		`<p><a target="_blank" rel="noopener noreferrer nofollow" href="cat.png">a cat</a></p>`},
	{"html block is read as HTML", "<div><p>in <em>div</em></p><script>alert(1)</script></div>\n", "in _div_\n",
		"<p>in <em>div</em></p>"},
	{"empty document", "", "",
		"<p></p>"},
	{"unicode", "Zoë 🎉 **日本語**\n", "",
		"<p>Zoë 🎉 <strong>日本語</strong></p>"},
}

func TestMarkdownImport(t *testing.T) {
	for _, c := range markdownCases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := ParseMarkdown([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(doc); err != nil {
				t.Fatalf("parser made an invalid document: %v", err)
			}
			want := c.markdown
			if want == "" {
				want = c.in
			}
			if got := RenderMarkdown(doc); got != want {
				t.Errorf("markdown:\n got %q\nwant %q", got, want)
			}
			if got := RenderHTML(doc); got != c.html {
				t.Errorf("html:\n got %s\nwant %s", got, c.html)
			}
			// Markdown written by us reads back as the same document.
			again, err := ParseMarkdown([]byte(RenderMarkdown(doc)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, doc) {
				a, _ := again.JSON()
				b, _ := doc.JSON()
				t.Errorf("markdown round trip changed the document:\n got %s\nwant %s", a, b)
			}
			// So does HTML.
			fromHTML, err := ParseHTML([]byte(RenderHTML(doc)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromHTML, doc) {
				a, _ := fromHTML.JSON()
				b, _ := doc.JSON()
				t.Errorf("html round trip changed the document:\n got %s\nwant %s", a, b)
			}
		})
	}
}

// Markdown written from documents built by hand: the cases where a naive
// writer produces Markdown that reads back differently.
func TestMarkdownWriterEscaping(t *testing.T) {
	txt := func(s string, marks ...string) *Node {
		n := &Node{Type: TypeText, Text: s}
		for _, m := range marks {
			n.Marks = append(n.Marks, Mark{Type: m})
		}
		return n
	}
	p := func(kids ...*Node) *Node { return &Node{Type: TypeParagraph, Content: kids} }
	cases := []struct {
		name string
		doc  *Node
		want string
	}{
		{"bold after punctuation before a letter", NewDoc(p(txt("a"), txt("(b)", MarkBold), txt("c"))), "a<strong>(b)</strong>c\n"},
		{"italic inside a word", NewDoc(p(txt("un"), txt("believ", MarkItalic), txt("able"))), "un*believ*able\n"},
		{"spaces at mark edges move out", NewDoc(p(txt("a"), txt(" b ", MarkBold), txt("c"))), "a **b** c\n"},
		{"leading and trailing spaces kept", NewDoc(p(txt("  x  "))), "&#32;&#32;x&#32;&#32;\n"},
		{"heading with trailing hashes", NewDoc(&Node{Type: TypeHeading, Attrs: map[string]any{"level": float64(2)}, Content: []*Node{txt("C#")}}), "## C\\#\n"},
		{"hard break at the end", NewDoc(p(txt("a"), &Node{Type: TypeHardBreak})), "a<br>\n"},
		{"numbers that look like a list", NewDoc(p(txt("2024. A year"))), "2024\\. A year\n"},
		{"underline", NewDoc(p(txt("u", MarkUnderline, MarkItalic))), "_<u>u</u>_\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Validate(c.doc); err != nil {
				t.Fatal(err)
			}
			got := RenderMarkdown(c.doc)
			if got != c.want {
				t.Errorf("got %q want %q", got, c.want)
			}
			back, err := ParseMarkdown([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if RenderMarkdown(back) != got {
				t.Errorf("not stable: %q -> %q", got, RenderMarkdown(back))
			}
			if c.name != "spaces at mark edges move out" && !reflect.DeepEqual(back, c.doc) {
				a, _ := back.JSON()
				b, _ := c.doc.JSON()
				t.Errorf("read back differs:\n got %s\nwant %s", a, b)
			}
		})
	}
}

// HTML as TipTap's getHTML writes it comes back unchanged; foreign HTML is
// read tolerantly.
func TestHTMLImport(t *testing.T) {
	roundTrips := []string{
		"<p>plain</p>",
		"<p></p>",
		"<h2>Sub <em>title</em></h2><p>a<br>b</p>",
		`<ol start="5" type="a"><li><p>x</p><ol><li><p>y</p></li></ol></li></ol>`,
		`<p><a target="_self" rel="noopener" class="btn" href="https://q.example/?a=1&amp;b=&quot;2&quot;" title="t">l<strong>i</strong></a>nk</p>`,
		"<blockquote><h1>q</h1><pre><code class=\"language-js\">if (a &lt; b &amp;&amp; c) {}\n  x</code></pre></blockquote>",
		"<p>a&nbsp;&nbsp;b <s><u>c</u></s></p><hr>",
		"<ul><li><p></p></li></ul>",
	}
	for _, h := range roundTrips {
		doc, err := ParseHTML([]byte(h))
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(doc); err != nil {
			t.Fatalf("%s: invalid document: %v", h, err)
		}
		if got := RenderHTML(doc); got != h {
			t.Errorf("round trip:\n got %s\nwant %s", got, h)
		}
	}
	tolerant := []struct{ in, want string }{
		{"hello", "<p>hello</p>"},
		{"<div>one</div><div>two <span style=\"color:red\">three</span></div>", "<p>one</p><p>two three</p>"},
		{"<p>  lots   of\n\tspace  </p>", "<p>lots of space</p>"},
		{"<script>alert(1)</script><style>p{}</style><p>safe</p>", "<p>safe</p>"},
		{"<p>x<img src=x onerror=alert(1)>y</p>", "<p>xy</p>"},
		{`<a href="javascript:alert(1)">js</a>`, "<p>js</p>"},
		{"<ul><li>bare item</li><p>stray</p></ul>", "<ul><li><p>bare item</p></li><li><p>stray</p></li></ul>"},
		{"<li>lonely</li>", "<p>lonely</p>"},
		{"<b>bold <i>both</i></b>", "<p><strong>bold <em>both</em></strong></p>"},
		{`<b style="font-weight:normal;"><span>google docs</span></b>`, "<p>google docs</p>"},
		{"<table><tr><td>a</td><td>b</td></tr></table>", "<p>a</p><p>b</p>"},
		{"<blockquote></blockquote>", "<blockquote><p></p></blockquote>"},
		{"<pre>line1\n  line2</pre>", "<pre><code>line1\n  line2</code></pre>"},
		{"<code>a <b>b</b></code>", "<p><code>a b</code></p>"},
		{"<p>unclosed <em>em", "<p>unclosed <em>em</em></p>"},
		{"<html><head><title>T</title></head><body><h3>B</h3></body></html>", "<h3>B</h3>"},
		{"", "<p></p>"},
	}
	for _, c := range tolerant {
		doc, err := ParseHTML([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(doc); err != nil {
			t.Fatalf("%s: invalid document: %v", c.in, err)
		}
		if got := RenderHTML(doc); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	doc, err := ParseText([]byte("first\r\nsecond\n\n<b>not bold</b>\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := RenderHTML(doc), "<p>first</p><p>second</p><p></p><p>&lt;b&gt;not bold&lt;/b&gt;</p>"; got != want {
		t.Errorf("html: got %s want %s", got, want)
	}
	if got, want := RenderText(doc), "first\nsecond\n\n<b>not bold</b>"; got != want {
		t.Errorf("text: got %q want %q", got, want)
	}
	md, _ := ParseMarkdown([]byte("# T\n\n- a\n- b\\\n  c\n\n```\ncode\n```\n"))
	if got, want := RenderText(md), "T\na\nb\nc\ncode"; got != want {
		t.Errorf("text of markdown: got %q want %q", got, want)
	}
}

func TestProseMirrorJSON(t *testing.T) {
	src := `{"type":"doc","content":[{"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"T"}]},` +
		`{"type":"paragraph","content":[{"type":"text","marks":[{"type":"italic"},{"type":"link","attrs":{"href":"/x"}}],"text":"a"}]}]}`
	doc, err := ParseProseMirror([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	// Defaults filled in, marks in schema order (link first).
	got, _ := doc.JSON()
	want := `{"type":"doc","content":[{"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"T"}]},` +
		`{"type":"paragraph","content":[{"type":"text","marks":[{"type":"link","attrs":{"class":null,"href":"/x","rel":"noopener noreferrer nofollow","target":"_blank","title":null}},{"type":"italic"}],"text":"a"}]}]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestMalformedInput(t *testing.T) {
	cases := []struct {
		format Format
		in     string
		msg    string // part of the error message
	}{
		{FormatProseMirror, `{"type":"doc"`, "prosemirror JSON"},
		{FormatProseMirror, `[]`, "prosemirror JSON"},
		{FormatProseMirror, `{"type":"paragraph"}`, `top node must have type "doc"`},
		{FormatProseMirror, `{"type":"doc","content":[]}`, "doc needs at least one block"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"image"}]}`, `doc.content[0]: doc may only hold blocks, got "image"`},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"table","content":[]}]}`, `got "table"`},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"heading","attrs":{"level":9}}]}`, "doc.content[0]: heading attrs.level must be an integer from 1 to 6"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]}`, "doc.content[0].content[0]: text nodes must have non-empty text"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"comment"}]}]}]}`, `unknown mark type "comment"`},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"link"}]}]}]}`, "link needs attrs.href"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"bold"},{"type":"code"}]}]}]}`, "code cannot be combined with other marks"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"bulletList","content":[{"type":"paragraph"}]}]}`, "bulletList may only hold listItem nodes"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"heading"}]}]}]}`, "listItem must start with a paragraph"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"paragraph","content":[{"type":"paragraph"}]}]}`, "paragraph may only hold text and hardBreak"},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"paragraph","attrs":{"align":"left"}}]}`, `paragraph has no attribute "align"`},
		{FormatProseMirror, `{"type":"doc","content":[{"type":"paragraph"}],"extra":1}`, `unknown field "extra"`},
		{FormatMarkdown, "bad \xff utf-8", "markdown is not valid UTF-8"},
		{FormatMarkdown, "ok\n\n" + strings.Repeat(">", 401) + " deep\n", "markdown line 3 is nested or indented more than 400 columns"},
		{FormatHTML, strings.Repeat("<div>", 600), "open stack of elements exceeds 512"},
		{FormatHTML, "<p>\xfe</p>", "HTML is not valid UTF-8"},
		{FormatText, "\xc3", "text is not valid UTF-8"},
	}
	for _, c := range cases {
		_, err := Parse(c.format, []byte(c.in))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s %q: want ErrInvalid, got %v", c.format, c.in, err)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s %q: error %q does not say %q", c.format, c.in, err, c.msg)
		}
	}
	if _, err := Parse("docx", nil); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: got %v", err)
	}
	if _, err := Render("docx", NewDoc()); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: got %v", err)
	}
}

func TestSplice(t *testing.T) {
	words := []string{"a", "b", "é", "🎉", "日本", " ", "\n", "ab", "🎉🎉"}
	r := rand.New(rand.NewPCG(3, 4))
	pick := func() string {
		var b strings.Builder
		for range r.IntN(8) {
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	for range 2000 {
		cur, want := pick(), pick()
		idx, remove, ins := splice(cur, want)
		u := utf16.Encode([]rune(cur))
		got := string(utf16.Decode(u[:idx])) + ins + string(utf16.Decode(u[idx+remove:]))
		if got != want {
			t.Fatalf("splice(%q, %q) = %d %d %q gives %q", cur, want, idx, remove, ins, got)
		}
	}
}
