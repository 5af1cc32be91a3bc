package crdt

import (
	"maps"
	"slices"
	"strings"
)

// Text is a shared rich text (Yjs Y.Text). Positions and lengths count
// UTF-16 code units, as JavaScript strings do.
type Text struct{ b *branch }

// DeltaOp is one insert of a rich-text delta (Quill format): a string, an
// embed value or a nested type, with its formatting attributes.
type DeltaOp struct {
	Insert     any            `json:"insert"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Len returns the length in UTF-16 code units.
func (t *Text) Len() int { return t.b.length }

// String returns the text without formatting or embeds.
func (t *Text) String() string { return t.b.textString() }

// ToJSON returns the text, as Yjs Y.Text toJSON does.
func (t *Text) ToJSON() any { return t.b.textString() }

func (t *branch) textString() string {
	var sb strings.Builder
	for n := t.start; n != nil; n = n.right {
		if !n.deleted() && n.countable() {
			if c, ok := n.content.(*contentString); ok {
				sb.Write(c.b)
			}
		}
	}
	return sb.String()
}

// Insert inserts s at index; it takes the formatting of the text around
// it (Yjs insert without attributes). Indexes beyond the end append.
func (t *Text) Insert(index int, s string) {
	t.b.insertText(index, s, nil)
}

// InsertFormatted inserts s at index with exactly the given attributes (an
// empty map: no formatting). Attribute keys are applied in sorted order.
func (t *Text) InsertFormatted(index int, s string, attrs map[string]any) {
	if attrs == nil {
		attrs = map[string]any{}
	}
	t.b.insertText(index, s, attrs)
}

// InsertEmbed inserts an embed (a JSON-able value, e.g. an image object)
// at index, with the given attributes (nil: none).
func (t *Text) InsertEmbed(index int, embed any, attrs map[string]any) {
	if attrs == nil {
		attrs = map[string]any{}
	}
	b := t.b
	b.doc.transact(true, func(tr *transaction) {
		pos := b.findPosition(tr, index, false)
		b.insertContent(tr, &pos, &contentEmbed{raw: jsonStringify(embed)}, toAttrMap(attrs))
	})
}

// Delete deletes length units from index.
func (t *Text) Delete(index, length int) {
	if length <= 0 {
		return
	}
	b := t.b
	b.doc.transact(true, func(tr *transaction) {
		pos := b.findPosition(tr, index, true)
		b.deleteText(tr, &pos, length)
	})
}

// Format sets attributes on length units from index; a nil value removes
// an attribute.
func (t *Text) Format(index, length int, attrs map[string]any) {
	if length <= 0 {
		return
	}
	b := t.b
	b.doc.transact(true, func(tr *transaction) {
		pos := b.findPosition(tr, index, false)
		if pos.right == nil {
			return
		}
		b.formatText(tr, &pos, length, toAttrMap(attrs))
	})
}

// Delta returns the content as a rich-text delta (Yjs toDelta).
func (t *Text) Delta() []DeltaOp { return t.b.delta() }

func (t *branch) delta() []DeltaOp {
	ops := []DeltaOp{}
	cur := &attrMap{}
	var sb strings.Builder
	attrsOf := func() map[string]any {
		if cur.size() == 0 {
			return nil
		}
		m := make(map[string]any, cur.size())
		for _, k := range cur.keys {
			m[k] = cur.vals[k].v
		}
		return m
	}
	pack := func() {
		if sb.Len() > 0 {
			ops = append(ops, DeltaOp{Insert: sb.String(), Attributes: attrsOf()})
			sb.Reset()
		}
	}
	for n := t.start; n != nil; n = n.right {
		if n.deleted() {
			continue
		}
		switch c := n.content.(type) {
		case *contentString:
			sb.Write(c.b)
		case *contentEmbed:
			pack()
			ops = append(ops, DeltaOp{Insert: c.value(), Attributes: attrsOf()})
		case *contentType:
			pack()
			ops = append(ops, DeltaOp{Insert: c.t.view(), Attributes: attrsOf()})
		case *contentFormat:
			pack()
			cur.update(c)
		}
	}
	pack()
	return ops
}

func toAttrMap(attrs map[string]any) *attrMap {
	m := &attrMap{}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		m.set(k, attrVal{v: attrs[k]})
	}
	return m
}

// textPos is a position in a text (Yjs ItemTextListPosition).
type textPos struct {
	left, right *item
	index       int
	attrs       attrMap
}

func (p *textPos) forward() {
	r := p.right
	if f, ok := r.content.(*contentFormat); ok {
		if !r.deleted() {
			p.attrs.update(f)
		}
	} else if !r.deleted() {
		p.index += r.length
	}
	p.left = r
	p.right = r.right
}

// findPosition walks to index (Yjs findPosition). Without formatting the
// walk starts at the cached marker; positions found are those of a walk
// from the start.
func (t *branch) findPosition(tr *transaction, index int, useMarker bool) textPos {
	pos := textPos{right: t.start}
	if useMarker && !t.formatted && index > 0 {
		if m := t.marker; m.p != nil && m.p.parent == t {
			n, before := m.p, m.index
			for before > index && n != nil {
				n = n.left
				if n != nil && !n.deleted() && n.countable() {
					before -= n.length
				}
			}
			if n != nil {
				pos.left, pos.right, pos.index = n.left, n, before
			}
		}
	}
	count := index - pos.index
	for pos.right != nil && count > 0 {
		r := pos.right
		if f, ok := r.content.(*contentFormat); ok {
			if !r.deleted() {
				pos.attrs.update(f)
			}
		} else if !r.deleted() {
			if count < r.length {
				t.doc.store.splitAt(tr, r, count)
			}
			pos.index += r.length
			count -= r.length
		}
		pos.left = r
		pos.right = r.right
	}
	return pos
}

// setMarker remembers pos for the next lookup: pos.index units precede
// pos.right.
func (t *branch) setMarker(pos *textPos) {
	if pos.right != nil && !t.formatted {
		t.marker = listMarker{p: pos.right, index: pos.index}
	} else {
		t.marker.p = nil
	}
}

func (t *branch) insertText(index int, s string, attrs map[string]any) {
	if s == "" {
		return
	}
	t.doc.transact(true, func(tr *transaction) {
		pos := t.findPosition(tr, index, attrs == nil)
		var am *attrMap
		if attrs == nil {
			am = pos.attrs.clone()
			for _, k := range am.keys {
				v := am.vals[k]
				am.vals[k] = attrVal{v: v.v, src: v.src}
			}
		} else {
			am = toAttrMap(attrs)
		}
		t.insertContent(tr, &pos, newContentString(s), am)
	})
}

// insertContent is Yjs insertText: content at pos with attributes.
func (t *branch) insertContent(tr *transaction, pos *textPos, c content, attrs *attrMap) {
	for _, k := range pos.attrs.keys {
		if _, ok := attrs.get(k); !ok {
			attrs.set(k, attrVal{v: nil})
		}
	}
	t.minimizeAttributeChanges(pos, attrs)
	negated := t.insertAttributes(tr, pos, attrs)
	index := pos.index
	it := newItem(t.doc.nextID(), pos.left, pos.right, t, "", false, c)
	it.integrate(tr, 0)
	pos.right = it
	pos.index = index
	pos.forward()
	t.insertNegatedAttributes(tr, pos, &negated)
	t.setMarker(pos)
}

func (t *branch) minimizeAttributeChanges(pos *textPos, attrs *attrMap) {
	for pos.right != nil {
		r := pos.right
		if !r.deleted() {
			f, ok := r.content.(*contentFormat)
			if !ok {
				break
			}
			av, _ := attrs.get(f.key)
			if !equalAttrs(av.v, f.val) {
				break
			}
		}
		pos.forward()
	}
}

func (t *branch) insertAttributes(tr *transaction, pos *textPos, attrs *attrMap) attrMap {
	var negated attrMap
	for _, key := range attrs.keys {
		val := attrs.vals[key]
		cur, _ := pos.attrs.get(key)
		if !equalAttrs(cur.v, val.v) {
			negated.set(key, cur)
			f := formatFromValue(key, val)
			it := newItem(t.doc.nextID(), pos.left, pos.right, t, "", false, f)
			it.integrate(tr, 0)
			pos.right = it
			pos.forward()
		}
	}
	return negated
}

// formatFromValue makes a format item's content for an attribute value.
func formatFromValue(key string, v attrVal) *contentFormat {
	if v.src != nil {
		f := &contentFormat{key: key, raw: v.src.raw, val: v.src.val, ident: v.src.ident}
		return f
	}
	return newContentFormat(key, jsonStringify(v.v))
}

func (t *branch) insertNegatedAttributes(tr *transaction, pos *textPos, negated *attrMap) {
	for pos.right != nil {
		r := pos.right
		if !r.deleted() {
			f, ok := r.content.(*contentFormat)
			if !ok {
				break
			}
			// A key missing from negated is undefined, equal to no value.
			nv, has := negated.get(f.key)
			if !has || !equalAttrs(nv.v, f.val) {
				break
			}
			negated.del(f.key)
		}
		pos.forward()
	}
	for _, key := range negated.keys {
		val := negated.vals[key]
		it := newItem(t.doc.nextID(), pos.left, pos.right, t, "", false, formatFromValue(key, val))
		it.integrate(tr, 0)
		pos.right = it
		pos.forward()
	}
}

func (t *branch) formatText(tr *transaction, pos *textPos, length int, attrs *attrMap) {
	d := t.doc
	t.minimizeAttributeChanges(pos, attrs)
	negated := t.insertAttributes(tr, pos, attrs)
loop:
	for pos.right != nil && (length > 0 || (negated.size() > 0 && (pos.right.deleted() || isFormat(pos.right)))) {
		r := pos.right
		if !r.deleted() {
			switch c := r.content.(type) {
			case *contentFormat:
				if attr, ok := attrs.get(c.key); ok {
					if equalAttrs(attr.v, c.val) {
						negated.del(c.key)
					} else {
						if length == 0 {
							break loop
						}
						negated.set(c.key, attrVal{v: c.val, src: c})
					}
					r.delete(tr)
				} else {
					pos.attrs.set(c.key, attrVal{v: c.val, src: c})
				}
			default:
				if length < r.length {
					d.store.splitAt(tr, r, length)
				}
				length -= r.length
			}
		}
		pos.forward()
	}
	if length > 0 {
		// Quill expects a trailing newline; Yjs adds the missing ones.
		it := newItem(d.nextID(), pos.left, pos.right, t, "", false, newContentString(strings.Repeat("\n", length)))
		it.integrate(tr, 0)
		pos.right = it
		pos.forward()
	}
	t.insertNegatedAttributes(tr, pos, &negated)
}

func isFormat(it *item) bool {
	_, ok := it.content.(*contentFormat)
	return ok
}

func (t *branch) deleteText(tr *transaction, pos *textPos, length int) {
	startAttrs := pos.attrs.clone()
	start := pos.right
	d := t.doc
	for length > 0 && pos.right != nil {
		r := pos.right
		if !r.deleted() {
			switch r.content.(type) {
			case *contentType, *contentEmbed, *contentString:
				if length < r.length {
					d.store.splitAt(tr, r, length)
				}
				length -= r.length
				r.delete(tr)
			}
		}
		pos.forward()
	}
	if start != nil {
		cleanupFormattingGap(tr, start, pos.right, startAttrs, &pos.attrs)
	}
	t.setMarker(pos)
}

// cleanupFormattingGap deletes formats made redundant between start and
// the next visible content (Yjs cleanupFormattingGap).
func cleanupFormattingGap(tr *transaction, start, curr *item, startAttrs, currAttrs *attrMap) int {
	end := start
	var endFormats map[string]*contentFormat
	for end != nil && (!end.countable() || end.deleted()) {
		if f, ok := end.content.(*contentFormat); ok && !end.deleted() {
			if endFormats == nil {
				endFormats = map[string]*contentFormat{}
			}
			endFormats[f.key] = f
		}
		end = end.right
	}
	cleanups := 0
	reachedCurr := false
	for start != end {
		if curr == start {
			reachedCurr = true
		}
		if !start.deleted() {
			if f, ok := start.content.(*contentFormat); ok {
				sv, _ := startAttrs.get(f.key)
				this := attrVal{v: f.val, src: f}
				if endFormats[f.key] != f || strictEqual(sv, this) {
					start.delete(tr)
					cleanups++
					cv, _ := currAttrs.get(f.key)
					if !reachedCurr && strictEqual(cv, this) && !strictEqual(sv, this) {
						if sv.v == nil {
							currAttrs.del(f.key)
						} else {
							currAttrs.set(f.key, sv)
						}
					}
				}
				if !reachedCurr && !start.deleted() {
					currAttrs.update(f)
				}
			}
		}
		start = start.right
	}
	return cleanups
}

// cleanupContextlessFormattingGap removes duplicate formats around item.
func cleanupContextlessFormattingGap(tr *transaction, it *item) {
	for it != nil && it.right != nil && (it.right.deleted() || !it.right.countable()) {
		it = it.right
	}
	seen := map[string]bool{}
	for it != nil && (it.deleted() || !it.countable()) {
		if f, ok := it.content.(*contentFormat); ok && !it.deleted() {
			if seen[f.key] {
				it.delete(tr)
			} else {
				seen[f.key] = true
			}
		}
		it = it.left
	}
}

// cleanupFormatting removes redundant formats in the whole text (Yjs
// cleanupYTextFormatting).
func (t *branch) cleanupFormatting(tr *transaction) int {
	res := 0
	start := t.start
	end := t.start
	startAttrs := &attrMap{}
	cur := startAttrs.clone()
	for end != nil {
		if !end.deleted() {
			if f, ok := end.content.(*contentFormat); ok {
				cur.update(f)
			} else {
				res += cleanupFormattingGap(tr, start, end, startAttrs, cur)
				startAttrs = cur.clone()
				start = end
			}
		}
		end = end.right
	}
	return res
}

// cleanupTextAfterTransaction is Yjs cleanupYTextAfterTransaction: after
// a remote change to formatted text, remove formats made redundant. It
// splits structs with the finished transaction tr (as Yjs does) and
// deletes in ftr.
func (d *Doc) cleanupTextAfterTransaction(tr, ftr *transaction) {
	s := &d.store
	needFull := map[*branch]bool{}
	var fullOrder []*branch
	addFull := func(t *branch) {
		if !needFull[t] {
			needFull[t] = true
			fullOrder = append(fullOrder, t)
		}
	}
	for _, client := range sortedClientsDesc(tr.afterState) {
		after := tr.afterState[client]
		before := tr.beforeState[client]
		if after == before {
			continue
		}
		iterateStructs(tr, s, client, before, after, func(it *item) {
			if !it.deleted() && it.isItem() && isFormat(it) {
				addFull(it.parent)
			}
		})
	}
	// In the order the transaction first deleted something of each
	// client, as Yjs iterates its delete set Map.
	for _, client := range tr.ds.order {
		l := s.clients[client]
		if l == nil {
			continue
		}
		last := l.s[len(l.s)-1]
		state := last.id.Clock + uint64(last.length)
		for _, del := range tr.ds.clients[client] {
			if del.clock >= state {
				break
			}
			iterateStructs(tr, s, client, del.clock, del.len, func(it *item) {
				if !it.isItem() || !it.parent.hasFormatting || needFull[it.parent] {
					return
				}
				if isFormat(it) {
					addFull(it.parent)
				} else {
					cleanupContextlessFormattingGap(ftr, it)
				}
			})
		}
	}
	for _, t := range fullOrder {
		t.cleanupFormatting(ftr)
	}
}

// iterateStructs calls f on the structs covering [clock, clock+n) of
// client, splitting at both ends (Yjs iterateStructs).
func iterateStructs(tr *transaction, s *structStore, client, clock, n uint64, f func(*item)) {
	if n == 0 {
		return
	}
	end := clock + n
	index := s.findIndexCleanStart(tr, client, clock)
	for {
		l := s.clients[client]
		st := l.s[index]
		index++
		if end < st.id.Clock+uint64(st.length) {
			s.findIndexCleanStart(tr, client, end)
		}
		f(st)
		l = s.clients[client]
		if index >= len(l.s) || l.s[index].id.Clock >= end {
			return
		}
	}
}
