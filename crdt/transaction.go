package crdt

// transaction collects what one change did to a Doc, then cleans up as
// Yjs' transact does: garbage collection, merging of structs, formatting
// cleanup, and the update bytes of the change.
type transaction struct {
	doc          *Doc
	beforeState  map[uint64]uint64
	afterState   map[uint64]uint64
	ds           deleteSet
	mergeStructs []*item
	local        bool
	encode       bool // produce the update bytes at cleanup
	// changed lists the types changed (Yjs transaction.changed), used for
	// the rich-text formatting cleanup after remote changes.
	changed map[*branch]struct{}
}

// addChanged records a change to t, as Yjs addChangedTypeToTransaction.
func (tr *transaction) addChanged(t *branch, _ string) {
	if tr.local {
		return // only remote changes trigger the formatting cleanup
	}
	it := t.item
	if it == nil || (it.id.Clock < tr.beforeState[it.id.Client] && !it.deleted()) {
		if tr.changed == nil {
			tr.changed = map[*branch]struct{}{}
		}
		tr.changed[t] = struct{}{}
	}
}

// transact runs fn in the current transaction, or in a new one that is
// cleaned up when fn returns. It returns the v1 update of the new
// transaction (nil if nested or if nothing changed).
func (d *Doc) transact(local bool, fn func(tr *transaction)) []byte {
	return d.transactEncode(local, false, fn)
}

// transactEncode is transact; encode asks for the update bytes.
func (d *Doc) transactEncode(local, encode bool, fn func(tr *transaction)) []byte {
	if d.tr != nil {
		fn(d.tr)
		return nil
	}
	// Reuse the last transaction's allocations: nothing keeps a
	// transaction once it is cleaned up.
	tr := d.spare
	d.spare = nil
	if tr == nil {
		tr = &transaction{beforeState: map[uint64]uint64{}, afterState: map[uint64]uint64{}}
	}
	tr.doc, tr.local, tr.encode = d, local, encode
	d.store.fillStateVector(tr.beforeState)
	d.tr = tr
	func() {
		defer func() { d.tr = nil }()
		fn(tr)
	}()
	update := d.cleanup(tr)
	clear(tr.beforeState)
	clear(tr.afterState)
	clear(tr.ds.clients)
	tr.ds.order = tr.ds.order[:0]
	clear(tr.mergeStructs)
	tr.mergeStructs = tr.mergeStructs[:0]
	tr.changed = nil
	d.spare = tr
	return update
}

// cleanup is the cleanup phase of a Yjs transaction.
func (d *Doc) cleanup(tr *transaction) []byte {
	s := &d.store
	ds := &tr.ds
	ds.sortAndMerge()
	if tr.afterState == nil {
		tr.afterState = map[uint64]uint64{}
	}
	s.fillStateVector(tr.afterState)

	// Yjs calls observers here; the only observer with an effect on the
	// document is YText's formatting cleanup after remote changes. It runs
	// in a second transaction, cleaned up after this one.
	var formatTr *transaction
	if !tr.local {
		for t := range tr.changed {
			if (t.kind == kindText || t.kind == kindXmlText) && t.hasFormatting && (t.item == nil || !t.item.deleted()) {
				formatTr = &transaction{doc: d, beforeState: s.stateVector(), local: true}
				d.tr = formatTr
				d.cleanupTextAfterTransaction(tr, formatTr)
				d.tr = nil
				break
			}
		}
	}

	if d.gc {
		tryGcDeleteSet(ds, s)
	}
	tryMergeDeleteSet(ds, s)

	for _, client := range s.order {
		clock := tr.afterState[client]
		before := tr.beforeState[client]
		if before == clock {
			continue
		}
		l := s.clients[client]
		first := max(findIndex(l.s, before), 1)
		for i := len(l.s) - 1; i >= first; {
			i -= 1 + tryToMergeWithLefts(l, i)
		}
	}
	for i := len(tr.mergeStructs) - 1; i >= 0; i-- {
		id := tr.mergeStructs[i].id
		l := s.clients[id.Client]
		pos := findIndex(l.s, id.Clock)
		if pos+1 < len(l.s) {
			if tryToMergeWithLefts(l, pos+1) > 1 {
				continue
			}
		}
		if pos > 0 {
			tryToMergeWithLefts(l, pos)
		}
	}
	if !tr.local && tr.afterState[d.clientID] != tr.beforeState[d.clientID] && !d.fixedClientID {
		// Someone else uses our client id: pick another, as Yjs does.
		d.clientID = d.newClientID()
	}
	var update []byte
	if tr.encode && (!ds.empty() || stateChanged(s, tr.beforeState, tr.afterState)) {
		e := NewEncoderSize(64)
		writeClientsStructs(e, s, tr.beforeState)
		ds.write(e)
		update = e.Bytes()
	}
	if formatTr != nil {
		d.cleanup(formatTr)
	}
	return update
}

func stateChanged(s *structStore, before, after map[uint64]uint64) bool {
	for _, c := range s.order {
		if before[c] != after[c] {
			return true
		}
	}
	return false
}

// tryToMergeWithLefts merges structs[pos] into its left neighbours while
// possible and returns how many were merged away.
func tryToMergeWithLefts(l *structList, pos int) int {
	structs := l.s
	right := structs[pos]
	i := pos
	for ; i > 0; i-- {
		left := structs[i-1]
		if left.deleted() != right.deleted() || left.isGC() != right.isGC() || left.isSkip() != right.isSkip() {
			break
		}
		if !left.mergeWith(right) {
			break
		}
		if right.isItem() && right.hasSub() && right.parent.mapGet(right.parentSub) == right {
			right.parent.mapSet(right.parentSub, left)
		}
		right = left
	}
	merged := pos - i
	if merged > 0 {
		l.s = append(structs[:pos+1-merged], structs[pos+1:]...)
	}
	return merged
}

// forEachDeletion calls fn with each range of ds whose client has structs
// in s, with that client's struct list: the clients in any order, each
// client's ranges last first, as Yjs cleans them up.
func forEachDeletion(ds *deleteSet, s *structStore, fn func(l *structList, del deleteItem)) {
	for client, dels := range ds.clients {
		l := s.clients[client]
		if l == nil {
			continue
		}
		for di := len(dels) - 1; di >= 0; di-- {
			fn(l, dels[di])
		}
	}
}

// tryGcDeleteSet drops the content of the deleted items in ds.
func tryGcDeleteSet(ds *deleteSet, s *structStore) {
	forEachDeletion(ds, s, func(l *structList, del deleteItem) {
		end := del.clock + del.len
		si := findIndex(l.s, del.clock)
		if si < 0 {
			return
		}
		for ; si < len(l.s); si++ {
			st := l.s[si]
			if st.id.Clock >= end {
				break
			}
			if st.isItem() && st.deleted() {
				st.gc(s, false)
			}
		}
	})
}

// tryMergeDeleteSet merges deleted and collected structs around ds.
func tryMergeDeleteSet(ds *deleteSet, s *structStore) {
	forEachDeletion(ds, s, func(l *structList, del deleteItem) {
		idx := findIndex(l.s, del.clock+del.len-1)
		if idx < 0 {
			idx = len(l.s) - 1
		}
		si := min(len(l.s)-1, 1+idx)
		for si > 0 && l.s[si].id.Clock >= del.clock {
			si -= 1 + tryToMergeWithLefts(l, si)
		}
	})
}
