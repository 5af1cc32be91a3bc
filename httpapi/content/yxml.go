package content

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"

	"github.com/quire/quire/crdt"
)

// A document in a Yjs XmlFragment, as y-prosemirror (the binding under
// TipTap's collaboration extension) stores it:
//
//   - each node but text is an XmlElement named after its type, with its
//     non-null attributes as XML attributes (numbers stay numbers:
//     heading level 2 is the number 2);
//   - each run of adjacent text nodes is one XmlText; each mark is a
//     formatting attribute named after the mark whose value is the mark's
//     attributes object ({} for bold, {href, target, rel, class, title} with
//     nulls for a link). Marks that may overlap themselves get a "--hash"
//     suffix; y-prosemirror strips it when reading, and so do we.

// FragmentJSON reads a fragment exactly as y-prosemirror's
// yXmlFragmentToProsemirrorJSON does: one text node per delta insert (not
// merged), element attributes as stored, mark attrs as stored (nulls
// included). Only the order of marks may differ from y-prosemirror's
// (which lists them in the order their formats were applied); ProseMirror
// sorts them by schema rank anyway. XmlHooks, which y-prosemirror rejects,
// are skipped.
func FragmentJSON(f *crdt.XmlFragment) *Node {
	doc := &Node{Type: TypeDoc, Content: []*Node{}}
	for _, c := range f.Children() {
		doc.Content = append(doc.Content, yNodeJSON(c)...)
	}
	return doc
}

var hashedMarkName = regexp.MustCompile(`^(.*)(--[a-zA-Z0-9+/=]{8})$`)

func yattrToMarkName(k string) string {
	if m := hashedMarkName.FindStringSubmatch(k); m != nil {
		return m[1]
	}
	return k
}

func yNodeJSON(c any) []*Node {
	switch x := c.(type) {
	case *crdt.XmlText:
		var out []*Node
		for _, op := range x.Delta() {
			s, ok := op.Insert.(string)
			if !ok {
				continue // embeds have no place in this schema
			}
			n := &Node{Type: TypeText, Text: s}
			for k, v := range op.Attributes {
				m := Mark{Type: yattrToMarkName(k)}
				if attrs, ok := v.(map[string]any); ok {
					m.Attrs = attrs
				} else {
					m.Attrs = map[string]any{}
				}
				n.Marks = append(n.Marks, m)
			}
			sort.Slice(n.Marks, func(i, j int) bool {
				ri, iok := markRank[n.Marks[i].Type]
				rj, jok := markRank[n.Marks[j].Type]
				if iok != jok {
					return iok
				}
				if ri != rj {
					return ri < rj
				}
				return n.Marks[i].Type < n.Marks[j].Type
			})
			out = append(out, n)
		}
		return out
	case *crdt.XmlElement:
		n := &Node{Type: x.NodeName()}
		if attrs := x.Attributes(); len(attrs) > 0 {
			n.Attrs = attrs
		}
		if kids := x.Children(); len(kids) > 0 {
			n.Content = []*Node{}
			for _, k := range kids {
				n.Content = append(n.Content, yNodeJSON(k)...)
			}
		}
		return []*Node{n}
	}
	return nil
}

// FromFragment reads the document in a fragment as TipTap shows it: the
// fragment's content normalised to the schema (see Normalize). Nodes of
// types the schema does not know (written by another editor) give their
// content, so nothing readable is lost; an empty fragment is an empty
// paragraph, as the editor shows it.
func FromFragment(f *crdt.XmlFragment) (*Node, error) {
	doc := FragmentJSON(f)
	numbersToFloat(doc)
	if len(doc.Content) == 0 {
		return NewDoc(), nil
	}
	if err := Normalize(doc); err == nil {
		return doc, nil
	}
	// Not StarterKit content: keep what the schema can hold.
	doc = FragmentJSON(f)
	numbersToFloat(doc)
	loose := fixDoc(liftUnknown(doc.Content))
	if err := Normalize(loose); err != nil {
		return nil, fmt.Errorf("document body does not fit the editor schema: %w", err)
	}
	return loose, nil
}

// numbersToFloat makes attribute numbers float64, as encoding/json gives
// them, so that documents compare and validate alike whatever their source.
func numbersToFloat(n *Node) {
	for k, v := range n.Attrs {
		if f, ok := toFloat(v); ok {
			n.Attrs[k] = f
		}
	}
	for _, c := range n.Content {
		numbersToFloat(c)
	}
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	}
	return 0, false
}

func liftUnknown(nodes []*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if n == nil {
			continue
		}
		known := n.Type == TypeListItem || n.IsBlock() || isInline(n.Type)
		n.Content = liftUnknown(n.Content)
		if !known {
			out = append(out, n.Content...)
			continue
		}
		if n.Type == TypeText {
			var ms []Mark
			for _, m := range n.Marks {
				probe := &Node{Type: TypeText, Text: "x", Marks: []Mark{m}}
				if validateMarks(probe, "") == nil {
					ms = append(ms, probe.Marks[0])
				}
			}
			n.Marks = ms
		} else {
			// Attributes the schema rejects fall back to its defaults.
			kept := map[string]any{}
			for k, v := range n.Attrs {
				if validateAttrs(&Node{Type: n.Type, Attrs: map[string]any{k: v}}, "") == nil {
					kept[k] = v
				}
			}
			n.Attrs = nil
			if len(kept) > 0 {
				n.Attrs = kept
			}
		}
		out = append(out, n)
	}
	return out
}

// xmlParent is an XmlFragment or XmlElement.
type xmlParent interface {
	Len() int
	Children() []any
	InsertElement(index int, nodeName string) (*crdt.XmlElement, error)
	InsertText(index int) (*crdt.XmlText, error)
	Delete(index, length int) error
}

var (
	_ xmlParent = (*crdt.XmlFragment)(nil)
	_ xmlParent = (*crdt.XmlElement)(nil)
)

// WithTrailingParagraph returns doc with an empty paragraph after its
// last block when that is not a paragraph: TipTap's StarterKit
// (TrailingNode) adds one as soon as an editor opens such a document, so
// the writers store it up front and editors find nothing to change.
func WithTrailingParagraph(doc *Node) *Node {
	if k := len(doc.Content); k > 0 && doc.Content[k-1].Type == TypeParagraph {
		return doc
	}
	out := *doc
	out.Content = append(append([]*Node(nil), doc.Content...), &Node{Type: TypeParagraph})
	return &out
}

// AppendToFragment adds doc's blocks at the end of the fragment, as
// y-prosemirror would store them, before the editor's trailing empty
// paragraph if there is one. Call it inside the Doc's Transact.
func AppendToFragment(f *crdt.XmlFragment, doc *Node) error {
	at := f.Len()
	kids := f.Children()
	if at > 0 {
		if el, ok := kids[at-1].(*crdt.XmlElement); ok && el.NodeName() == TypeParagraph && el.Len() == 0 {
			at--
			if k := len(doc.Content); k > 0 && doc.Content[k-1].Type != TypeParagraph {
				// The trailing paragraph stays last.
				return insertNodes(f, at, pmChildren(doc))
			}
		}
	}
	return insertNodes(f, at, pmChildren(WithTrailingParagraph(doc)))
}

// WriteFragment writes doc into an empty fragment (an initial document),
// with the trailing paragraph TipTap wants (see WithTrailingParagraph).
func WriteFragment(f *crdt.XmlFragment, doc *Node) error {
	if f.Len() != 0 {
		return fmt.Errorf("write fragment: it already holds %d nodes; use UpdateFragment", f.Len())
	}
	return AppendToFragment(f, doc)
}

// pmChild is a node's child as y-prosemirror sees it: an element node, or
// a run of adjacent text nodes (one XmlText).
type pmChild struct {
	node  *Node   // element
	texts []*Node // text run
}

func pmChildren(n *Node) []pmChild {
	var out []pmChild
	for _, c := range n.Content {
		if c.Type == TypeText {
			if k := len(out); k > 0 && out[k-1].node == nil {
				out[k-1].texts = append(out[k-1].texts, c)
				continue
			}
			out = append(out, pmChild{texts: []*Node{c}})
			continue
		}
		out = append(out, pmChild{node: c})
	}
	return out
}

func insertNodes(p xmlParent, index int, kids []pmChild) error {
	for i, k := range kids {
		if err := insertNode(p, index+i, k); err != nil {
			return err
		}
	}
	return nil
}

func insertNode(p xmlParent, index int, k pmChild) error {
	if k.node == nil {
		t, err := p.InsertText(index)
		if err != nil {
			return fmt.Errorf("insert text: %w", err)
		}
		pos := 0
		for _, tn := range k.texts {
			t.InsertFormatted(pos, tn.Text, marksToAttrs(tn.Marks))
			pos += utf16Len(tn.Text)
		}
		return nil
	}
	el, err := p.InsertElement(index, k.node.Type)
	if err != nil {
		return fmt.Errorf("insert %s: %w", k.node.Type, err)
	}
	for _, key := range slices.Sorted(maps.Keys(k.node.Attrs)) {
		if v := k.node.Attrs[key]; v != nil && key != "ychange" {
			if err := el.SetAttribute(key, v); err != nil {
				return fmt.Errorf("set %s.%s: %w", k.node.Type, key, err)
			}
		}
	}
	return insertNodes(el, 0, pmChildren(k.node))
}

// marksToAttrs is y-prosemirror's marksToAttributes: mark name → the
// mark's attributes with the schema's defaults ({} when it has none).
func marksToAttrs(ms []Mark) map[string]any {
	out := make(map[string]any, len(ms))
	for _, m := range ms {
		attrs := defaultMarkAttrs(m.Type)
		if attrs == nil {
			attrs = map[string]any{}
		}
		for k, v := range m.Attrs {
			attrs[k] = v
		}
		out[m.Type] = attrs
	}
	return out
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// UpdateFragment changes the fragment's content into doc with the
// smallest edit it finds, as y-prosemirror's updateYFragment does when an
// editor's document changes: children equal at both ends are kept,
// elements of the same type are updated in place (recursively), text is
// changed by one splice plus formatting, and only what differs is
// deleted and inserted. Concurrent edits to the parts kept survive. Call
// it inside the Doc's Transact.
func UpdateFragment(f *crdt.XmlFragment, doc *Node) error {
	return updateChildren(f, pmChildren(WithTrailingParagraph(doc)))
}

func updateElement(el *crdt.XmlElement, n *Node) error {
	yattrs := el.Attributes()
	for _, k := range slices.Sorted(maps.Keys(n.Attrs)) {
		v := n.Attrs[k]
		if k == "ychange" {
			continue
		}
		if v == nil {
			if _, ok := yattrs[k]; ok {
				el.RemoveAttribute(k)
			}
			continue
		}
		if cur, ok := yattrs[k]; !ok || !valueEqual(cur, v) {
			if err := el.SetAttribute(k, v); err != nil {
				return fmt.Errorf("set %s.%s: %w", n.Type, k, err)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(yattrs)) {
		if _, ok := n.Attrs[k]; !ok {
			el.RemoveAttribute(k)
		}
	}
	return updateChildren(el, pmChildren(n))
}

func updateChildren(p xmlParent, pk []pmChild) error {
	yk := p.Children()
	left, right := equalEnds(yk, pk)
	// Children removed from the middle shift later indexes; work on the
	// live count.
	for len(yk)-left-right > 0 && len(pk)-left-right > 0 {
		ly, lp := yk[left], pk[left]
		ry, rp := yk[len(yk)-right-1], pk[len(pk)-right-1]
		if lt, ok := ly.(*crdt.XmlText); ok && lp.node == nil {
			if !equalYP(ly, lp) {
				updateText(lt, lp.texts)
			}
			left++
			continue
		}
		le, updateLeft := ly.(*crdt.XmlElement)
		updateLeft = updateLeft && lp.node != nil && le.NodeName() == lp.node.Type
		re, updateRight := ry.(*crdt.XmlElement)
		updateRight = updateRight && rp.node != nil && re.NodeName() == rp.node.Type
		if updateLeft && updateRight {
			if childEquality(le, lp.node) < childEquality(re, rp.node) {
				updateLeft = false
			} else {
				updateRight = false
			}
		}
		switch {
		case updateLeft:
			if err := updateElement(le, lp.node); err != nil {
				return err
			}
			left++
		case updateRight:
			if err := updateElement(re, rp.node); err != nil {
				return err
			}
			right++
		default:
			if err := p.Delete(left, 1); err != nil {
				return err
			}
			if err := insertNode(p, left, lp); err != nil {
				return err
			}
			yk = p.Children()
			left++
		}
	}
	yDel := len(yk) - left - right
	if len(yk) == 1 && len(pk) == 0 {
		if t, ok := yk[0].(*crdt.XmlText); ok {
			// Keep the XmlText itself so concurrent typing into it survives.
			t.Delete(0, t.Len())
			return nil
		}
	}
	if yDel > 0 {
		if err := p.Delete(left, yDel); err != nil {
			return err
		}
	}
	if left+right < len(pk) {
		return insertNodes(p, left, pk[left:len(pk)-right])
	}
	return nil
}

// childEquality counts the children equal at both ends, to decide which
// of two candidate elements to update in place (computeChildEqualityFactor).
func childEquality(el *crdt.XmlElement, n *Node) int {
	left, right := equalEnds(el.Children(), pmChildren(n))
	return left + right
}

// equalEnds counts the children equal at the start of yk and pk (left),
// then at their ends among the rest (right).
func equalEnds(yk []any, pk []pmChild) (left, right int) {
	minCnt := min(len(yk), len(pk))
	for left < minCnt && equalYP(yk[left], pk[left]) {
		left++
	}
	for left+right < minCnt && equalYP(yk[len(yk)-right-1], pk[len(pk)-right-1]) {
		right++
	}
	return left, right
}

// updateText makes an XmlText hold the given text nodes: one splice for
// the characters that differ, then formatting so every range has exactly
// its marks.
func updateText(t *crdt.XmlText, texts []*Node) {
	cur := ""
	curKeys := map[string]bool{}
	for _, op := range t.Delta() {
		if s, ok := op.Insert.(string); ok {
			cur += s
		}
		for k := range op.Attributes {
			curKeys[k] = true
		}
	}
	want := ""
	for _, tn := range texts {
		want += tn.Text
	}
	spliceTo(t.Text(), cur, want)
	pos := 0
	for _, tn := range texts {
		attrs := marksToAttrs(tn.Marks)
		for k := range curKeys {
			if _, ok := attrs[k]; !ok {
				attrs[k] = nil
			}
		}
		n := utf16Len(tn.Text)
		t.Format(pos, n, attrs)
		pos += n
	}
}

// equalYP is y-prosemirror's equalYTypePNode.
func equalYP(y any, p pmChild) bool {
	switch x := y.(type) {
	case *crdt.XmlElement:
		if p.node == nil || x.NodeName() != p.node.Type {
			return false
		}
		pk := pmChildren(p.node)
		yk := x.Children()
		if len(yk) != len(pk) || !attrsEqual(x.Attributes(), p.node.Attrs) {
			return false
		}
		for i := range yk {
			if !equalYP(yk[i], pk[i]) {
				return false
			}
		}
		return true
	case *crdt.XmlText:
		if p.node != nil {
			return false
		}
		delta := x.Delta()
		if len(delta) != len(p.texts) {
			return false
		}
		for i, op := range delta {
			tn := p.texts[i]
			if s, _ := op.Insert.(string); s != tn.Text || len(op.Attributes) != len(tn.Marks) {
				return false
			}
			for k, v := range op.Attributes {
				m, ok := hasMark(tn.Marks, yattrToMarkName(k))
				if !ok {
					return false
				}
				va, _ := v.(map[string]any)
				if !attrsEqual(va, m.Attrs) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// attrsEqual compares attribute maps, ignoring null values, as
// y-prosemirror's equalAttrs does.
func attrsEqual(a, b map[string]any) bool {
	count := func(m map[string]any) int {
		n := 0
		for _, v := range m {
			if v != nil {
				n++
			}
		}
		return n
	}
	if count(a) != count(b) {
		return false
	}
	for k, v := range a {
		if v == nil {
			continue
		}
		if !valueEqual(v, b[k]) {
			return false
		}
	}
	return true
}

func valueEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && (fa == fb || math.IsNaN(fa) && math.IsNaN(fb))
	}
	if ma, ok := a.(map[string]any); ok {
		mb, ok := b.(map[string]any)
		return ok && attrsEqual(ma, mb)
	}
	switch a.(type) {
	case string, bool, nil:
		return a == b
	}
	return false
}
