package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// On-disk layout (format 1). Keys that name a document hold its ID as is.
//
//	quire        "format" → 1
//	docs         docID → docRecord (title, times, last seq, snapshot seq, byte counts)
//	idx_updated  desc(Updated) ‖ docID → docID   ListDocs by updated
//	idx_created  desc(Created) ‖ docID → docID   ListDocs by created
//	idx_title    lower(title)[:256] ‖ 0x00 ‖ docID → docID
//	logs         uvarint(len(docID)) ‖ docID ‖ seq (8 bytes big-endian) → update
//	snapshots    docID → snapshot bytes (the seq it covers is in docRecord)
//	versions     docID → bucket{ versionID → version record }
//	shares       sha256(secret) → share record
//	share_ids    docID → bucket{ tokenID → sha256(secret) }
//
// Every document's log lives in one bucket under composite keys rather
// than in a nested bucket per document: a group commit touching 64
// documents then dirties about one leaf page per document, where nested
// buckets dirty the leaf, the bucket's root and the parent page holding
// its header (measured in BenchmarkAppend: 157 page writes per
// 64-document commit with nested buckets, 87 with composite keys). A document's entries are one contiguous key
// range, so Load, Compact and DeleteDoc are a Seek and a short walk.
// The indexes make a ListDocs page cost O(limit) instead of sorting every
// document; Append pays one extra delete+put per document it touches.
var (
	bucketQuire     = []byte("quire")
	bucketDocs      = []byte("docs")
	bucketByUpdated = []byte("idx_updated")
	bucketByCreated = []byte("idx_created")
	bucketByTitle   = []byte("idx_title")
	bucketLogs      = []byte("logs")
	bucketSnapshots = []byte("snapshots")
	bucketVersions  = []byte("versions")
	bucketShares    = []byte("shares")
	bucketShareIDs  = []byte("share_ids")

	allBuckets = [][]byte{bucketDocs, bucketByUpdated, bucketByCreated, bucketByTitle,
		bucketLogs, bucketSnapshots, bucketVersions, bucketShares, bucketShareIDs}

	keyFormat = []byte("format")
)

const (
	// formatVersion is the layout this build writes and reads.
	formatVersion = 1

	// DefaultLockTimeout is how long OpenBolt waits for another process to
	// release the file before giving up.
	DefaultLockTimeout = 2 * time.Second

	// MaxDocIDLen and MaxTitleLen bound what callers may store (bytes).
	MaxDocIDLen = 512
	MaxTitleLen = 1024

	// titleKeyLen is how much of the lower-cased title orders idx_title;
	// titles equal that far are ordered by ID.
	titleKeyLen = 256

	// updatedResolution: an append moves a document's Updated time (and
	// its idx_updated entry) only once it is this much newer. While people
	// type, every group commit would otherwise rewrite an index page, for
	// a change of milliseconds no list shows (measured: ~5% of the
	// server's CPU at 2,000 edits/s).
	updatedResolution = time.Second

	// maxCommitBytes caps one group commit; a bigger queue goes in several.
	maxCommitBytes = 16 << 20

	defaultListLimit = 50
	maxListLimit     = 500
)

// ErrLocked is returned by OpenBolt when another process holds the file.
var ErrLocked = errors.New("data file is locked")

// BoltOptions tunes OpenBolt. The zero value is right for production.
type BoltOptions struct {
	// LockTimeout bounds the wait for the file lock; <= 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// NoSync skips fsync. Only for tests and benchmarks: a crash then loses
	// acknowledged writes and may corrupt the file.
	NoSync bool
	// Now is the clock for Created/Updated defaults; nil means time.Now.
	Now func() time.Time
}

// BoltStore is the Store on one bbolt file.
type BoltStore struct {
	db   *bbolt.DB
	path string
	now  func() time.Time

	// closeMu is held shared by every call and exclusively by Close, so
	// Close waits for calls in progress and later calls see closed.
	closeMu sync.RWMutex
	closed  bool

	// Group commit for Append: callers queue; the head of the queue
	// commits everything queued so far in one transaction while the next
	// callers queue behind it. A lone caller commits at once (no timer,
	// unlike bbolt's DB.Batch, which would add MaxBatchDelay to every call
	// of sync's single committer goroutine).
	appendMu    sync.Mutex
	appendCond  *sync.Cond
	appendQueue []*appendRequest

	appendCalls, appendCommits, appendedEntries atomic.Uint64

	// beforeCommit, when set (tests only), runs in the leader before it
	// commits a group of n calls.
	beforeCommit func(n int)
}

// BoltStats are counters since OpenBolt, for metrics and tuning.
type BoltStats struct {
	AppendCalls     uint64 // Append calls that reached a commit
	AppendCommits   uint64 // transactions (each one fsync) they took; fewer than calls when group commit merged them
	AppendedEntries uint64 // entries written
	FileSize        int64  // bytes of the data file (0 once closed)
}

// Stats returns the counters and the file size.
func (s *BoltStore) Stats() BoltStats {
	st := BoltStats{
		AppendCalls:     s.appendCalls.Load(),
		AppendCommits:   s.appendCommits.Load(),
		AppendedEntries: s.appendedEntries.Load(),
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if !s.closed {
		_ = s.db.View(func(tx *bbolt.Tx) error {
			st.FileSize = tx.Size()
			return nil
		})
	}
	return st
}

var _ Store = (*BoltStore)(nil)

type appendRequest struct {
	entries []Entry
	bytes   int
	seqs    []uint64
	err     error
	done    bool
}

// OpenBolt opens (creating if needed, with its parent directory) the bbolt
// file at path. If another process holds it, it fails within
// opts.LockTimeout with an error wrapping ErrLocked.
func OpenBolt(path string, opts BoltOptions) (*BoltStore, error) {
	if path == "" {
		return nil, fmt.Errorf("storage: open: empty path: %w", ErrInvalid)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("storage: create data dir for %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      timeout,
		NoSync:       opts.NoSync,
		FreelistType: bbolt.FreelistMapType, // O(1) page allocation in a fragmented file
		// The freelist is rebuilt from the pages at open instead of being
		// rewritten by every commit: fewer pages written and synced per group
		// commit, which is most of the cost of durable delivery.
		NoFreelistSync: true,
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("storage: open %s: data dir is in use by another quire process? (no lock within %s): %w", path, timeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	if err := initLayout(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	s := &BoltStore{db: db, path: path, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.appendCond = sync.NewCond(&s.appendMu)
	return s, nil
}

// initLayout checks the format and creates missing buckets; it writes (and
// fsyncs) only for a new file.
func initLayout(db *bbolt.DB) error {
	complete := false
	err := db.View(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQuire)
		if q == nil {
			return nil
		}
		if err := checkFormat(q.Get(keyFormat)); err != nil {
			return err
		}
		complete = true
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				complete = false
			}
		}
		return nil
	})
	if err != nil || complete {
		return err
	}
	return db.Update(func(tx *bbolt.Tx) error {
		q, err := tx.CreateBucketIfNotExists(bucketQuire)
		if err != nil {
			return err
		}
		if f := q.Get(keyFormat); f != nil {
			if err := checkFormat(f); err != nil {
				return err
			}
		} else if err := q.Put(keyFormat, []byte{formatVersion}); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

func checkFormat(f []byte) error {
	if len(f) != 1 || f[0] == 0 {
		return fmt.Errorf("%w: format marker %x", errCorrupt, f)
	}
	if f[0] > formatVersion {
		return fmt.Errorf("data file format %d is newer than this quire supports (%d): upgrade quire", f[0], formatVersion)
	}
	return nil
}

// Path is the file the store lives in.
func (s *BoltStore) Path() string { return s.path }

// enter starts a call: it fails if ctx is done or the store is closed, and
// otherwise holds Close off until the returned func runs.
func (s *BoltStore) enter(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, ErrClosed
	}
	return s.closeMu.RUnlock, nil
}

// view runs fn in a read-only transaction if ctx is live and the store open.
func (s *BoltStore) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	leave, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	return s.db.View(fn)
}

// update runs fn in a read-write transaction if ctx is live and the store
// open.
func (s *BoltStore) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	leave, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	return s.db.Update(fn)
}

// Close waits for calls in progress, then closes the file.
func (s *BoltStore) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("storage: close %s: %w", s.path, err)
	}
	return nil
}

// buckets are the top-level buckets of one transaction.
type buckets struct {
	docs, byUpdated, byCreated, byTitle, logs, snapshots, versions, shares, shareIDs *bbolt.Bucket
}

func bucketsOf(tx *bbolt.Tx) buckets {
	return buckets{
		docs:      tx.Bucket(bucketDocs),
		byUpdated: tx.Bucket(bucketByUpdated),
		byCreated: tx.Bucket(bucketByCreated),
		byTitle:   tx.Bucket(bucketByTitle),
		logs:      tx.Bucket(bucketLogs),
		snapshots: tx.Bucket(bucketSnapshots),
		versions:  tx.Bucket(bucketVersions),
		shares:    tx.Bucket(bucketShares),
		shareIDs:  tx.Bucket(bucketShareIDs),
	}
}

// doc reads a document's record; ErrNotFound if absent.
func (b buckets) doc(id string) (docRecord, error) {
	v := b.docs.Get([]byte(id))
	if v == nil {
		return docRecord{}, ErrNotFound
	}
	r, err := decodeDocRecord(v)
	if err != nil {
		return docRecord{}, err
	}
	return r, nil
}

func updatedKey(id string, r *docRecord) []byte { return append(timeKeyDesc(r.Updated), id...) }
func createdKey(id string, r *docRecord) []byte { return append(timeKeyDesc(r.Created), id...) }

func titleKey(id string, r *docRecord) []byte {
	t := strings.ToLower(r.Title)
	if len(t) > titleKeyLen {
		t = t[:titleKeyLen]
	}
	k := make([]byte, 0, len(t)+1+len(id))
	k = append(k, t...)
	k = append(k, 0) // a title sorts before its own extensions ("ab" < "abc")
	return append(k, id...)
}

func (b buckets) putIndexes(id string, r *docRecord) error {
	v := []byte(id)
	return errors.Join(
		b.byUpdated.Put(updatedKey(id, r), v),
		b.byCreated.Put(createdKey(id, r), v),
		b.byTitle.Put(titleKey(id, r), v),
	)
}

func (b buckets) deleteIndexes(id string, r *docRecord) error {
	return errors.Join(
		b.byUpdated.Delete(updatedKey(id, r)),
		b.byCreated.Delete(createdKey(id, r)),
		b.byTitle.Delete(titleKey(id, r)),
	)
}

func checkDocID(id string) error {
	if id == "" {
		return fmt.Errorf("empty document id: %w", ErrInvalid)
	}
	if len(id) > MaxDocIDLen {
		return fmt.Errorf("document id of %d bytes is over %d: %w", len(id), MaxDocIDLen, ErrInvalid)
	}
	return nil
}

func checkTitle(title string) error {
	if len(title) > MaxTitleLen {
		return fmt.Errorf("title of %d bytes is over %d: %w", len(title), MaxTitleLen, ErrInvalid)
	}
	return nil
}

// CreateDoc implements Store.
func (s *BoltStore) CreateDoc(ctx context.Context, meta DocMeta) error {
	if err := errors.Join(checkDocID(meta.ID), checkTitle(meta.Title)); err != nil {
		return fmt.Errorf("storage: create doc %q: %w", meta.ID, err)
	}
	r := docRecord{Title: meta.Title, Created: meta.Created.UTC(), Updated: meta.Updated.UTC()}
	if r.Title == "" {
		r.Title = meta.ID
	}
	if meta.Created.IsZero() {
		r.Created = s.now().UTC()
	}
	if meta.Updated.IsZero() {
		r.Updated = r.Created
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		key := []byte(meta.ID)
		if b.docs.Get(key) != nil {
			return ErrExists
		}
		return errors.Join(b.docs.Put(key, r.encode()), b.putIndexes(meta.ID, &r))
	})
	if err != nil {
		return fmt.Errorf("storage: create doc %q: %w", meta.ID, err)
	}
	return nil
}

// GetDoc implements Store.
func (s *BoltStore) GetDoc(ctx context.Context, id string) (DocMeta, error) {
	var meta DocMeta
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		r, err := bucketsOf(tx).doc(id)
		meta = r.meta(id)
		return err
	})
	if err != nil {
		return DocMeta{}, fmt.Errorf("storage: get doc %q: %w", id, err)
	}
	return meta, nil
}

// cursorV1 starts every cursor so a future layout can reject old ones clearly.
const cursorV1 = 1

func sortIndex(k SortKey) (byte, []byte, error) {
	switch k {
	case "", SortUpdated:
		return 'u', bucketByUpdated, nil
	case SortCreated:
		return 'c', bucketByCreated, nil
	case SortTitle:
		return 't', bucketByTitle, nil
	}
	return 0, nil, fmt.Errorf("unknown sort %q (want updated, created or title): %w", k, ErrInvalid)
}

func encodeCursor(sort byte, key []byte) string {
	b := make([]byte, 0, 2+len(key))
	b = append(b, cursorV1, sort)
	return base64.RawURLEncoding.EncodeToString(append(b, key...))
}

func decodeCursor(c string, sort byte) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != cursorV1 {
		return nil, fmt.Errorf("malformed cursor (start again without one): %w", ErrInvalid)
	}
	if b[1] != sort {
		return nil, fmt.Errorf("cursor belongs to another sort order (start again without one): %w", ErrInvalid)
	}
	return b[2:], nil
}

// ListDocs implements Store. A page reads the sort index from the cursor on;
// with a filter it reads on until it has a page, so a rare match in a big
// store costs a scan.
func (s *BoltStore) ListDocs(ctx context.Context, opts ListOptions) ([]DocMeta, string, error) {
	sortByte, index, err := sortIndex(opts.Sort)
	var from []byte
	if err == nil && opts.Cursor != "" {
		from, err = decodeCursor(opts.Cursor, sortByte)
	}
	if err != nil {
		return nil, "", fmt.Errorf("storage: list docs: %w", err)
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	filter := strings.ToLower(opts.Filter)

	docs := []DocMeta{}
	next := ""
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		c := tx.Bucket(index).Cursor()
		var k, v []byte
		if from == nil {
			k, v = c.First()
		} else if k, v = c.Seek(from); k != nil && bytes.Equal(k, from) {
			k, v = c.Next() // the cursor names the last document already returned
		}
		var last []byte
		for ; k != nil; k, v = c.Next() {
			rec := b.docs.Get(v)
			if rec == nil {
				return fmt.Errorf("index entry for doc %q: %w", v, errCorrupt)
			}
			if filter != "" && !titleContains(rec, filter) {
				continue
			}
			id := string(v)
			r, err := decodeDocRecord(rec)
			if err != nil {
				return fmt.Errorf("doc %q: %w", id, err)
			}
			if len(docs) == limit {
				next = encodeCursor(sortByte, last)
				return nil
			}
			docs = append(docs, r.meta(id))
			last = k
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("storage: list docs: %w", err)
	}
	return docs, next, nil
}

// RenameDoc implements Store.
func (s *BoltStore) RenameDoc(ctx context.Context, id, title string) error {
	if err := checkTitle(title); err != nil {
		return fmt.Errorf("storage: rename doc %q: %w", id, err)
	}
	if title == "" {
		title = id
	}
	now := s.now().UTC()
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		r, err := b.doc(id)
		if err != nil {
			return err
		}
		if err := b.deleteIndexes(id, &r); err != nil {
			return err
		}
		r.Title, r.Updated = title, now
		return errors.Join(b.docs.Put([]byte(id), r.encode()), b.putIndexes(id, &r))
	})
	if err != nil {
		return fmt.Errorf("storage: rename doc %q: %w", id, err)
	}
	return nil
}

// DeleteDoc implements Store.
func (s *BoltStore) DeleteDoc(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		r, err := b.doc(id)
		if err != nil {
			return err
		}
		key := []byte(id)
		if _, _, err := deleteKeyRange(b.logs, logPrefix(id), nil); err != nil {
			return err
		}
		if err := errors.Join(b.deleteIndexes(id, &r), b.docs.Delete(key), b.snapshots.Delete(key),
			deleteBucketIfExists(b.versions, key)); err != nil {
			return err
		}
		if ids := b.shareIDs.Bucket(key); ids != nil {
			if err := ids.ForEach(func(_, hash []byte) error { return b.shares.Delete(hash) }); err != nil {
				return err
			}
		}
		return deleteBucketIfExists(b.shareIDs, key)
	})
	if err != nil {
		return fmt.Errorf("storage: delete doc %q: %w", id, err)
	}
	return nil
}

// deleteKeyRange deletes the keys of bucket that start with prefix and are
// <= last (nil: no bound), returning them and their values' total size.
// Keys are collected before deleting: deleting under a moving bbolt cursor
// skips keys.
func deleteKeyRange(bucket *bbolt.Bucket, prefix, last []byte) (keys [][]byte, valueBytes uint64, err error) {
	c := bucket.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if last != nil && bytes.Compare(k, last) > 0 {
			break
		}
		keys = append(keys, bytes.Clone(k))
		valueBytes += uint64(len(v))
	}
	for _, k := range keys {
		if err := bucket.Delete(k); err != nil {
			return nil, 0, err
		}
	}
	return keys, valueBytes, nil
}

func deleteBucketIfExists(parent *bbolt.Bucket, key []byte) error {
	if err := parent.DeleteBucket(key); err != nil && !errors.Is(err, bbolt.ErrBucketNotFound) {
		return err
	}
	return nil
}

// Append implements Store. Concurrent calls are committed together (one
// transaction, one fsync) while each keeps its own result: a call naming an
// unknown document fails alone and writes nothing. Once queued, a call is
// committed even if ctx ends meanwhile.
func (s *BoltStore) Append(ctx context.Context, entries []Entry) ([]uint64, error) {
	req := &appendRequest{entries: entries}
	for _, e := range entries {
		if err := checkDocID(e.DocID); err != nil {
			return nil, fmt.Errorf("storage: append: %w", err)
		}
		if len(e.Update) == 0 {
			return nil, fmt.Errorf("storage: append to doc %q: empty update: %w", e.DocID, ErrInvalid)
		}
		if len(e.Update) > bbolt.MaxValueSize {
			return nil, fmt.Errorf("storage: append to doc %q: update of %d bytes is too big: %w", e.DocID, len(e.Update), ErrInvalid)
		}
		req.bytes += len(e.Update)
	}
	leave, err := s.enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: append: %w", err)
	}
	defer leave()
	if len(entries) == 0 {
		return []uint64{}, nil
	}

	s.appendMu.Lock()
	s.appendQueue = append(s.appendQueue, req)
	for !req.done && s.appendQueue[0] != req {
		s.appendCond.Wait()
	}
	if req.done {
		s.appendMu.Unlock()
		return req.seqs, req.err
	}
	// This call leads: it commits every request queued so far (up to
	// maxCommitBytes), itself first.
	n, size := 0, 0
	for n < len(s.appendQueue) && (n == 0 || size+s.appendQueue[n].bytes <= maxCommitBytes) {
		size += s.appendQueue[n].bytes
		n++
	}
	group := slices.Clone(s.appendQueue[:n])
	s.appendMu.Unlock()

	// Hand over even if the commit panics, or every later caller waits
	// forever; then no one in the group may believe it was written.
	committed := false
	defer func() {
		s.appendMu.Lock()
		for _, r := range group {
			if !committed {
				r.seqs, r.err = nil, errors.New("storage: append: commit panicked; nothing of this call is known to be written")
			}
			r.done = true
		}
		s.appendQueue = slices.Clone(s.appendQueue[n:])
		s.appendCond.Broadcast()
		s.appendMu.Unlock()
	}()
	if s.beforeCommit != nil {
		s.beforeCommit(len(group))
	}
	s.commitAppends(group)
	committed = true
	return req.seqs, req.err
}

// appendTarget is a document touched by a group commit.
type appendTarget struct {
	rec    docRecord
	before docRecord
	prefix []byte // of its log keys
}

func (s *BoltStore) commitAppends(group []*appendRequest) {
	now := s.now().UTC()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		targets := map[string]*appendTarget{}
		var order []string
		for _, req := range group {
			req.seqs, req.err = nil, nil
			// Every document must exist before anything of req is written.
			var missing []string
			for _, e := range req.entries {
				if _, ok := targets[e.DocID]; !ok && b.docs.Get([]byte(e.DocID)) == nil && !slices.Contains(missing, e.DocID) {
					missing = append(missing, e.DocID)
				}
			}
			if missing != nil {
				req.err = fmt.Errorf("storage: %w", &MissingDocsError{DocIDs: missing})
				continue
			}
			seqs := make([]uint64, len(req.entries))
			for i, e := range req.entries {
				t := targets[e.DocID]
				if t == nil {
					r, err := b.doc(e.DocID)
					if err != nil {
						return fmt.Errorf("doc %q: %w", e.DocID, err)
					}
					t = &appendTarget{rec: r, before: r, prefix: logPrefix(e.DocID)}
					targets[e.DocID] = t
					order = append(order, e.DocID)
				}
				t.rec.LastSeq++
				if err := b.logs.Put(logKey(t.prefix, t.rec.LastSeq), e.Update); err != nil {
					return fmt.Errorf("doc %q: %w", e.DocID, err)
				}
				t.rec.LogBytes += uint64(len(e.Update))
				t.rec.LogCount++
				seqs[i] = t.rec.LastSeq
			}
			req.seqs = seqs
		}
		for _, id := range order {
			t := targets[id]
			if d := now.Sub(t.before.Updated); d >= updatedResolution || d < 0 {
				t.rec.Updated = now
				if err := errors.Join(
					b.byUpdated.Delete(updatedKey(id, &t.before)),
					b.byUpdated.Put(updatedKey(id, &t.rec), []byte(id)),
				); err != nil {
					return fmt.Errorf("doc %q: %w", id, err)
				}
			}
			if err := b.docs.Put([]byte(id), t.rec.encode()); err != nil {
				return fmt.Errorf("doc %q: %w", id, err)
			}
		}
		return nil
	})
	s.appendCalls.Add(uint64(len(group)))
	s.appendCommits.Add(1)
	if err != nil {
		for _, req := range group {
			if req.err == nil {
				req.seqs, req.err = nil, fmt.Errorf("storage: append: %w", err)
			}
		}
		return
	}
	for _, req := range group {
		s.appendedEntries.Add(uint64(len(req.seqs)))
	}
}

// Load implements Store. The updates share one backing array (one
// allocation for the whole log): keeping one of them keeps them all.
func (s *BoltStore) Load(ctx context.Context, id string) (Stored, error) {
	var st Stored
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		r, err := b.doc(id)
		if err != nil {
			return err
		}
		st = Stored{SnapshotSeq: r.SnapSeq, LastSeq: r.LastSeq}
		key := []byte(id)
		if snap := b.snapshots.Get(key); snap != nil {
			st.Snapshot = bytes.Clone(snap)
		}
		if r.LogCount == 0 {
			return nil
		}
		st.Updates = make([][]byte, 0, r.LogCount)
		// One allocation for every update: they are read together and
		// dropped together.
		buf := make([]byte, 0, r.LogBytes)
		prefix := logPrefix(id)
		c := b.logs.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			start := len(buf)
			buf = append(buf, v...)
			st.Updates = append(st.Updates, buf[start:len(buf):len(buf)])
		}
		return nil
	})
	if err != nil {
		return Stored{}, fmt.Errorf("storage: load doc %q: %w", id, err)
	}
	return st, nil
}

// Compact implements Store.
func (s *BoltStore) Compact(ctx context.Context, id string, snapshot []byte, throughSeq uint64) error {
	if len(snapshot) == 0 {
		return fmt.Errorf("storage: compact doc %q: empty snapshot: %w", id, ErrInvalid)
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		r, err := b.doc(id)
		if err != nil {
			return err
		}
		if throughSeq > r.LastSeq {
			return fmt.Errorf("through seq %d is beyond the last seq %d: %w", throughSeq, r.LastSeq, ErrInvalid)
		}
		if throughSeq < r.SnapSeq {
			return fmt.Errorf("through seq %d is older than the stored snapshot (seq %d): %w", throughSeq, r.SnapSeq, ErrInvalid)
		}
		key := []byte(id)
		prefix := logPrefix(id)
		last := logKey(prefix, throughSeq)
		drop, dropped, err := deleteKeyRange(b.logs, prefix, last)
		if err != nil {
			return err
		}
		r.LogBytes -= dropped
		r.LogCount -= uint64(len(drop))
		r.SnapSeq, r.SnapBytes = throughSeq, uint64(len(snapshot))
		return errors.Join(b.snapshots.Put(key, snapshot), b.docs.Put(key, r.encode()))
	})
	if err != nil {
		return fmt.Errorf("storage: compact doc %q: %w", id, err)
	}
	return nil
}

// CreateVersion implements Store.
func (s *BoltStore) CreateVersion(ctx context.Context, v Version) error {
	switch {
	case v.ID == "" || len(v.ID) > bbolt.MaxKeySize:
		return fmt.Errorf("storage: create version of doc %q: bad version id: %w", v.DocID, ErrInvalid)
	case len(v.State) == 0:
		return fmt.Errorf("storage: create version %q of doc %q: empty state: %w", v.ID, v.DocID, ErrInvalid)
	case len(v.Name) > MaxTitleLen:
		return fmt.Errorf("storage: create version %q of doc %q: name over %d bytes: %w", v.ID, v.DocID, MaxTitleLen, ErrInvalid)
	}
	if v.Created.IsZero() {
		v.Created = s.now()
	}
	v.Created = v.Created.UTC()
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		if _, err := b.doc(v.DocID); err != nil {
			return err
		}
		vb, err := b.versions.CreateBucketIfNotExists([]byte(v.DocID))
		if err != nil {
			return err
		}
		if vb.Get([]byte(v.ID)) != nil {
			return ErrExists
		}
		return vb.Put([]byte(v.ID), encodeVersion(&v))
	})
	if err != nil {
		return fmt.Errorf("storage: create version %q of doc %q: %w", v.ID, v.DocID, err)
	}
	return nil
}

// ListVersions implements Store.
func (s *BoltStore) ListVersions(ctx context.Context, docID string) ([]Version, error) {
	versions := []Version{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		if _, err := b.doc(docID); err != nil {
			return err
		}
		vb := b.versions.Bucket([]byte(docID))
		if vb == nil {
			return nil
		}
		return vb.ForEach(func(k, val []byte) error {
			v, err := decodeVersion(docID, string(k), val, false)
			if err != nil {
				return fmt.Errorf("version %q: %w", k, err)
			}
			versions = append(versions, v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: list versions of doc %q: %w", docID, err)
	}
	slices.SortFunc(versions, func(a, b Version) int { return newestFirst(a.Created, b.Created, a.ID, b.ID) })
	return versions, nil
}

// GetVersion implements Store.
func (s *BoltStore) GetVersion(ctx context.Context, docID, versionID string) (Version, error) {
	var v Version
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		vb := bucketsOf(tx).versions.Bucket([]byte(docID))
		if vb == nil {
			return ErrNotFound
		}
		val := vb.Get([]byte(versionID))
		if val == nil {
			return ErrNotFound
		}
		var err error
		v, err = decodeVersion(docID, versionID, val, true)
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("storage: get version %q of doc %q: %w", versionID, docID, err)
	}
	return v, nil
}

// newestFirst orders versions and share tokens: newest first, and by id
// (descending) where two were created at the same instant.
func newestFirst(aCreated, bCreated time.Time, aID, bID string) int {
	if c := bCreated.Compare(aCreated); c != 0 {
		return c
	}
	return strings.Compare(bID, aID)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateShareToken implements Store.
func (s *BoltStore) CreateShareToken(ctx context.Context, t ShareToken, secret string) error {
	switch {
	case t.ID == "" || len(t.ID) > bbolt.MaxKeySize:
		return fmt.Errorf("storage: create share token for doc %q: bad token id: %w", t.DocID, ErrInvalid)
	case secret == "":
		return fmt.Errorf("storage: create share token %q for doc %q: empty secret: %w", t.ID, t.DocID, ErrInvalid)
	case t.Role != RoleViewer && t.Role != RoleEditor:
		return fmt.Errorf("storage: create share token %q for doc %q: unknown role %q (want viewer or editor): %w", t.ID, t.DocID, t.Role, ErrInvalid)
	}
	if t.Created.IsZero() {
		t.Created = s.now()
	}
	t.Created, t.ExpiresAt = t.Created.UTC(), t.ExpiresAt.UTC()
	hash := hashSecret(secret)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		if _, err := b.doc(t.DocID); err != nil {
			return err
		}
		if b.shares.Get(hash) != nil {
			return fmt.Errorf("secret already in use: %w", ErrExists)
		}
		ids, err := b.shareIDs.CreateBucketIfNotExists([]byte(t.DocID))
		if err != nil {
			return err
		}
		if ids.Get([]byte(t.ID)) != nil {
			return ErrExists
		}
		return errors.Join(ids.Put([]byte(t.ID), hash), b.shares.Put(hash, encodeShare(&t)))
	})
	if err != nil {
		return fmt.Errorf("storage: create share token %q for doc %q: %w", t.ID, t.DocID, err)
	}
	return nil
}

// LookupShareToken implements Store.
func (s *BoltStore) LookupShareToken(ctx context.Context, secret string) (ShareToken, error) {
	var t ShareToken
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := bucketsOf(tx).shares.Get(hashSecret(secret))
		if v == nil {
			return ErrNotFound
		}
		var err error
		t, err = decodeShare(v)
		return err
	})
	if err != nil {
		// Never put the secret in an error: errors end up in logs.
		return ShareToken{}, fmt.Errorf("storage: look up share token: %w", err)
	}
	return t, nil
}

// ListShareTokens implements Store.
func (s *BoltStore) ListShareTokens(ctx context.Context, docID string) ([]ShareToken, error) {
	tokens := []ShareToken{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		if _, err := b.doc(docID); err != nil {
			return err
		}
		ids := b.shareIDs.Bucket([]byte(docID))
		if ids == nil {
			return nil
		}
		return ids.ForEach(func(id, hash []byte) error {
			v := b.shares.Get(hash)
			if v == nil {
				return fmt.Errorf("token %q: %w: index names a missing token", id, errCorrupt)
			}
			t, err := decodeShare(v)
			if err != nil {
				return fmt.Errorf("token %q: %w", id, err)
			}
			tokens = append(tokens, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: list share tokens of doc %q: %w", docID, err)
	}
	slices.SortFunc(tokens, func(a, b ShareToken) int { return newestFirst(a.Created, b.Created, a.ID, b.ID) })
	return tokens, nil
}

// RevokeShareToken implements Store.
func (s *BoltStore) RevokeShareToken(ctx context.Context, docID, tokenID string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		ids := b.shareIDs.Bucket([]byte(docID))
		if ids == nil {
			return ErrNotFound
		}
		hash := ids.Get([]byte(tokenID))
		if hash == nil {
			return ErrNotFound
		}
		hash = bytes.Clone(hash)
		v := b.shares.Get(hash)
		if v == nil {
			return fmt.Errorf("%w: index names a missing token", errCorrupt)
		}
		t, err := decodeShare(v)
		if err != nil || t.Revoked {
			return err
		}
		t.Revoked = true
		return b.shares.Put(hash, encodeShare(&t))
	})
	if err != nil {
		return fmt.Errorf("storage: revoke share token %q of doc %q: %w", tokenID, docID, err)
	}
	return nil
}
