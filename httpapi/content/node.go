// Package content converts documents between the formats Quire's REST API
// speaks (Markdown, HTML, plain text, ProseMirror JSON) and the Yjs
// XmlFragment that TipTap's collaboration extension edits, through one
// model: the ProseMirror JSON document of TipTap 3's StarterKit schema.
//
// Every parser returns a document that is valid for that schema (a doc of
// blocks, list items that start with a paragraph, marks in schema order), so
// any document can be rendered to any format and written to a fragment.
package content

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Node is one ProseMirror node, as in ProseMirror's Node.toJSON.
type Node struct {
	Type    string         `json:"type"`
	Attrs   map[string]any `json:"attrs,omitzero"`
	Content []*Node        `json:"content,omitzero"` // [] kept: y-prosemirror writes it for elements whose children hold no text
	Marks   []Mark         `json:"marks,omitempty"`
	Text    string         `json:"text,omitempty"`
}

// Mark is one ProseMirror mark. Attrs is kept even when empty ({}), because
// that is how y-prosemirror reports marks read back from a Yjs document.
type Mark struct {
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attrs,omitzero"`
}

// Node and mark type names of TipTap 3's StarterKit schema.
const (
	TypeDoc            = "doc"
	TypeParagraph      = "paragraph"
	TypeHeading        = "heading"
	TypeBulletList     = "bulletList"
	TypeOrderedList    = "orderedList"
	TypeListItem       = "listItem"
	TypeBlockquote     = "blockquote"
	TypeCodeBlock      = "codeBlock"
	TypeHardBreak      = "hardBreak"
	TypeHorizontalRule = "horizontalRule"
	TypeText           = "text"

	MarkLink      = "link"
	MarkBold      = "bold"
	MarkCode      = "code"
	MarkItalic    = "italic"
	MarkStrike    = "strike"
	MarkUnderline = "underline"
)

// Errors. Parsers wrap ErrInvalid with what was wrong and where.
var (
	ErrInvalid       = errors.New("invalid content")
	ErrUnknownFormat = errors.New("unknown content format")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// markRank is the schema order of marks; ProseMirror keeps a node's marks
// sorted by it, and HTML nests them in that order (link outermost).
var markRank = map[string]int{
	MarkLink: 0, MarkBold: 1, MarkCode: 2, MarkItalic: 3, MarkStrike: 4, MarkUnderline: 5,
}

// Link defaults, as TipTap 3's Link extension sets them.
const (
	LinkDefaultTarget = "_blank"
	LinkDefaultRel    = "noopener noreferrer nofollow"
)

// defaultAttrs returns a fresh copy of a node type's attributes with their
// schema defaults, or nil for a type without attributes.
func defaultAttrs(nodeType string) map[string]any {
	switch nodeType {
	case TypeHeading:
		return map[string]any{"level": float64(1)}
	case TypeOrderedList:
		return map[string]any{"start": float64(1), "type": nil}
	case TypeCodeBlock:
		return map[string]any{"language": nil}
	}
	return nil
}

func defaultMarkAttrs(markType string) map[string]any {
	if markType == MarkLink {
		return map[string]any{"href": nil, "target": LinkDefaultTarget, "rel": LinkDefaultRel, "class": nil, "title": nil}
	}
	return nil
}

// NewDoc returns a document holding blocks, or one empty paragraph when
// there are none (a doc needs at least one block).
func NewDoc(blocks ...*Node) *Node {
	if len(blocks) == 0 {
		blocks = []*Node{{Type: TypeParagraph}}
	}
	return &Node{Type: TypeDoc, Content: blocks}
}

// IsBlock reports whether the node is a block node.
func (n *Node) IsBlock() bool {
	switch n.Type {
	case TypeParagraph, TypeHeading, TypeBulletList, TypeOrderedList, TypeBlockquote, TypeCodeBlock, TypeHorizontalRule:
		return true
	}
	return false
}

// IsTextblock reports whether the node holds inline content.
func (n *Node) IsTextblock() bool {
	return n.Type == TypeParagraph || n.Type == TypeHeading || n.Type == TypeCodeBlock
}

func isInline(t string) bool { return t == TypeText || t == TypeHardBreak }

// AttrString returns a string attribute, or "" when absent or not a string.
func (n *Node) AttrString(key string) string {
	s, _ := n.Attrs[key].(string)
	return s
}

// AttrInt returns a numeric attribute as an int, or def when absent.
func (n *Node) AttrInt(key string, def int) int {
	return anyInt(n.Attrs[key], def)
}

func anyInt(v any, def int) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int:
		return x
	case int64:
		return int(x)
	case uint64:
		return int(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
	}
	return def
}

func (m Mark) attrString(key string) string {
	s, _ := m.Attrs[key].(string)
	return s
}

// ParseProseMirror reads a ProseMirror JSON document, checks it against the
// schema and returns it with default attributes filled in and marks in
// schema order. Errors name the path of the offending node.
func ParseProseMirror(src []byte) (*Node, error) {
	if !utf8.Valid(src) {
		return nil, invalidf("prosemirror JSON is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(src)))
	dec.DisallowUnknownFields()
	var doc Node
	if err := dec.Decode(&doc); err != nil {
		return nil, invalidf("prosemirror JSON: %v", err)
	}
	if dec.More() {
		return nil, invalidf("prosemirror JSON: unexpected data after the document")
	}
	if err := Validate(&doc); err != nil {
		return nil, err
	}
	if err := checkExclusiveCode(&doc, "doc"); err != nil {
		return nil, err
	}
	return &doc, nil
}

// Validate checks a document against the StarterKit schema, filling in
// default attributes and sorting marks as it goes. The error says where
// ("content[1].content[0]") and what is wrong.
func Validate(doc *Node) error {
	if doc == nil || doc.Type != TypeDoc {
		return invalidf("the top node must have type %q", TypeDoc)
	}
	return validateNode(doc, "doc")
}

func validateNode(n *Node, path string) error {
	if n == nil {
		return invalidf("%s: null node", path)
	}
	if n.Type == TypeText {
		if n.Text == "" {
			return invalidf("%s: text nodes must have non-empty text", path)
		}
		if len(n.Content) > 0 || len(n.Attrs) > 0 {
			return invalidf("%s: text nodes have no content or attrs", path)
		}
		return validateMarks(n, path)
	}
	if n.Text != "" {
		return invalidf("%s: only text nodes have text (type %q)", path, n.Type)
	}
	if len(n.Marks) > 0 {
		if n.Type != TypeHardBreak {
			return invalidf("%s: %s nodes cannot have marks", path, n.Type)
		}
		if err := validateMarks(n, path); err != nil {
			return err
		}
	}
	if err := validateAttrs(n, path); err != nil {
		return err
	}
	kids := n.Content
	child := func(i int) string { return fmt.Sprintf("%s.content[%d]", path, i) }
	switch n.Type {
	case TypeDoc, TypeBlockquote:
		if len(kids) == 0 {
			return invalidf("%s: %s needs at least one block", path, n.Type)
		}
		for i, k := range kids {
			if k == nil || !k.IsBlock() {
				return invalidf("%s: %s may only hold blocks, got %s", child(i), n.Type, typeOf(k))
			}
		}
	case TypeBulletList, TypeOrderedList:
		if len(kids) == 0 {
			return invalidf("%s: %s needs at least one listItem", path, n.Type)
		}
		for i, k := range kids {
			if k == nil || k.Type != TypeListItem {
				return invalidf("%s: %s may only hold listItem nodes, got %s", child(i), n.Type, typeOf(k))
			}
		}
	case TypeListItem:
		if len(kids) == 0 || kids[0] == nil || kids[0].Type != TypeParagraph {
			return invalidf("%s: listItem must start with a paragraph", path)
		}
		for i, k := range kids {
			if k == nil || !k.IsBlock() {
				return invalidf("%s: listItem may only hold blocks, got %s", child(i), typeOf(k))
			}
		}
	case TypeParagraph, TypeHeading:
		for i, k := range kids {
			if k == nil || !isInline(k.Type) {
				return invalidf("%s: %s may only hold text and hardBreak, got %s", child(i), n.Type, typeOf(k))
			}
		}
	case TypeCodeBlock:
		for i, k := range kids {
			if k == nil || k.Type != TypeText {
				return invalidf("%s: codeBlock may only hold text, got %s", child(i), typeOf(k))
			}
			if len(k.Marks) > 0 {
				return invalidf("%s: text in a codeBlock cannot have marks", child(i))
			}
		}
	case TypeHardBreak, TypeHorizontalRule:
		if len(kids) > 0 {
			return invalidf("%s: %s has no content", path, n.Type)
		}
	default:
		return invalidf("%s: unknown node type %q (known: doc, paragraph, heading, bulletList, orderedList, listItem, blockquote, codeBlock, hardBreak, horizontalRule, text)", path, n.Type)
	}
	for i, k := range kids {
		if err := validateNode(k, child(i)); err != nil {
			return err
		}
	}
	return nil
}

func typeOf(n *Node) string {
	if n == nil {
		return "null"
	}
	return fmt.Sprintf("%q", n.Type)
}

func validateAttrs(n *Node, path string) error {
	defs := defaultAttrs(n.Type)
	for k := range n.Attrs {
		if _, ok := defs[k]; !ok {
			return invalidf("%s: %s has no attribute %q", path, n.Type, k)
		}
	}
	if defs == nil {
		n.Attrs = nil
		return nil
	}
	for k, v := range n.Attrs {
		defs[k] = v
	}
	n.Attrs = defs
	switch n.Type {
	case TypeHeading:
		lv, ok := n.Attrs["level"].(float64)
		if !ok || lv != float64(int(lv)) || lv < 1 || lv > 6 {
			return invalidf("%s: heading attrs.level must be an integer from 1 to 6, got %v", path, n.Attrs["level"])
		}
	case TypeOrderedList:
		st, ok := n.Attrs["start"].(float64)
		if !ok || st != float64(int64(st)) || st < 0 {
			return invalidf("%s: orderedList attrs.start must be a non-negative integer, got %v", path, n.Attrs["start"])
		}
		if t := n.Attrs["type"]; t != nil {
			if _, ok := t.(string); !ok {
				return invalidf("%s: orderedList attrs.type must be a string or null", path)
			}
		}
	case TypeCodeBlock:
		if l := n.Attrs["language"]; l != nil {
			if _, ok := l.(string); !ok {
				return invalidf("%s: codeBlock attrs.language must be a string or null", path)
			}
		}
	}
	return nil
}

func validateMarks(n *Node, path string) error {
	seen := map[string]bool{}
	for i, m := range n.Marks {
		if _, ok := markRank[m.Type]; !ok {
			return invalidf("%s.marks[%d]: unknown mark type %q (known: link, bold, code, italic, strike, underline)", path, i, m.Type)
		}
		if seen[m.Type] {
			return invalidf("%s.marks[%d]: mark %q appears twice", path, i, m.Type)
		}
		seen[m.Type] = true
		defs := defaultMarkAttrs(m.Type)
		for k, v := range m.Attrs {
			if _, ok := defs[k]; !ok {
				return invalidf("%s.marks[%d]: %s has no attribute %q", path, i, m.Type, k)
			}
			if v != nil {
				if _, ok := v.(string); !ok {
					return invalidf("%s.marks[%d]: link attrs.%s must be a string or null", path, i, k)
				}
			}
			defs[k] = v
		}
		n.Marks[i].Attrs = defs
		if m.Type == MarkLink {
			if _, ok := defs["href"].(string); !ok {
				return invalidf("%s.marks[%d]: link needs attrs.href", path, i)
			}
		}
	}
	sortMarks(n.Marks)
	return nil
}

// checkExclusiveCode rejects text with code and another mark: StarterKit's
// code mark excludes all others, so an editor would never produce it.
func checkExclusiveCode(n *Node, path string) error {
	if _, ok := hasMark(n.Marks, MarkCode); ok && len(n.Marks) > 1 {
		return invalidf("%s: code cannot be combined with other marks (StarterKit's code mark excludes them)", path)
	}
	for i, c := range n.Content {
		if err := checkExclusiveCode(c, fmt.Sprintf("%s.content[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// Normalize brings a document read from elsewhere (a Yjs fragment, say)
// into the form ProseMirror's Node.toJSON gives after parsing it with the
// schema: default attributes filled in, marks sorted, adjacent text with
// equal marks merged, empty text dropped. It reports what does not fit
// the schema, as Validate does, but accepts mark combinations that
// concurrent edits can produce (code with other marks).
func Normalize(doc *Node) error {
	mergeText(doc)
	return Validate(doc)
}

func mergeText(n *Node) {
	if len(n.Content) == 0 {
		n.Content = nil
		return
	}
	var out []*Node
	for _, c := range n.Content {
		if c == nil {
			out = append(out, c)
			continue
		}
		if c.Type == TypeText {
			for i := range c.Marks {
				if len(c.Marks[i].Attrs) == 0 {
					c.Marks[i].Attrs = nil
				}
			}
			sortMarks(c.Marks)
			if c.Text == "" {
				continue
			}
			out = appendText(out, c.Text, c.Marks)
			continue
		}
		mergeText(c)
		out = append(out, c)
	}
	n.Content = out // nil when all text was empty
}

func sortMarks(ms []Mark) {
	sort.SliceStable(ms, func(i, j int) bool { return markRank[ms[i].Type] < markRank[ms[j].Type] })
}

// JSON returns the document as ProseMirror JSON.
func (n *Node) JSON() ([]byte, error) {
	return json.Marshal(n)
}

// TextContent returns the concatenated text of a node and its descendants.
func (n *Node) TextContent() string {
	var b strings.Builder
	var walk func(*Node)
	walk = func(x *Node) {
		b.WriteString(x.Text)
		for _, c := range x.Content {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func sameMarks(a, b []Mark) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

func (m Mark) equal(o Mark) bool {
	if m.Type != o.Type {
		return false
	}
	for k, v := range m.Attrs {
		if v != nil && o.Attrs[k] != v {
			return false
		}
	}
	for k, v := range o.Attrs {
		if v != nil && m.Attrs[k] != v {
			return false
		}
	}
	return true
}

func hasMark(ms []Mark, t string) (Mark, bool) {
	for _, m := range ms {
		if m.Type == t {
			return m, true
		}
	}
	return Mark{}, false
}

// appendText adds text with marks to an inline list, merging it into the
// previous text node when the marks are equal (as ProseMirror does).
func appendText(nodes []*Node, text string, marks []Mark) []*Node {
	if text == "" {
		return nodes
	}
	if k := len(nodes); k > 0 && nodes[k-1].Type == TypeText && sameMarks(nodes[k-1].Marks, marks) {
		nodes[k-1].Text += text
		return nodes
	}
	ms := append([]Mark(nil), marks...)
	sortMarks(ms)
	return append(nodes, &Node{Type: TypeText, Text: text, Marks: ms})
}

// Format is a content format name as the REST API spells it.
type Format string

// Formats that Parse and Render know.
const (
	FormatMarkdown    Format = "markdown"
	FormatHTML        Format = "html"
	FormatText        Format = "text"
	FormatProseMirror Format = "prosemirror"
)

// Parse reads src in the given format.
func Parse(f Format, src []byte) (*Node, error) {
	switch f {
	case FormatMarkdown:
		return ParseMarkdown(src)
	case FormatHTML:
		return ParseHTML(src)
	case FormatText:
		return ParseText(src)
	case FormatProseMirror:
		return ParseProseMirror(src)
	}
	return nil, fmt.Errorf("%w: %q (use markdown, html, text or prosemirror)", ErrUnknownFormat, f)
}

// Render writes doc in the given format.
func Render(f Format, doc *Node) ([]byte, error) {
	switch f {
	case FormatMarkdown:
		return []byte(RenderMarkdown(doc)), nil
	case FormatHTML:
		return []byte(RenderHTML(doc)), nil
	case FormatText:
		return []byte(RenderText(doc)), nil
	case FormatProseMirror:
		return doc.JSON()
	}
	return nil, fmt.Errorf("%w: %q (use markdown, html, text or prosemirror)", ErrUnknownFormat, f)
}
