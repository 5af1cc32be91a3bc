package content

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RenderMarkdown writes doc as CommonMark (plus ~~strikethrough~~) that
// ParseMarkdown, or any CommonMark parser, reads back as the same
// structure. Text is escaped wherever it could be read as syntax. Where a
// mark's Markdown delimiter would not be recognised at that spot (bold
// ending before a letter right after punctuation, say), the mark is
// written as inline HTML (<strong>…</strong>), which CommonMark keeps.
// Underline has no Markdown form and is always <u>…</u>; hard breaks are
// a backslash before the line end (<br> in headings and at a block's end).
// Empty paragraphs have no Markdown form and are left out; link
// attributes other than href and title are not kept.
func RenderMarkdown(doc *Node) string {
	lines := mdBlocks(doc.Content)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// mdBlocks renders blocks separated by blank lines.
func mdBlocks(blocks []*Node) []string {
	var out []string
	var prev *Node
	alt := false
	for _, b := range blocks {
		alt = prev != nil && prev.Type == b.Type && !alt
		lines := mdBlock(b, alt)
		if lines == nil {
			continue
		}
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, lines...)
		prev = b
	}
	return out
}

// mdBlock renders one block; alt asks a list for its other marker, which
// keeps it apart from a list of the same kind just before it.
func mdBlock(n *Node, alt bool) []string {
	switch n.Type {
	case TypeParagraph:
		if len(n.Content) == 0 {
			return nil
		}
		return strings.Split(mdInline(n.Content, false), "\n")
	case TypeHeading:
		lv := min(max(n.AttrInt("level", 1), 1), 6)
		s := strings.Repeat("#", lv)
		if in := mdInline(n.Content, true); in != "" {
			s += " " + in
		}
		return []string{s}
	case TypeCodeBlock:
		body := n.TextContent()
		fenceChar := "`"
		lang := n.AttrString("language")
		if strings.Contains(lang, "`") {
			fenceChar = "~"
		}
		fence := strings.Repeat(fenceChar, max(3, longestRun(body, fenceChar[0])+1))
		out := []string{fence + mdInfo.Replace(lang)}
		if body != "" {
			out = append(out, strings.Split(body, "\n")...)
		}
		return append(out, fence)
	case TypeHorizontalRule:
		return []string{"---"}
	case TypeBlockquote:
		inner := mdBlocks(n.Content)
		if len(inner) == 0 {
			inner = []string{""}
		}
		out := make([]string, len(inner))
		for i, l := range inner {
			if l == "" {
				out[i] = ">"
			} else {
				out[i] = "> " + l
			}
		}
		return out
	case TypeBulletList, TypeOrderedList:
		var out []string
		num := n.AttrInt("start", 1)
		for _, item := range n.Content {
			var marker string
			if n.Type == TypeBulletList {
				marker = "-"
				if alt {
					marker = "*"
				}
			} else {
				marker = strconv.Itoa(num) + "."
				if alt {
					marker = strconv.Itoa(num) + ")"
				}
				num++
			}
			indent := strings.Repeat(" ", len(marker)+1)
			inner := mdItemBlocks(item.Content)
			if len(inner) == 0 {
				out = append(out, marker)
				continue
			}
			for i, l := range inner {
				switch {
				case i == 0 && l == "":
					out = append(out, marker)
				case i == 0:
					out = append(out, marker+" "+l)
				case l == "":
					out = append(out, "")
				default:
					out = append(out, indent+l)
				}
			}
		}
		return out
	}
	return nil
}

// mdItemBlocks renders a list item's blocks; a nested list follows its
// paragraph without a blank line (keeping the list tight) when CommonMark
// lets a list interrupt a paragraph: bullets, or numbering from 1.
func mdItemBlocks(blocks []*Node) []string {
	var out []string
	var prev *Node
	alt := false
	for _, b := range blocks {
		alt = prev != nil && prev.Type == b.Type && !alt
		lines := mdBlock(b, alt)
		if lines == nil {
			continue
		}
		tight := prev != nil && prev.Type == TypeParagraph &&
			(b.Type == TypeBulletList || b.Type == TypeOrderedList && b.AttrInt("start", 1) == 1)
		if len(out) > 0 && !tight {
			out = append(out, "")
		}
		out = append(out, lines...)
		prev = b
	}
	return out
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// Inline rendering works on a token list first, so that each mark can
// look at the characters around its delimiters before choosing between
// Markdown and HTML.

type mdTokKind int

const (
	tokText  mdTokKind = iota // escaped text
	tokRaw                    // syntax that is not a mark delimiter (hard break)
	tokOpen                   // mark opens
	tokClose                  // mark closes
)

type mdTok struct {
	kind mdTokKind
	s    string
	mark Mark
	pair int // index of the matching open/close token
}

// mdMarkOrder nests marks in Markdown: code must be innermost (a code span
// holds no markup), link outermost.
var mdMarkOrder = map[string]int{MarkLink: 0, MarkBold: 1, MarkItalic: 2, MarkStrike: 3, MarkUnderline: 4, MarkCode: 5}

func mdSortedMarks(ms []Mark) []Mark {
	out := append([]Mark(nil), ms...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && mdMarkOrder[out[j].Type] < mdMarkOrder[out[j-1].Type]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func mdInline(nodes []*Node, inHeading bool) string {
	var toks []mdTok
	var open []int // indexes of open tokens
	closeTo := func(keep int) {
		for len(open) > keep {
			oi := open[len(open)-1]
			open = open[:len(open)-1]
			toks = append(toks, mdTok{kind: tokClose, mark: toks[oi].mark, pair: oi})
			toks[oi].pair = len(toks) - 1
		}
	}
	var codeText strings.Builder
	for idx, n := range nodes {
		marks := mdSortedMarks(n.Marks)
		if n.Type != TypeText {
			marks = nil
		}
		keep := 0
		for keep < len(open) && keep < len(marks) && toks[open[keep]].mark.equal(marks[keep]) {
			keep++
		}
		closeTo(keep)
		for _, m := range marks[keep:] {
			toks = append(toks, mdTok{kind: tokOpen, mark: m})
			open = append(open, len(toks)-1)
		}
		switch n.Type {
		case TypeText:
			text := strings.ReplaceAll(n.Text, "\n", " ")
			if _, ok := hasMark(marks, MarkCode); ok {
				// Code text is literal; it is written when the span closes.
				codeText.WriteString(text)
				toks = append(toks, mdTok{kind: tokText, s: text})
				continue
			}
			toks = append(toks, mdTok{kind: tokText, s: text})
		case TypeHardBreak:
			closeTo(0)
			if inHeading || idx == len(nodes)-1 {
				toks = append(toks, mdTok{kind: tokRaw, s: "<br>"})
			} else {
				toks = append(toks, mdTok{kind: tokRaw, s: "\\\n"})
			}
		}
	}
	closeTo(0)
	toks = mdMergeCode(toks)
	toks = mdHoistSpaces(toks)
	return mdEmit(toks, inHeading)
}

// mdMergeCode turns each code mark's open, text and close tokens into one
// raw code span token.
func mdMergeCode(toks []mdTok) []mdTok {
	var out []mdTok
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokOpen || t.mark.Type != MarkCode {
			out = append(out, t)
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(toks) && toks[j].kind != tokClose; j++ {
			b.WriteString(toks[j].s)
		}
		out = append(out, mdTok{kind: tokRaw, s: codeSpan(b.String())})
		i = j
	}
	// Pairs moved: recompute them.
	var stack []int
	for i := range out {
		switch out[i].kind {
		case tokOpen:
			stack = append(stack, i)
		case tokClose:
			oi := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out[oi].pair, out[i].pair = i, oi
		}
	}
	return out
}

func codeSpan(s string) string {
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		(strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.Trim(s, " ") != "") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdHoistSpaces moves spaces at the inner edges of emphasis out of it:
// "** bold **" is not bold in CommonMark, " **bold** " is.
func mdHoistSpaces(toks []mdTok) []mdTok {
	hoists := func(m Mark) bool {
		return m.Type == MarkBold || m.Type == MarkItalic || m.Type == MarkStrike
	}
	for changed := true; changed; {
		changed = false
		for i := 0; i+1 < len(toks); i++ {
			a, b := &toks[i], &toks[i+1]
			if a.kind == tokOpen && hoists(a.mark) && b.kind == tokText {
				if t := strings.TrimLeft(b.s, " \t"); t != b.s {
					sp := b.s[:len(b.s)-len(t)]
					b.s = t
					toks = insertTok(toks, i, mdTok{kind: tokText, s: sp})
					changed = true
					break
				}
			}
			if b.kind == tokClose && hoists(b.mark) && a.kind == tokText {
				if t := strings.TrimRight(a.s, " \t"); t != a.s {
					sp := a.s[len(t):]
					a.s = t
					toks = insertTok(toks, i+2, mdTok{kind: tokText, s: sp})
					changed = true
					break
				}
			}
		}
	}
	// Drop emptied text, then pair again.
	var out []mdTok
	for _, t := range toks {
		if t.kind == tokText && t.s == "" {
			continue
		}
		out = append(out, t)
	}
	// An emphasis left with nothing inside is dropped.
	var stack []int
	for i := range out {
		switch out[i].kind {
		case tokOpen:
			stack = append(stack, i)
		case tokClose:
			oi := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out[oi].pair, out[i].pair = i, oi
		}
	}
	return out
}

func insertTok(toks []mdTok, at int, t mdTok) []mdTok {
	toks = append(toks, mdTok{})
	copy(toks[at+1:], toks[at:])
	toks[at] = t
	return toks
}

// mdEmit escapes text and chooses each mark's delimiters.
func mdEmit(toks []mdTok, inHeading bool) string {
	// Escape text first: delimiter choice looks at the escaped characters.
	lineStart := true
	for i := range toks {
		t := &toks[i]
		switch t.kind {
		case tokText:
			atEnd := mdAtLineEnd(toks, i)
			t.s = escapeMarkdownText(t.s, lineStart, atEnd, inHeading)
			if strings.HasSuffix(t.s, "!") && i+1 < len(toks) && toks[i+1].kind == tokOpen && toks[i+1].mark.Type == MarkLink {
				t.s = t.s[:len(t.s)-1] + `\!` // "![" would start an image
			}
			lineStart = false
		case tokRaw:
			lineStart = strings.HasSuffix(t.s, "\n")
		}
	}
	delims := make([][2]string, len(toks))
	for i, t := range toks {
		if t.kind != tokOpen {
			continue
		}
		j := t.pair
		var cands []string
		switch t.mark.Type {
		case MarkBold:
			cands = []string{"**", "__"}
		case MarkItalic:
			cands = []string{"_", "*"}
		case MarkStrike:
			cands = []string{"~~"}
		}
		chosen := false
		// Delimiters of one character that touch merge into one run
		// ("**" + "*"), which parses differently: skip such candidates.
		touches := func(k int, c byte) bool {
			for _, n := range []int{k - 1, k + 1} {
				if n >= 0 && n < len(toks) && delims[n][0] != "" && delims[n][0][0] == c {
					return true
				}
			}
			return false
		}
		for _, d := range cands {
			if touches(i, d[0]) || touches(j, d[0]) {
				continue
			}
			if mdCanOpen(d[0], mdCharBefore(toks, i), mdCharAfter(toks, i)) &&
				mdCanClose(d[0], mdCharBefore(toks, j), mdCharAfter(toks, j)) {
				delims[i] = [2]string{d, ""}
				delims[j] = [2]string{d, ""}
				chosen = true
				break
			}
		}
		if !chosen {
			delims[i] = [2]string{openTagMD(t.mark), ""}
			delims[j] = [2]string{closeTagMD(t.mark), ""}
		}
	}
	var b strings.Builder
	for i, t := range toks {
		switch t.kind {
		case tokText:
			b.WriteString(t.s)
		case tokRaw:
			if t.s == "\\\n" && strings.HasSuffix(b.String(), `\`) {
				// goldmark reads "\\\" at a line end as text: break with spaces.
				b.WriteString("  \n")
				continue
			}
			b.WriteString(t.s)
		case tokOpen, tokClose:
			b.WriteString(delims[i][0])
		}
	}
	return b.String()
}

func openTagMD(m Mark) string {
	if m.Type == MarkLink {
		return "["
	}
	return openTag(m)
}

func closeTagMD(m Mark) string {
	if m.Type == MarkLink {
		return "](" + mdLinkDest(m.attrString("href")) + mdLinkTitle(m.attrString("title")) + ")"
	}
	return closeTag(m)
}

func mdLinkDest(href string) string {
	if href == "" || strings.ContainsAny(href, " \t\n<>") || !balancedParens(href) {
		return "<" + mdPointyDest.Replace(href) + ">"
	}
	return mdBareDest.Replace(href)
}

func balancedParens(s string) bool {
	depth := 0
	for _, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

func mdLinkTitle(title string) string {
	if title == "" {
		return ""
	}
	return ` "` + mdTitle.Replace(title) + `"`
}

// mdCharBefore is the last character written before token i; delimiters
// and tags count as punctuation, the start of the line as a space.
func mdCharBefore(toks []mdTok, i int) rune {
	for k := i - 1; k >= 0; k-- {
		switch toks[k].kind {
		case tokText, tokRaw:
			r, _ := utf8.DecodeLastRuneInString(toks[k].s)
			return r
		default:
			return '*'
		}
	}
	return ' '
}

func mdCharAfter(toks []mdTok, i int) rune {
	for k := i + 1; k < len(toks); k++ {
		switch toks[k].kind {
		case tokText, tokRaw:
			r, _ := utf8.DecodeRuneInString(toks[k].s)
			return r
		default:
			return '*'
		}
	}
	return ' '
}

func mdAtLineEnd(toks []mdTok, i int) bool {
	for k := i + 1; k < len(toks); k++ {
		switch toks[k].kind {
		case tokText:
			return false
		case tokRaw:
			return strings.HasSuffix(toks[k].s, "\n") || toks[k].s == "<br>"
		}
	}
	return true
}

func mdSpace(r rune) bool { return unicode.IsSpace(r) }
func mdPunct(r rune) bool {
	return r < 128 && unicode.IsPunct(r) || r < 128 && unicode.IsSymbol(r) || r >= 128 && (unicode.IsPunct(r) || unicode.IsSymbol(r))
}

func leftFlanking(before, after rune) bool {
	return !mdSpace(after) && (!mdPunct(after) || mdSpace(before) || mdPunct(before))
}

func rightFlanking(before, after rune) bool {
	return !mdSpace(before) && (!mdPunct(before) || mdSpace(after) || mdPunct(after))
}

func mdCanOpen(c byte, before, after rune) bool {
	l, r := leftFlanking(before, after), rightFlanking(before, after)
	if c == '_' {
		return l && (!r || mdPunct(before))
	}
	return l
}

func mdCanClose(c byte, before, after rune) bool {
	l, r := leftFlanking(before, after), rightFlanking(before, after)
	if c == '_' {
		return r && (!l || mdPunct(after))
	}
	return r
}

var (
	mdInfo         = strings.NewReplacer(`\`, `\\`, "&", `\&`, "\n", " ")
	mdEdgeSpaces   = strings.NewReplacer(" ", "&#32;", "\t", "&#9;")
	mdPointyDest   = strings.NewReplacer(`\`, `\\`, "<", `\<`, ">", `\>`, "\n", " ", "&", `\&`)
	mdBareDest     = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`, "&", `\&`)
	mdTitle        = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "&", `\&`, "\n", " ")
	mdEntityLike   = regexp.MustCompile(`^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)
	mdOrderedStart = regexp.MustCompile(`^([0-9]{1,9})([.)])`)
)

// escapeMarkdownText escapes s so it reads back as literal text. lineStart
// says s begins a line (block markers matter there), lineEnd that it ends
// one (trailing spaces would vanish or become a break).
func escapeMarkdownText(s string, lineStart, lineEnd, inHeading bool) string {
	var b strings.Builder
	if lineStart {
		// Leading spaces and tabs are stripped by parsers: write them as
		// character references.
		for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
			if s[0] == ' ' {
				b.WriteString("&#32;")
			} else {
				b.WriteString("&#9;")
			}
			s = s[1:]
		}
		if b.Len() == 0 && s != "" {
			if m := mdOrderedStart.FindStringSubmatch(s); m != nil {
				b.WriteString(m[1] + `\` + m[2])
				s = s[len(m[0]):]
			} else {
				switch s[0] {
				case '#', '>', '-', '+', '=':
					b.WriteString(`\` + s[:1])
					s = s[1:]
				}
			}
		}
	}
	trail := ""
	if lineEnd {
		t := strings.TrimRight(s, " \t")
		trail = mdEdgeSpaces.Replace(s[len(t):])
		s = t
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '~':
			// goldmark counts an escaped tilde into a neighbouring ~~ run,
			// so a tilde that could touch one is written as a reference.
			if i == 0 || i == len(s)-1 || s[i-1] == '~' || s[i+1] == '~' {
				b.WriteString("&#126;")
			} else {
				b.WriteString(`\~`)
			}
		case '\\', '*', '_', '`', '[', ']', '<':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '#':
			if inHeading {
				b.WriteString(`\#`)
			} else {
				b.WriteByte(c)
			}
		case '&':
			if mdEntityLike.MatchString(s[i:]) {
				b.WriteString(`\&`)
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(trail)
	return b.String()
}
