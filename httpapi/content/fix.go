package content

import "strings"

// The tolerant parsers (HTML, Markdown) build a loose tree: inline nodes may
// sit directly in containers, lists may hold stray blocks, a list item may
// start with a list. fix turns such a tree into one the schema accepts, the
// way ProseMirror's DOMParser wraps and lifts content: runs of inline nodes
// become paragraphs, stray blocks in a list get a list item of their own,
// empty containers get an empty paragraph.

// fixDoc returns a valid document built from loose top-level nodes.
func fixDoc(kids []*Node) *Node {
	return NewDoc(fixBlocks(kids)...)
}

// fixBlocks turns loose nodes into a list of valid blocks.
func fixBlocks(kids []*Node) []*Node {
	var out []*Node
	var run []*Node // pending inline nodes
	flush := func() {
		if len(run) > 0 && !blankRun(run) {
			out = append(out, &Node{Type: TypeParagraph, Content: trimInline(run)})
		}
		run = nil
	}
	for _, k := range kids {
		switch {
		case isInline(k.Type):
			run = append(run, k)
		case k.Type == TypeListItem:
			// A list item outside a list: keep its blocks.
			flush()
			out = append(out, fixBlocks(k.Content)...)
		case k.Type == TypeDoc:
			flush()
			out = append(out, fixBlocks(k.Content)...)
		default:
			flush()
			if b := fixBlock(k); b != nil {
				out = append(out, b)
			}
		}
	}
	flush()
	return out
}

// fixBlock makes one block valid; nil drops it (an empty list).
func fixBlock(n *Node) *Node {
	switch n.Type {
	case TypeParagraph, TypeHeading:
		n.Content = trimInline(flattenInline(n.Content, nil))
		if n.Attrs == nil {
			n.Attrs = defaultAttrs(n.Type)
		}
		return n
	case TypeCodeBlock:
		text := codeText(n)
		n.Content = nil
		if text != "" {
			n.Content = []*Node{{Type: TypeText, Text: text}}
		}
		if n.Attrs == nil {
			n.Attrs = defaultAttrs(n.Type)
		}
		return n
	case TypeHorizontalRule:
		n.Content = nil
		return n
	case TypeBlockquote:
		n.Content = fixBlocks(n.Content)
		if len(n.Content) == 0 {
			n.Content = []*Node{{Type: TypeParagraph}}
		}
		return n
	case TypeBulletList, TypeOrderedList:
		var items []*Node
		var loose []*Node // non-item content, gathered into one item
		flushLoose := func() {
			if len(loose) > 0 {
				items = append(items, fixListItem(&Node{Type: TypeListItem, Content: loose}))
				loose = nil
			}
		}
		for _, k := range n.Content {
			if k.Type == TypeListItem {
				flushLoose()
				items = append(items, fixListItem(k))
			} else if (k.Type == TypeBulletList || k.Type == TypeOrderedList) && len(items) > 0 && len(loose) == 0 {
				// A list directly inside a list (common in pasted HTML)
				// belongs to the item before it.
				prev := items[len(items)-1]
				if b := fixBlock(k); b != nil {
					prev.Content = append(prev.Content, b)
				}
			} else {
				loose = append(loose, k)
			}
		}
		flushLoose()
		if len(items) == 0 {
			return nil
		}
		n.Content = items
		if n.Attrs == nil {
			n.Attrs = defaultAttrs(n.Type)
		}
		return n
	}
	// Unknown wrapper: it should not reach here, keep its text.
	return &Node{Type: TypeParagraph, Content: trimInline(flattenInline(n.Content, nil))}
}

func fixListItem(n *Node) *Node {
	blocks := fixBlocks(n.Content)
	if len(blocks) == 0 || blocks[0].Type != TypeParagraph {
		blocks = append([]*Node{{Type: TypeParagraph}}, blocks...)
	}
	return &Node{Type: TypeListItem, Content: blocks}
}

// flattenInline keeps the inline content of nodes, turning nested blocks
// into their text separated by hard breaks.
func flattenInline(kids []*Node, out []*Node) []*Node {
	for _, k := range kids {
		switch {
		case k.Type == TypeText:
			out = appendText(out, k.Text, k.Marks)
		case k.Type == TypeHardBreak:
			out = append(out, k)
		default:
			if len(out) > 0 && out[len(out)-1].Type != TypeHardBreak {
				out = append(out, &Node{Type: TypeHardBreak})
			}
			out = flattenInline(k.Content, out)
		}
	}
	return out
}

// trimInline merges adjacent text with equal marks and drops empty text.
func trimInline(kids []*Node) []*Node {
	var out []*Node
	for _, k := range kids {
		if k.Type == TypeText {
			out = appendText(out, k.Text, k.Marks)
		} else {
			out = append(out, k)
		}
	}
	return out
}

func codeText(n *Node) string {
	var s []byte
	var walk func(*Node)
	walk = func(x *Node) {
		if x.Type == TypeHardBreak {
			s = append(s, '\n')
		}
		s = append(s, x.Text...)
		for _, c := range x.Content {
			walk(c)
		}
	}
	walk(n)
	return string(s)
}

// blankRun reports whether inline nodes are only whitespace: the text
// between block tags in HTML, which makes no paragraph.
func blankRun(run []*Node) bool {
	for _, k := range run {
		if k.Type != TypeText || strings.Trim(k.Text, " \t\r\n\f") != "" {
			return false
		}
	}
	return true
}
