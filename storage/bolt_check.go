package storage

import (
	"bytes"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// Check verifies the whole file: bbolt's own page-level consistency check,
// then Quire's invariants (every document has its index entries and nothing
// else does, log seqs lie in (snapshot seq, last seq], byte counts match,
// share tokens and their per-document index agree, no data belongs to a
// missing document). It holds the write lock for its duration: run it in
// tests and maintenance, not on a hot path.
func (s *BoltStore) Check() error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return fmt.Errorf("storage: check: %w", ErrClosed)
	}
	// A writable transaction keeps writers out, which bbolt's check needs;
	// it is rolled back, so the check never writes.
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("storage: check: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var errs []error
	for err := range tx.Check() {
		errs = append(errs, err)
	}
	errs = append(errs, checkInvariants(tx)...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: check %s: %w", s.path, err)
	}
	return nil
}

func checkInvariants(tx *bbolt.Tx) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if q := tx.Bucket(bucketQuire); q == nil {
		bad("missing bucket %s", bucketQuire)
	} else if err := checkFormat(q.Get(keyFormat)); err != nil {
		bad("%w", err)
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			bad("missing bucket %s", name)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	b := bucketsOf(tx)
	docs := map[string]bool{}
	wantIndex := map[string]map[string]string{string(bucketByUpdated): {}, string(bucketByCreated): {}, string(bucketByTitle): {}}
	_ = b.docs.ForEach(func(k, v []byte) error {
		id := string(k)
		docs[id] = true
		r, err := decodeDocRecord(v)
		if err != nil {
			bad("doc %q: %w", id, err)
			return nil
		}
		wantIndex[string(bucketByUpdated)][string(updatedKey(id, &r))] = id
		wantIndex[string(bucketByCreated)][string(createdKey(id, &r))] = id
		wantIndex[string(bucketByTitle)][string(titleKey(id, &r))] = id
		if r.SnapSeq > r.LastSeq {
			bad("doc %q: snapshot seq %d beyond last seq %d", id, r.SnapSeq, r.LastSeq)
		}
		snap := b.snapshots.Get(k)
		if uint64(len(snap)) != r.SnapBytes {
			bad("doc %q: snapshot is %d bytes, record says %d", id, len(snap), r.SnapBytes)
		}
		var count, size uint64
		prev := r.SnapSeq
		prefix := logPrefix(id)
		c := b.logs.Cursor()
		for lk, v := c.Seek(prefix); lk != nil && bytes.HasPrefix(lk, prefix); lk, v = c.Next() {
			_, seq, ok := splitLogKey(lk)
			if !ok {
				bad("doc %q: malformed log key %x", id, lk)
				continue
			}
			if seq != prev+1 {
				bad("doc %q: log seq %d follows %d (must be contiguous after the snapshot)", id, seq, prev)
			}
			prev = seq
			count++
			size += uint64(len(v))
		}
		if count > 0 && prev != r.LastSeq {
			bad("doc %q: last log seq %d, record says %d", id, prev, r.LastSeq)
		}
		if count == 0 && r.SnapSeq != r.LastSeq {
			bad("doc %q: empty log but snapshot seq %d != last seq %d", id, r.SnapSeq, r.LastSeq)
		}
		if count != r.LogCount || size != r.LogBytes {
			bad("doc %q: log holds %d entries / %d bytes, record says %d / %d", id, count, size, r.LogCount, r.LogBytes)
		}
		return nil
	})
	for name, want := range wantIndex {
		_ = tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
			if id, ok := want[string(k)]; !ok || id != string(v) {
				bad("%s: stray entry %x → %q", name, k, v)
			}
			delete(want, string(k))
			return nil
		})
		for _, id := range want {
			bad("%s: no entry for doc %q", name, id)
		}
	}
	_ = b.logs.ForEach(func(k, _ []byte) error {
		if id, _, ok := splitLogKey(k); !ok || !docs[id] {
			bad("log entry %x of a missing doc", k)
		}
		return nil
	})
	for _, bk := range []*bbolt.Bucket{b.snapshots, b.versions, b.shareIDs} {
		_ = bk.ForEach(func(k, _ []byte) error {
			if !docs[string(k)] {
				bad("data for missing doc %q", k)
			}
			return nil
		})
	}
	_ = b.versions.ForEach(func(k, _ []byte) error {
		vb := b.versions.Bucket(k)
		if vb == nil {
			bad("versions of doc %q: not a bucket", k)
			return nil
		}
		return vb.ForEach(func(vk, v []byte) error {
			if _, err := decodeVersion(string(k), string(vk), v, false); err != nil {
				bad("version %q of doc %q: %w", vk, k, err)
			}
			return nil
		})
	})
	indexed := map[string]bool{}
	_ = b.shareIDs.ForEach(func(doc, _ []byte) error {
		ids := b.shareIDs.Bucket(doc)
		if ids == nil {
			bad("share ids of doc %q: not a bucket", doc)
			return nil
		}
		return ids.ForEach(func(id, hash []byte) error {
			indexed[string(hash)] = true
			t, err := decodeShare(b.shares.Get(hash))
			if err != nil || t.ID != string(id) || t.DocID != string(doc) {
				bad("share token %q of doc %q: index and record disagree (%v)", id, doc, err)
			}
			return nil
		})
	})
	_ = b.shares.ForEach(func(hash, _ []byte) error {
		if !indexed[string(hash)] {
			bad("share token %x: not in any document's index", hash)
		}
		if len(hash) != 32 {
			bad("share token key %x is not a SHA-256", hash)
		}
		return nil
	})
	return errs
}
