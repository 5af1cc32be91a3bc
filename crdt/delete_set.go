package crdt

import (
	"cmp"
	"slices"
	"sort"
)

// deleteItem is a run of deleted clocks [clock, clock+len).
type deleteItem struct {
	clock, len uint64
}

// deleteSet is Yjs' DeleteSet: per client, runs of deleted clocks. After
// sortAndMerge the runs are sorted and non-adjacent.
type deleteSet struct {
	clients map[uint64][]deleteItem
	// order lists the clients in the order add first saw them: Yjs keeps
	// a transaction's deletions in a Map, and its formatting clean-up
	// walks them in that insertion order, which decides whether a text
	// gets the contextless or the full clean-up.
	order []uint64
}

func (ds *deleteSet) add(client, clock, n uint64) {
	if ds.clients == nil {
		ds.clients = map[uint64][]deleteItem{}
	}
	dels, seen := ds.clients[client]
	if !seen {
		ds.order = append(ds.order, client)
	}
	ds.clients[client] = append(dels, deleteItem{clock, n})
}

func (ds *deleteSet) empty() bool { return len(ds.clients) == 0 }

// sortAndMerge sorts each client's runs and merges overlapping or adjacent
// ones (Yjs sortAndMergeDeleteSet).
func (ds *deleteSet) sortAndMerge() {
	for c, dels := range ds.clients {
		slices.SortStableFunc(dels, func(a, b deleteItem) int { return cmp.Compare(a.clock, b.clock) })
		j := 1
		for i := 1; i < len(dels); i++ {
			l, r := dels[j-1], dels[i]
			if l.clock+l.len >= r.clock {
				dels[j-1] = deleteItem{l.clock, max(l.len, r.clock+r.len-l.clock)}
			} else {
				dels[j] = r
				j++
			}
		}
		ds.clients[c] = dels[:j]
	}
}

// mergeDeleteSets unions delete sets (Yjs mergeDeleteSets).
func mergeDeleteSets(dss ...*deleteSet) *deleteSet {
	merged := &deleteSet{clients: map[uint64][]deleteItem{}}
	for _, ds := range dss {
		if ds == nil {
			continue
		}
		for c, dels := range ds.clients {
			merged.clients[c] = append(merged.clients[c], dels...)
		}
	}
	merged.sortAndMerge()
	return merged
}

// isDeleted reports whether id is in the (sorted) delete set.
func (ds *deleteSet) isDeleted(id ID) bool {
	dels := ds.clients[id.Client]
	i := sort.Search(len(dels), func(i int) bool { return dels[i].clock+dels[i].len > id.Clock })
	return i < len(dels) && dels[i].clock <= id.Clock
}

// write encodes the delete set (v1), clients in descending order.
func (ds *deleteSet) write(e *Encoder) {
	if ds == nil {
		e.WriteVarUint(0)
		return
	}
	e.WriteVarUint(uint64(len(ds.clients)))
	var buf [8]clientClock
	cs := buf[:0]
	for c := range ds.clients {
		cs = append(cs, clientClock{client: c})
	}
	sortDesc(cs)
	for _, cc := range cs {
		c := cc.client
		dels := ds.clients[c]
		e.WriteVarUint(c)
		e.WriteVarUint(uint64(len(dels)))
		for _, d := range dels {
			e.WriteVarUint(d.clock)
			e.WriteVarUint(d.len)
		}
	}
}

// deleteSetFromStore lists the deleted runs of the store (Yjs
// createDeleteSetFromStructStore).
func deleteSetFromStore(s *structStore) *deleteSet {
	ds := &deleteSet{clients: map[uint64][]deleteItem{}}
	for c, l := range s.clients {
		structs := l.s
		var items []deleteItem
		for i := 0; i < len(structs); i++ {
			st := structs[i]
			if st.deleted() {
				clock, n := st.id.Clock, uint64(st.length)
				for i+1 < len(structs) && structs[i+1].deleted() {
					n += uint64(structs[i+1].length)
					i++
				}
				items = append(items, deleteItem{clock, n})
			}
		}
		if len(items) > 0 {
			ds.clients[c] = items
		}
	}
	return ds
}

// v2RoundTrip returns ds as Yjs reads it back after storing it in the v2
// format, which is how Yjs keeps pending deletions. The v2 encoding writes
// clock differences as unsigned numbers; a run listed after a later one
// (possible only in hand-made updates) gives a negative difference, which
// lib0 writes as its low 7 bits. Sorted delete sets come back unchanged.
func v2RoundTrip(ds *deleteSet) *deleteSet {
	for c, dels := range ds.clients {
		var encCur, decCur uint64
		out := make([]deleteItem, len(dels))
		for i, d := range dels {
			var diff uint64
			if d.clock >= encCur {
				diff = d.clock - encCur
			} else {
				diff = (128 - (encCur-d.clock)%128) % 128
			}
			clock := decCur + diff
			out[i] = deleteItem{clock, d.len}
			encCur = d.clock + d.len
			decCur = clock + d.len
		}
		ds.clients[c] = out
	}
	return ds
}
