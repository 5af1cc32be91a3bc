package crdt

// item flags (item.info).
const (
	flagCountable   = 1 << iota // content counts towards the parent's length
	flagDeleted                 // content deleted
	flagGC                      // a GC struct: deleted content whose item was dropped
	flagSkip                    // a Skip struct: a gap in a decoded update
	flagOrigin                  // origin is set
	flagRightOrigin             // rightOrigin is set
	flagParentSub               // parentSub is set (a map entry)
)

// item is one struct of the document: a run of content created by one
// client with consecutive clocks, linked into its parent's list. GC and Skip
// structs are items with flagGC / flagSkip and no content, so a client's
// structs are one slice of one type.
type item struct {
	id          ID
	length      int
	left, right *item
	origin      ID // the item this one was inserted after (flagOrigin)
	rightOrigin ID // the item this one was inserted before (flagRightOrigin)
	parent      *branch
	parentSub   string // map key (flagParentSub)
	content     content
	// pref is how a decoded item names its parent before integration
	// (root key or parent item id); nil once resolved or when origins
	// determine the parent.
	pref *parentRef
	info uint8
}

type parentRef struct {
	key   string // root type name, if isKey
	id    ID
	isKey bool
}

func (it *item) deleted() bool   { return it.info&(flagDeleted|flagGC|flagSkip) != 0 }
func (it *item) countable() bool { return it.info&flagCountable != 0 }
func (it *item) isGC() bool      { return it.info&flagGC != 0 }
func (it *item) isSkip() bool    { return it.info&flagSkip != 0 }
func (it *item) isItem() bool    { return it.info&(flagGC|flagSkip) == 0 }
func (it *item) hasOrigin() bool { return it.info&flagOrigin != 0 }
func (it *item) hasRight() bool  { return it.info&flagRightOrigin != 0 }
func (it *item) hasSub() bool    { return it.info&flagParentSub != 0 }
func (it *item) markDeleted()    { it.info |= flagDeleted }

// lastID is the id of the item's last unit.
func (it *item) lastID() ID { return ID{it.id.Client, it.id.Clock + uint64(it.length) - 1} }

func newGC(id ID, n int) *item { return &item{id: id, length: n, info: flagGC} }

// newItem makes a local item to integrate. left/right give origins.
func newItem(id ID, left, right *item, parent *branch, parentSub string, hasSub bool, c content) *item {
	it := &item{id: id, left: left, right: right, parent: parent, content: c, length: c.length()}
	if left != nil {
		it.origin = left.lastID()
		it.info |= flagOrigin
	}
	if right != nil {
		it.rightOrigin = right.id
		it.info |= flagRightOrigin
	}
	if hasSub {
		it.parentSub = parentSub
		it.info |= flagParentSub
	}
	if c.countable() {
		it.info |= flagCountable
	}
	return it
}

// next returns the next non-deleted item to the right.
func (it *item) next() *item {
	n := it.right
	for n != nil && n.deleted() {
		n = n.right
	}
	return n
}

// prev returns the previous non-deleted item to the left.
func (it *item) prev() *item {
	n := it.left
	for n != nil && n.deleted() {
		n = n.left
	}
	return n
}

// splitItem splits left at diff units and returns the new right part
// (Yjs splitItem). The caller inserts it into the struct store.
func splitItem(tr *transaction, left *item, diff int) *item {
	right := &item{
		id:          ID{left.id.Client, left.id.Clock + uint64(diff)},
		left:        left,
		origin:      ID{left.id.Client, left.id.Clock + uint64(diff) - 1},
		right:       left.right,
		rightOrigin: left.rightOrigin,
		parent:      left.parent,
		parentSub:   left.parentSub,
		content:     left.content.splice(diff),
		info:        left.info | flagOrigin,
	}
	right.length = left.length - diff
	left.right = right
	if right.right != nil {
		right.right.left = right
	}
	tr.mergeStructs = append(tr.mergeStructs, right)
	if right.hasSub() && right.right == nil {
		right.parent.mapSet(right.parentSub, right)
	}
	left.length = diff
	return right
}

// getMissing returns the client whose struct this item depends on and that
// is not in the store yet, or resolves left/right/parent and returns ok.
func (it *item) getMissing(tr *transaction, s *structStore) (uint64, bool) {
	if it.hasOrigin() && it.origin.Client != it.id.Client && it.origin.Clock >= s.state(it.origin.Client) {
		return it.origin.Client, true
	}
	if it.hasRight() && it.rightOrigin.Client != it.id.Client && it.rightOrigin.Clock >= s.state(it.rightOrigin.Client) {
		return it.rightOrigin.Client, true
	}
	if p := it.pref; p != nil && !p.isKey && p.id.Client != it.id.Client && p.id.Clock >= s.state(p.id.Client) {
		return p.id.Client, true
	}
	// A reference to a later clock of the item's own client cannot be
	// resolved (Yjs throws). Updates are checked for this before they are
	// applied, but a struct that waited as pending can still meet it: it
	// is then kept as a GC struct, so the clock range stays filled and the
	// document keeps encoding and loading cleanly.
	own := s.state(it.id.Client)
	if (it.hasOrigin() && it.origin.Client == it.id.Client && it.origin.Clock >= own) ||
		(it.hasRight() && it.rightOrigin.Client == it.id.Client && it.rightOrigin.Clock >= own) ||
		(it.pref != nil && !it.pref.isKey && it.pref.id.Client == it.id.Client && it.pref.id.Clock >= own) {
		it.parent, it.left, it.right, it.pref = nil, nil, nil, nil
		it.info &^= flagOrigin | flagRightOrigin
		return 0, false
	}
	if it.hasOrigin() {
		it.left = s.getItemCleanEnd(tr, it.origin)
		it.origin = it.left.lastID()
	}
	if it.hasRight() {
		it.right = s.getItemCleanStart(tr, it.rightOrigin)
		it.rightOrigin = it.right.id
	}
	if (it.left != nil && it.left.isGC()) || (it.right != nil && it.right.isGC()) {
		it.parent = nil
	} else if it.pref == nil {
		// Origins determine the parent.
		if it.left != nil {
			it.parent = it.left.parent
			it.parentSub = it.left.parentSub
			it.info = it.info&^flagParentSub | it.left.info&flagParentSub
		} else if it.right != nil {
			it.parent = it.right.parent
			it.parentSub = it.right.parentSub
			it.info = it.info&^flagParentSub | it.right.info&flagParentSub
		}
	} else if it.pref.isKey {
		it.parent = tr.doc.root(it.pref.key)
	} else {
		pi := s.find(it.pref.id)
		if ct, ok := pi.content.(*contentType); ok && pi.isItem() {
			it.parent = ct.t
		} else {
			it.parent = nil
		}
	}
	return 0, false
}

// integrate links the item into its parent (YATA, as Yjs Item.integrate)
// and adds it to the store. offset > 0 skips units already known.
func (it *item) integrate(tr *transaction, offset int) {
	s := &tr.doc.store
	if offset > 0 {
		it.id.Clock += uint64(offset)
		if !it.isGC() { // a GC run only gets shorter (Yjs GC.integrate)
			it.left = s.getItemCleanEnd(tr, ID{it.id.Client, it.id.Clock - 1})
			it.origin = it.left.lastID()
			it.info |= flagOrigin
			it.content = it.content.splice(offset)
		}
		it.length -= offset
	}
	it.pref = nil
	if it.parent == nil {
		s.addStruct(newGC(it.id, it.length))
		return
	}
	p := it.parent
	p.marker.p = nil
	if (it.left == nil && (it.right == nil || it.right.left != nil)) || (it.left != nil && it.left.right != it.right) {
		left := it.left
		var o *item
		if left != nil {
			o = left.right
		} else if it.hasSub() {
			o = p.mapGet(it.parentSub)
			for o != nil && o.left != nil {
				o = o.left
			}
		} else {
			o = p.start
		}
		// Items between left and right that this conflicts with; see Yjs.
		conflicting := map[*item]struct{}{}
		beforeOrigin := map[*item]struct{}{}
		for o != nil && o != it.right {
			beforeOrigin[o] = struct{}{}
			conflicting[o] = struct{}{}
			if sameOrigin(it, o) {
				if o.id.Client < it.id.Client {
					left = o
					clear(conflicting)
				} else if sameRightOrigin(it, o) {
					break
				}
			} else if o.hasOrigin() {
				oo := s.find(o.origin)
				if _, ok := beforeOrigin[oo]; ok {
					if _, ok := conflicting[oo]; !ok {
						left = o
						clear(conflicting)
					}
				} else {
					break
				}
			} else {
				break
			}
			o = o.right
		}
		it.left = left
	}
	if it.left != nil {
		it.right = it.left.right
		it.left.right = it
	} else {
		var r *item
		if it.hasSub() {
			r = p.mapGet(it.parentSub)
			for r != nil && r.left != nil {
				r = r.left
			}
		} else {
			r = p.start
			p.start = it
		}
		it.right = r
	}
	if it.right != nil {
		it.right.left = it
	} else if it.hasSub() {
		p.mapSet(it.parentSub, it)
		if it.left != nil {
			it.left.delete(tr)
		}
	}
	if !it.hasSub() && it.countable() && !it.deleted() {
		p.length += it.length
	}
	s.addStruct(it)
	it.integrateContent(tr)
	tr.addChanged(p, it.parentSub)
	if (p.item != nil && p.item.deleted()) || (it.hasSub() && it.right != nil) {
		it.delete(tr)
	}
}

func sameOrigin(a, b *item) bool {
	if a.hasOrigin() != b.hasOrigin() {
		return false
	}
	return !a.hasOrigin() || a.origin == b.origin
}

func sameRightOrigin(a, b *item) bool {
	if a.hasRight() != b.hasRight() {
		return false
	}
	return !a.hasRight() || a.rightOrigin == b.rightOrigin
}

// integrateContent runs the content's side effects of integration.
func (it *item) integrateContent(tr *transaction) {
	switch c := it.content.(type) {
	case *contentDeleted:
		tr.ds.add(it.id.Client, it.id.Clock, uint64(c.n))
		it.markDeleted()
	case *contentType:
		c.t.doc = tr.doc
		c.t.item = it
		c.t.depth = it.parent.depth + 1
	case *contentFormat:
		it.parent.hasFormatting = true
		it.parent.formatted = true
	}
}

// mergeWith appends right to it if Yjs would (same client, consecutive
// clocks, same origins chain, same deletion state, mergeable content).
func (it *item) mergeWith(right *item) bool {
	if it.isGC() || it.isSkip() {
		if right.info&(flagGC|flagSkip) != it.info&(flagGC|flagSkip) {
			return false
		}
		it.length += right.length
		return true
	}
	if !right.isItem() ||
		!right.hasOrigin() || right.origin != it.lastID() ||
		it.right != right ||
		!sameRightOrigin(it, right) ||
		it.id.Client != right.id.Client ||
		it.id.Clock+uint64(it.length) != right.id.Clock ||
		it.deleted() != right.deleted() ||
		it.content.ref() != right.content.ref() ||
		!it.content.mergeWith(right.content) {
		return false
	}
	if p := it.parent; p != nil && p.marker.p == right {
		p.marker.p = it
		if !it.deleted() && it.countable() {
			p.marker.index -= it.length
		}
	}
	it.right = right.right
	if it.right != nil {
		it.right.left = it
	}
	it.length += right.length
	return true
}

// delete marks the item deleted (Yjs Item.delete); a nested type's
// content is deleted with it. The walk is iterative (hostile updates can
// nest types very deep) and visits items in the order Yjs' recursion does.
func (it *item) delete(tr *transaction) {
	if it.deleted() {
		return
	}
	type step struct {
		it     *item
		action uint8 // stepDelete, stepMerge or stepUnchange
	}
	const (
		stepDelete = iota
		stepMerge
		stepUnchange
	)
	stack := []step{{it, stepDelete}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := st.it
		switch st.action {
		case stepMerge:
			tr.mergeStructs = append(tr.mergeStructs, n)
			continue
		case stepUnchange:
			delete(tr.changed, n.content.(*contentType).t)
			continue
		}
		if n.deleted() {
			continue
		}
		p := n.parent
		if n.countable() && !n.hasSub() {
			p.length -= n.length
		}
		p.marker.p = nil
		n.markDeleted()
		tr.ds.add(n.id.Client, n.id.Clock, uint64(n.length))
		tr.addChanged(p, n.parentSub)
		ct, ok := n.content.(*contentType)
		if !ok {
			continue
		}
		// Children in list order, then map entries; already deleted old
		// children are queued for merging where Yjs' loop meets them.
		var kids []step
		t := ct.t
		visit := func(c *item) {
			if !c.deleted() {
				kids = append(kids, step{c, stepDelete})
			} else if c.id.Clock < tr.beforeState[c.id.Client] {
				kids = append(kids, step{c, stepMerge})
			}
		}
		for c := t.start; c != nil; c = c.right {
			visit(c)
		}
		for _, c := range t.mapItemsInOrder() {
			visit(c)
		}
		stack = append(stack, step{n, stepUnchange})
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
}

// gc drops the content of a deleted item (Yjs Item.gc). The items of a
// nested type are replaced by GC structs. Iterative, like delete.
func (it *item) gc(s *structStore, parentGCd bool) {
	type step struct {
		it        *item
		parentGCd bool
	}
	stack := []step{{it, parentGCd}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := st.it
		if ct, ok := n.content.(*contentType); ok {
			t := ct.t
			for c := t.start; c != nil; c = c.right {
				stack = append(stack, step{c, true})
			}
			t.start = nil
			for _, c := range t.mapItemsInOrder() {
				for ; c != nil; c = c.left {
					stack = append(stack, step{c, true})
				}
			}
			t.m = nil
			t.mkeys = nil
		}
		if st.parentGCd {
			s.replaceStruct(n, newGC(n.id, n.length))
		} else {
			// The countable flag stays, as in Yjs (it only matters while visible).
			n.content = &contentDeleted{n: n.length}
		}
	}
}

// write encodes the struct from unit offset on (Yjs AbstractStruct.write).
func (it *item) write(e *Encoder, offset int) { it.writeStruct(e, offset, false) }

// writeStruct writes the struct; asDecoded writes it as Yjs' raw-update
// code (mergeUpdates) re-encodes a decoded struct, which has no parentSub
// when origins determine the parent.
func (it *item) writeStruct(e *Encoder, offset int, asDecoded bool) {
	switch {
	case it.isGC():
		e.WriteUint8(refGC)
		e.WriteVarUint(uint64(it.length - offset))
		return
	case it.isSkip():
		e.WriteUint8(refSkip)
		e.WriteVarUint(uint64(it.length - offset))
		return
	}
	hasOrigin := offset > 0 || it.hasOrigin()
	origin := it.origin
	if offset > 0 {
		origin = ID{it.id.Client, it.id.Clock + uint64(offset) - 1}
	}
	info := it.content.ref() & infoContentRef
	if hasOrigin {
		info |= infoOrigin
	}
	if it.hasRight() {
		info |= infoRightOrigin
	}
	if it.hasSub() && (!asDecoded || (!hasOrigin && !it.hasRight())) {
		info |= infoParentSub
	}
	e.WriteUint8(info)
	if hasOrigin {
		e.WriteVarUint(origin.Client)
		e.WriteVarUint(origin.Clock)
	}
	if it.hasRight() {
		e.WriteVarUint(it.rightOrigin.Client)
		e.WriteVarUint(it.rightOrigin.Clock)
	}
	if !hasOrigin && !it.hasRight() {
		switch {
		case it.parent != nil && it.parent.item == nil:
			e.WriteVarUint(1)
			e.WriteVarString(it.parent.name)
		case it.parent != nil:
			e.WriteVarUint(0)
			e.WriteVarUint(it.parent.item.id.Client)
			e.WriteVarUint(it.parent.item.id.Clock)
		case it.pref != nil && it.pref.isKey:
			e.WriteVarUint(1)
			e.WriteVarString(it.pref.key)
		case it.pref != nil:
			e.WriteVarUint(0)
			e.WriteVarUint(it.pref.id.Client)
			e.WriteVarUint(it.pref.id.Clock)
		}
		if it.hasSub() {
			e.WriteVarString(it.parentSub)
		}
	}
	it.content.write(e, offset)
}
