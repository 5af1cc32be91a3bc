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
		diff, err := DiffUpdate(s.pending.update, encodedSV)
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
