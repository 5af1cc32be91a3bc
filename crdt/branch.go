package crdt

import "fmt"

// typeKind is a shared type's kind, numbered as Yjs type refs.
type typeKind uint8

const (
	kindArray typeKind = iota
	kindMap
	kindText
	kindXmlElement
	kindXmlFragment
	kindXmlHook
	kindXmlText
	kindUnknown typeKind = 255 // a root not yet fetched with a Get
)

// branch is the state every shared type has (Yjs AbstractType): a list of
// items (start) and map entries (m, each the last item set for a key).
type branch struct {
	doc  *Doc
	item *item // the item holding this type; nil for roots
	kind typeKind
	// name is the root name, or an XmlElement's node name / XmlHook's name.
	name   string
	start  *item
	m      map[string]*item
	mkeys  []string // keys of m in insertion order, as a JS Map keeps them
	length int      // countable visible units in the list
	// marker caches one list position: the visible units before marker.p.
	// It is dropped whenever the list changes in a way it does not follow.
	marker listMarker
	// hasFormatting is Yjs' _hasFormatting: a format was integrated since
	// this Yjs type object exists (a root typed by a Get starts again
	// without). It decides the formatting cleanup after remote changes.
	hasFormatting bool
	// formatted: a format was ever integrated; positions are then always
	// found from the start, collecting the attributes in force.
	formatted bool
	// depth counts the types this one is nested in (0 for roots). Views
	// (ToJSON, XML strings) stop below maxViewDepth: hostile updates can
	// nest types deeper than a recursive walk should go.
	depth int
}

// maxViewDepth is the nesting depth below which ToJSON and the XML string
// forms show nothing (Yjs runs out of stack long before).
const maxViewDepth = 2000

type listMarker struct {
	p     *item
	index int
}

func (t *branch) mapGet(key string) *item {
	return t.m[key]
}

func (t *branch) mapSet(key string, it *item) {
	if t.m == nil {
		t.m = map[string]*item{}
	}
	if _, ok := t.m[key]; !ok {
		t.mkeys = append(t.mkeys, key)
	}
	t.m[key] = it
}

// mapItemsInOrder returns the current item of each key, in key insertion order.
func (t *branch) mapItemsInOrder() []*item {
	out := make([]*item, 0, len(t.mkeys))
	for _, k := range t.mkeys {
		out = append(out, t.m[k])
	}
	return out
}

// ErrOutOfRange reports a position or length beyond a type's content.
var ErrOutOfRange = fmt.Errorf("crdt: position out of range")

// markerAtOrBefore returns where a walk right to unit limit may start: the
// list marker, moved left until the item starts at or before limit, and the
// index it starts at; the first item and 0 without a usable marker.
func (t *branch) markerAtOrBefore(limit int) (*item, int) {
	m := t.marker
	if m.p == nil || m.p.parent != t {
		return t.start, 0
	}
	n, before := m.p, m.index
	for before > limit && n != nil {
		n = n.left
		if n != nil && !n.deleted() && n.countable() {
			before -= n.length
		}
	}
	if n == nil {
		return t.start, 0
	}
	return n, before
}

// findItemBefore returns the visible countable item holding unit index-1,
// split so that it ends there (nil for index 0): the left neighbour of an
// insertion at index, as Yjs typeListInsertGenerics finds it.
func (t *branch) findItemBefore(tr *transaction, index int) *item {
	if index == 0 {
		return nil
	}
	n, before := t.markerAtOrBefore(index - 1) // an item starting before index
	rem := index - before
	for ; n != nil; n = n.right {
		if !n.deleted() && n.countable() {
			if rem <= n.length {
				if rem < n.length {
					t.doc.store.splitAt(tr, n, rem)
				}
				t.marker = listMarker{p: n, index: index - rem}
				return n
			}
			rem -= n.length
		}
	}
	panic("crdt: list position beyond length")
}

// findItemAt returns the item starting at visible unit index (splitting as
// needed), or nil at the end, as Yjs typeListDelete finds the first item to
// delete. Deleted items before it are skipped.
func (t *branch) findItemAt(tr *transaction, index int) *item {
	n, before := t.markerAtOrBefore(index)
	rem := index - before
	for ; n != nil && rem > 0; n = n.right {
		if !n.deleted() && n.countable() {
			if rem < n.length {
				t.doc.store.splitAt(tr, n, rem)
			}
			rem -= n.length
		}
	}
	return n
}

// listInsert inserts local content at index (Yjs typeListInsertGenerics).
func (t *branch) listInsert(tr *transaction, index int, contents []content) {
	if index < 0 || index > t.length {
		panic(fmt.Errorf("%w: insert at %d, length %d", ErrOutOfRange, index, t.length))
	}
	left := t.findItemBefore(tr, index)
	m := t.marker
	t.insertAfter(tr, left, contents)
	if left != nil {
		t.marker = m // still true: the insertion is after left
	}
}

// insertAfter integrates local contents after ref (nil: at the start).
func (t *branch) insertAfter(tr *transaction, ref *item, contents []content) {
	left := ref
	var right *item
	if ref == nil {
		right = t.start
	} else {
		right = ref.right
	}
	for _, c := range contents {
		it := newItem(t.doc.nextID(), left, right, t, "", false, c)
		it.integrate(tr, 0)
		left = it
	}
}

// listDelete deletes length visible units from index (Yjs typeListDelete).
func (t *branch) listDelete(tr *transaction, index, length int) {
	if length == 0 {
		return
	}
	if index < 0 || length < 0 || index+length > t.length {
		panic(fmt.Errorf("%w: delete %d at %d, length %d", ErrOutOfRange, length, index, t.length))
	}
	n := t.findItemAt(tr, index)
	var first *item
	for length > 0 && n != nil {
		if !n.deleted() {
			if length < n.length {
				t.doc.store.splitAt(tr, n, length)
			}
			if first == nil {
				first = n
			}
			n.delete(tr)
			length -= n.length
		}
		n = n.right
	}
	if first != nil {
		t.marker = listMarker{p: first, index: index}
	}
}

// mapSetContent sets key to local content (Yjs typeMapSet).
func (t *branch) mapSetContent(tr *transaction, key string, c content) *item {
	left := t.mapGet(key)
	it := newItem(t.doc.nextID(), left, nil, t, key, true, c)
	it.integrate(tr, 0)
	return it
}

// mapDelete deletes key (Yjs typeMapDelete).
func (t *branch) mapDelete(tr *transaction, key string) {
	if it := t.mapGet(key); it != nil {
		it.delete(tr)
	}
}

// mapValue returns the current value of key (Yjs typeMapGet).
func (t *branch) mapValue(key string) (any, bool) {
	it := t.mapGet(key)
	if it == nil || it.deleted() {
		return nil, false
	}
	return lastContentValue(it), true
}

// lastContentValue is the item's last value, as getContent()[length-1].
func lastContentValue(it *item) any {
	switch c := it.content.(type) {
	case *contentAny:
		return c.vals[len(c.vals)-1]
	case *contentJSON:
		return parseJSONValue(c.vals[len(c.vals)-1])
	case *contentBinary:
		return c.b
	case *contentType:
		return c.t.view()
	case *contentDoc:
		return &Subdoc{GUID: c.guid, Options: c.opts}
	case *contentEmbed:
		return c.value()
	case *contentString:
		return sliceUTF16(c.b, c.n-1)
	}
	return nil
}

// listValues appends the visible values of the list (Yjs typeListToArray).
func (t *branch) listValues() []any {
	var out []any
	for n := t.start; n != nil; n = n.right {
		if n.deleted() || !n.countable() {
			continue
		}
		switch c := n.content.(type) {
		case *contentAny:
			out = append(out, c.vals...)
		case *contentJSON:
			for _, v := range c.vals {
				out = append(out, parseJSONValue(v))
			}
		case *contentString:
			for _, r := range utf16Units(c.str()) {
				out = append(out, string(rune(r)))
			}
		default:
			out = append(out, lastContentValue(n))
		}
	}
	return out
}

// Subdoc is a subdocument stored in a shared type. Quire keeps it intact
// without loading it.
type Subdoc struct {
	GUID    string
	Options map[string]any
}

// view wraps the branch in its public type.
func (t *branch) view() any {
	switch t.kind {
	case kindText:
		return &Text{t}
	case kindMap:
		return &Map{t}
	case kindArray:
		return &Array{t}
	case kindXmlFragment:
		return &XmlFragment{t}
	case kindXmlElement:
		return &XmlElement{t}
	case kindXmlText:
		return &XmlText{t}
	case kindXmlHook:
		return &XmlHook{t}
	}
	return nil
}

// toJSON is the type's Yjs toJSON.
func (t *branch) toJSON() any {
	if t.depth > maxViewDepth {
		return nil
	}
	switch t.kind {
	case kindText:
		return t.textString()
	case kindMap, kindXmlHook:
		return t.mapJSON()
	case kindArray:
		vals := t.listValues()
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = jsonOf(v)
		}
		return out
	case kindXmlFragment, kindXmlElement, kindXmlText:
		return t.xmlString()
	}
	return nil
}

func (t *branch) mapJSON() map[string]any {
	out := map[string]any{}
	for _, k := range t.mkeys {
		it := t.m[k]
		if !it.deleted() {
			out[k] = jsonOf(lastContentValue(it))
		}
	}
	return out
}

// jsonOf converts nested types to their JSON, as Yjs toJSON does.
func jsonOf(v any) any {
	switch x := v.(type) {
	case *Text:
		return x.b.toJSON()
	case *Map:
		return x.b.toJSON()
	case *Array:
		return x.b.toJSON()
	case *XmlFragment:
		return x.b.toJSON()
	case *XmlElement:
		return x.b.toJSON()
	case *XmlText:
		return x.b.toJSON()
	case *XmlHook:
		return x.b.toJSON()
	}
	return v
}
