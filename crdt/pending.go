package crdt

import "fmt"

// withPending adds the pending structs and deletions to the document's own
// update exactly as Yjs encodeStateAsUpdate does: mergeUpdates of the
// document's update, the pending deletions, and diffUpdate of the pending
// structs against the target state vector.
func (d *Doc) withPending(main, encodedSV []byte) ([]byte, error) {
	s := &d.store
	updates := [][]byte{main}
	if s.pendingDs != nil {
		e := NewEncoderSize(32)
		e.WriteVarUint(0)
		s.pendingDs.write(e)
		updates = append(updates, e.Bytes())
	}
	if s.pending != nil {
		if len(encodedSV) == 0 {
			encodedSV = []byte{0}
		}
		diff, err := DiffUpdate(s.pendingUpdate(), encodedSV)
		if err != nil {
			return nil, fmt.Errorf("crdt: encode pending structs: %w", err)
		}
		updates = append(updates, diff)
	}
	out, err := MergeUpdates(updates)
	if err != nil {
		return nil, fmt.Errorf("crdt: encode pending structs: %w", err)
	}
	return out, nil
}

// pendingUpdate encodes the pending structs as the update Yjs keeps in
// store.pendingStructs: per client (descending), the structs in clock
// order with Skips over gaps, and an empty delete set.
func (s *structStore) pendingUpdate() []byte {
	e := NewEncoderSize(256)
	p := s.pending
	e.WriteVarUint(uint64(len(p.clients)))
	for _, client := range sortedClientsDesc(p.clients) {
		structs := p.clients[client]
		var out []*Item
		for i, st := range structs {
			if i > 0 {
				prevEnd := out[len(out)-1].id.Clock + uint64(out[len(out)-1].length)
				if st.id.Clock > prevEnd {
					out = append(out, &Item{id: ID{client, prevEnd}, length: int(st.id.Clock - prevEnd), info: flagSkip})
				}
			}
			out = append(out, st)
		}
		e.WriteVarUint(uint64(len(out)))
		e.WriteVarUint(client)
		e.WriteVarUint(out[0].id.Clock)
		for i, st := range out {
			off := 0
			if i > 0 {
				if prevEnd := out[i-1].id.Clock + uint64(out[i-1].length); prevEnd > st.id.Clock {
					off = int(prevEnd - st.id.Clock)
				}
			}
			st.writeStruct(e, off, true)
		}
	}
	e.WriteVarUint(0)
	return e.Bytes()
}
