package crdt

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// XmlFragment is a shared list of XML nodes (Yjs Y.XmlFragment); TipTap
// keeps its document in the root fragment named "default".
type XmlFragment struct{ b *branch }

// XmlElement is an XML element with a node name, attributes and children
// (Yjs Y.XmlElement).
type XmlElement struct{ b *branch }

// XmlText is rich text inside XML (Yjs Y.XmlText): a Text with attributes.
type XmlText struct{ b *branch }

// XmlHook is Yjs' Y.XmlHook: a named map inside XML.
type XmlHook struct{ b *branch }

// Len returns the number of children.
func (f *XmlFragment) Len() int { return f.b.length }

// Children returns the child nodes (*XmlElement, *XmlText, *XmlHook).
func (f *XmlFragment) Children() []any { return f.b.listValues() }

// InsertElement inserts a new element named nodeName at index.
func (f *XmlFragment) InsertElement(index int, nodeName string) (*XmlElement, error) {
	t, err := xmlInsert(f.b, index, kindXmlElement, nodeName)
	return &XmlElement{t}, err
}

// InsertText inserts a new XmlText at index.
func (f *XmlFragment) InsertText(index int) (*XmlText, error) {
	t, err := xmlInsert(f.b, index, kindXmlText, "")
	return &XmlText{t}, err
}

// Delete deletes length children from index.
func (f *XmlFragment) Delete(index, length int) error { return xmlDelete(f.b, index, length) }

// String returns the XML form Yjs gives (toString).
func (f *XmlFragment) String() string { return f.b.xmlString() }

// ToJSON returns the XML string, as Yjs 13.6 does.
func (f *XmlFragment) ToJSON() any { return f.b.xmlString() }

// NodeName returns the element's node name.
func (e *XmlElement) NodeName() string { return e.b.name }

// Len returns the number of children.
func (e *XmlElement) Len() int { return e.b.length }

// Children returns the child nodes.
func (e *XmlElement) Children() []any { return e.b.listValues() }

// InsertElement inserts a new child element at index.
func (e *XmlElement) InsertElement(index int, nodeName string) (*XmlElement, error) {
	t, err := xmlInsert(e.b, index, kindXmlElement, nodeName)
	return &XmlElement{t}, err
}

// InsertText inserts a new child XmlText at index.
func (e *XmlElement) InsertText(index int) (*XmlText, error) {
	t, err := xmlInsert(e.b, index, kindXmlText, "")
	return &XmlText{t}, err
}

// Delete deletes length children from index.
func (e *XmlElement) Delete(index, length int) error { return xmlDelete(e.b, index, length) }

// SetAttribute sets an attribute (an Any value; Yjs editors use strings).
func (e *XmlElement) SetAttribute(key string, value any) error {
	return (&Map{e.b}).Set(key, value)
}

// GetAttribute returns an attribute.
func (e *XmlElement) GetAttribute(key string) (any, bool) { return e.b.mapValue(key) }

// RemoveAttribute removes an attribute.
func (e *XmlElement) RemoveAttribute(key string) { (&Map{e.b}).Delete(key) }

// Attributes returns the attributes set.
func (e *XmlElement) Attributes() map[string]any { return e.b.mapValues() }

// String returns the XML form Yjs gives (toString).
func (e *XmlElement) String() string { return e.b.xmlString() }

// ToJSON returns the XML string, as Yjs 13.6 does.
func (e *XmlElement) ToJSON() any { return e.b.xmlString() }

// Text returns the XmlText as a Text for editing (positions, formats).
func (x *XmlText) Text() *Text { return &Text{x.b} }

// Len returns the length in UTF-16 code units.
func (x *XmlText) Len() int { return x.b.length }

// Insert inserts s at index (see Text.Insert).
func (x *XmlText) Insert(index int, s string) { x.Text().Insert(index, s) }

// InsertFormatted inserts s with exactly attrs (see Text.InsertFormatted).
func (x *XmlText) InsertFormatted(index int, s string, attrs map[string]any) {
	x.Text().InsertFormatted(index, s, attrs)
}

// Delete deletes length units from index.
func (x *XmlText) Delete(index, length int) { x.Text().Delete(index, length) }

// Format sets attributes on a range (see Text.Format).
func (x *XmlText) Format(index, length int, attrs map[string]any) {
	x.Text().Format(index, length, attrs)
}

// Delta returns the content as a delta.
func (x *XmlText) Delta() []DeltaOp { return x.b.delta() }

// SetAttribute sets an attribute of the text node.
func (x *XmlText) SetAttribute(key string, value any) error { return (&Map{x.b}).Set(key, value) }

// GetAttribute returns an attribute of the text node.
func (x *XmlText) GetAttribute(key string) (any, bool) { return x.b.mapValue(key) }

// String returns the XML form Yjs gives: formatting as nested tags.
func (x *XmlText) String() string { return x.b.xmlString() }

// ToJSON returns the XML string, as Yjs 13.6 does.
func (x *XmlText) ToJSON() any { return x.b.xmlString() }

// HookName returns the hook's name.
func (h *XmlHook) HookName() string { return h.b.name }

// ToJSON returns the hook's map content.
func (h *XmlHook) ToJSON() any { return h.b.mapJSON() }

func xmlInsert(b *branch, index int, k typeKind, name string) (*branch, error) {
	nt := &branch{doc: b.doc, kind: k, name: name}
	if index < 0 || index > b.length {
		return nt, fmt.Errorf("%w: insert at %d, length %d", ErrOutOfRange, index, b.length)
	}
	b.doc.transact(true, func(tr *transaction) { b.listInsert(tr, index, []content{&contentType{t: nt}}) })
	return nt, nil
}

func xmlDelete(b *branch, index, length int) error {
	if index < 0 || length < 0 || index+length > b.length {
		return fmt.Errorf("%w: delete %d at %d, length %d", ErrOutOfRange, length, index, b.length)
	}
	b.doc.transact(true, func(tr *transaction) { b.listDelete(tr, index, length) })
	return nil
}

// mapValues returns the visible map entries (Yjs typeMapGetAll).
func (t *branch) mapValues() map[string]any {
	out := map[string]any{}
	for _, k := range t.mkeys {
		if it := t.m[k]; !it.deleted() {
			out[k] = lastContentValue(it)
		}
	}
	return out
}

// xmlString is Yjs' toString of XML types.
func (t *branch) xmlString() string {
	if t.depth > maxViewDepth {
		return ""
	}
	switch t.kind {
	case kindXmlText:
		return t.xmlTextString()
	case kindXmlElement:
		attrs := t.mapValues()
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var sb strings.Builder
		name := strings.ToLower(t.name)
		sb.WriteString("<" + name)
		for _, k := range keys {
			sb.WriteString(" " + k + `="` + jsString(attrs[k]) + `"`)
		}
		sb.WriteString(">")
		sb.WriteString(t.xmlChildrenString())
		sb.WriteString("</" + name + ">")
		return sb.String()
	case kindXmlHook:
		return jsString(t.mapJSON())
	}
	return t.xmlChildrenString()
}

func (t *branch) xmlChildrenString() string {
	var sb strings.Builder
	for _, v := range t.listValues() {
		sb.WriteString(jsString(v))
	}
	return sb.String()
}

func (t *branch) xmlTextString() string {
	var sb strings.Builder
	for _, op := range t.delta() {
		type node struct {
			name  string
			attrs [][2]string
		}
		var nodes []node
		for name, v := range op.Attributes {
			n := node{name: name}
			switch x := v.(type) {
			case map[string]any:
				for k, av := range x {
					n.attrs = append(n.attrs, [2]string{k, jsString(av)})
				}
			case string: // for..in over a string yields its indexes
				for i, u := range utf16Units(x) {
					n.attrs = append(n.attrs, [2]string{strconv.Itoa(i), string(rune(u))})
				}
			case []any:
				for i, av := range x {
					n.attrs = append(n.attrs, [2]string{strconv.Itoa(i), jsString(av)})
				}
			}
			sort.Slice(n.attrs, func(i, j int) bool { return n.attrs[i][0] < n.attrs[j][0] })
			nodes = append(nodes, n)
		}
		sort.Slice(nodes, func(i, j int) bool { return nodes[i].name < nodes[j].name })
		for _, n := range nodes {
			sb.WriteString("<" + n.name)
			for _, a := range n.attrs {
				sb.WriteString(" " + a[0] + `="` + a[1] + `"`)
			}
			sb.WriteString(">")
		}
		sb.WriteString(jsString(op.Insert))
		for i := len(nodes) - 1; i >= 0; i-- {
			sb.WriteString("</" + nodes[i].name + ">")
		}
	}
	return sb.String()
}

// jsString is JavaScript's String(v) for the values XML strings contain.
func jsString(v any) string {
	if f, ok := numberOf(v); ok {
		switch {
		case f != f:
			return "NaN"
		case math.IsInf(f, 1):
			return "Infinity"
		case math.IsInf(f, -1):
			return "-Infinity"
		}
		return jsNumber(f)
	}
	switch x := v.(type) {
	case nil:
		return "null"
	case Undefined:
		return "undefined"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case BigInt:
		return strconv.FormatInt(int64(x), 10)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e != nil {
				if _, u := e.(Undefined); !u {
					parts[i] = jsString(e)
				}
			}
		}
		return strings.Join(parts, ",")
	case []byte:
		parts := make([]string, len(x))
		for i, c := range x {
			parts[i] = strconv.Itoa(int(c))
		}
		return strings.Join(parts, ",")
	case *XmlElement:
		return x.b.xmlString()
	case *XmlText:
		return x.b.xmlString()
	case *XmlFragment:
		return x.b.xmlString()
	case *XmlHook:
		return x.b.xmlString()
	case *Text:
		return x.b.textString()
	}
	return "[object Object]"
}
