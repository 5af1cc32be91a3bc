package crdt

import "sort"

// structStore holds every struct of a document, per client, sorted by
// clock and contiguous from clock 0 (Yjs StructStore).
type structStore struct {
	clients map[uint64]*structList
	// order lists the keys of clients in insertion order, so hot paths can
	// walk them without iterating the map.
	order []uint64
	// pending holds decoded structs whose dependencies have not arrived.
	pending *pendingStructs
	// pendingDs holds deletions of structs that have not arrived.
	pendingDs *deleteSet
}

type structList struct{ s []*item }

// pendingStructs is Yjs' store.pendingStructs: an update holding the
// structs that could not be integrated yet (merged with mergeUpdates as
// more arrive, re-applied whole when a missing clock arrives), and for each
// client the lowest clock whose arrival may unblock them.
type pendingStructs struct {
	update  []byte
	missing map[uint64]uint64
}

func (s *structStore) list(client uint64) []*item {
	if l := s.clients[client]; l != nil {
		return l.s
	}
	return nil
}

// state is the next clock expected from client.
func (s *structStore) state(client uint64) uint64 {
	l := s.clients[client]
	if l == nil {
		return 0
	}
	last := l.s[len(l.s)-1]
	return last.id.Clock + uint64(last.length)
}

// fillStateVector writes the state vector into sv (which must be empty).
func (s *structStore) fillStateVector(sv map[uint64]uint64) {
	for _, c := range s.order {
		l := s.clients[c].s
		last := l[len(l)-1]
		sv[c] = last.id.Clock + uint64(last.length)
	}
}

func (s *structStore) stateVector() map[uint64]uint64 {
	sv := make(map[uint64]uint64, len(s.clients))
	for c := range s.clients {
		sv[c] = s.state(c)
	}
	return sv
}

func (s *structStore) addStruct(it *item) {
	l := s.clients[it.id.Client]
	if l == nil {
		if s.clients == nil {
			s.clients = map[uint64]*structList{}
		}
		l = &structList{}
		s.clients[it.id.Client] = l
		s.order = append(s.order, it.id.Client)
	} else if last := l.s[len(l.s)-1]; last.id.Clock+uint64(last.length) != it.id.Clock {
		panic("crdt: struct store out of order")
	}
	l.s = append(l.s, it)
}

// findIndex returns the index of the struct holding clock (Yjs findIndexSS,
// with the same pivot guess). It returns -1 if no struct holds it.
func findIndex(structs []*item, clock uint64) int {
	left, right := 0, len(structs)-1
	if right < 0 {
		return -1
	}
	mid := structs[right]
	if mid.id.Clock == clock {
		return right
	}
	end := mid.id.Clock + uint64(mid.length)
	if clock >= end {
		return -1
	}
	midIndex := 0
	if end > 1 {
		midIndex = int(float64(clock) / float64(end-1) * float64(right))
	}
	for left <= right {
		mid = structs[midIndex]
		if mid.id.Clock <= clock {
			if clock < mid.id.Clock+uint64(mid.length) {
				return midIndex
			}
			left = midIndex + 1
		} else {
			right = midIndex - 1
		}
		midIndex = (left + right) / 2
	}
	return -1
}

// find returns the struct holding id. The caller has checked the state.
func (s *structStore) find(id ID) *item {
	structs := s.list(id.Client)
	i := findIndex(structs, id.Clock)
	if i < 0 {
		panic("crdt: struct not found")
	}
	return structs[i]
}

// findIndexCleanStart returns the index of the struct starting at clock,
// splitting the one holding it if needed.
func (s *structStore) findIndexCleanStart(tr *transaction, client uint64, clock uint64) int {
	l := s.clients[client]
	i := findIndex(l.s, clock)
	if i < 0 {
		panic("crdt: struct not found")
	}
	st := l.s[i]
	if st.id.Clock < clock && st.isItem() {
		l.insert(i+1, splitItem(tr, st, int(clock-st.id.Clock)))
		return i + 1
	}
	return i
}

func (s *structStore) getItemCleanStart(tr *transaction, id ID) *item {
	i := s.findIndexCleanStart(tr, id.Client, id.Clock)
	return s.clients[id.Client].s[i]
}

// splitAt splits it so that a struct starts offset units into it.
func (s *structStore) splitAt(tr *transaction, it *item, offset int) {
	s.getItemCleanStart(tr, ID{it.id.Client, it.id.Clock + uint64(offset)})
}

// getItemCleanEnd returns the struct ending at id, splitting if needed.
func (s *structStore) getItemCleanEnd(tr *transaction, id ID) *item {
	l := s.clients[id.Client]
	i := findIndex(l.s, id.Clock)
	if i < 0 {
		panic("crdt: struct not found")
	}
	st := l.s[i]
	if id.Clock != st.id.Clock+uint64(st.length)-1 && !st.isGC() {
		l.insert(i+1, splitItem(tr, st, int(id.Clock-st.id.Clock)+1))
	}
	return st
}

func (s *structStore) replaceStruct(old, nw *item) {
	l := s.clients[old.id.Client]
	l.s[findIndex(l.s, old.id.Clock)] = nw
}

func (l *structList) insert(i int, it *item) {
	l.s = append(l.s, nil)
	copy(l.s[i+1:], l.s[i:])
	l.s[i] = it
}

// sortedClients returns the keys of m in descending order, the order Yjs
// writes clients in.
func sortedClientsDesc[V any](m map[uint64]V) []uint64 {
	cs := make([]uint64, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] > cs[j] })
	return cs
}
