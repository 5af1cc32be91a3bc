package crdt

// withPending adds the pending structs and deletions to an encoded state
// update, as Yjs encodeStateAsUpdate merges them in (mergeUpdates of the
// document's update, the pending deletions, and the pending structs the
// target lacks). Per client, structs are written in clock order and gaps
// are filled with Skip structs; delete sets are unioned.
func (d *Doc) withPending(_ []byte, sv map[uint64]uint64, _ []byte) ([]byte, error) {
	s := &d.store
	type run struct {
		structs []*Item
		from    uint64 // first clock to write
	}
	runs := map[uint64]*run{}
	for client, l := range s.clients {
		from := sv[client]
		if s.state(client) > from {
			runs[client] = &run{structs: l.s, from: from}
		}
	}
	if p := s.pending; p != nil {
		for client, refs := range p.clients {
			from := sv[client]
			var kept []*Item
			for _, st := range refs {
				if st.id.Clock+uint64(st.length) > from {
					kept = append(kept, st)
				}
			}
			if len(kept) == 0 {
				continue
			}
			r := runs[client]
			if r == nil {
				runs[client] = &run{structs: kept, from: max(from, kept[0].id.Clock)}
				continue
			}
			r.structs = append(append([]*Item(nil), r.structs...), kept...)
		}
	}
	e := NewEncoderSize(256)
	e.WriteVarUint(uint64(len(runs)))
	for _, client := range sortedClientsDesc(runs) {
		r := runs[client]
		start := 0
		for start < len(r.structs) && r.structs[start].id.Clock+uint64(r.structs[start].length) <= r.from {
			start++
		}
		structs := r.structs[start:]
		from := max(r.from, structs[0].id.Clock)
		// Count structs including the Skips that fill gaps.
		var out []*Item
		next := from
		for i, st := range structs {
			end := st.id.Clock + uint64(st.length)
			if end <= next {
				continue
			}
			if st.id.Clock > next && i > 0 {
				out = append(out, &Item{id: ID{client, next}, length: int(st.id.Clock - next), info: flagSkip})
			}
			out = append(out, st)
			next = end
		}
		e.WriteVarUint(uint64(len(out)))
		e.WriteVarUint(client)
		e.WriteVarUint(from)
		for i, st := range out {
			off := 0
			if i == 0 {
				off = int(from - st.id.Clock)
			} else if prevEnd := out[i-1].id.Clock + uint64(out[i-1].length); prevEnd > st.id.Clock {
				off = int(prevEnd - st.id.Clock)
			}
			st.write(e, off)
		}
	}
	mergeDeleteSets(deleteSetFromStore(s), s.pendingDs).write(e)
	return e.Bytes(), nil
}
