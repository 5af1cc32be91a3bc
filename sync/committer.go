package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	gosync "sync"
	"time"

	"github.com/quire/quire/storage"
)

// committer is the group commit: one goroutine shared by all rooms that
// writes every update waiting in any room with one storage.Append (one
// transaction, one fsync). While one commit is on disk, new updates pile up
// and go together in the next one, so the batch grows with the load.
// Rooms never block on it: they add to their own pending list and wake it.
type committer struct {
	store   storage.Store
	metrics Metrics
	changed func(docID string) // optional; see Config.Changed

	mu    gosync.Mutex
	ready []*room // rooms with pending entries, in the order they asked
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

// pendingEntry is an applied update waiting for disk.
type pendingEntry struct {
	idx    uint64 // the room's apply counter after this update
	update []byte
}

// commitState is what the committer reports back to a room (under room.cmu).
type commitState struct {
	pending    []pendingEntry
	queued     bool   // the room is in committer.ready
	durableIdx uint64 // highest apply counter known durable
	durableSeq uint64 // storage sequence of that entry
	err        error  // a failed commit; the room must drop its state
}

func newCommitter(store storage.Store, m Metrics, changed func(docID string)) *committer {
	c := &committer{store: store, metrics: m, changed: changed, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// submit queues an applied update of r for the next group commit.
func (c *committer) submit(r *room, e pendingEntry) {
	r.cmu.Lock()
	r.commit.pending = append(r.commit.pending, e)
	first := !r.commit.queued
	r.commit.queued = true
	r.cmu.Unlock()
	if first {
		c.mu.Lock()
		c.ready = append(c.ready, r)
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// close stops the committer after writing what is pending.
func (c *committer) close() {
	close(c.stop)
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			c.flush() // rooms are closed by now; write what is left
			return
		}
		c.flush()
	}
}

type batchPart struct {
	r       *room
	entries []pendingEntry
}

func (c *committer) flush() {
	c.mu.Lock()
	rooms := c.ready
	c.ready = nil
	c.mu.Unlock()
	if len(rooms) == 0 {
		return
	}
	parts := make([]batchPart, 0, len(rooms))
	for _, r := range rooms {
		r.cmu.Lock()
		es := r.commit.pending
		r.commit.pending = nil
		r.commit.queued = false
		r.cmu.Unlock()
		if len(es) > 0 {
			parts = append(parts, batchPart{r, es})
		}
	}
	for len(parts) > 0 {
		missing := c.write(parts)
		if len(missing) == 0 {
			return
		}
		// Documents deleted meanwhile fail the whole call: tell their rooms
		// and write the others again.
		rest := parts[:0]
		for _, p := range parts {
			if slices.Contains(missing, p.r.id) {
				p.r.commitDone(0, 0, fmt.Errorf("sync: document %q: %w", p.r.id, ErrDocNotFound))
			} else {
				rest = append(rest, p)
			}
		}
		parts = rest
	}
}

// write appends parts in one call and tells each room the outcome, except
// when documents are missing: then it returns their ids and tells no one.
func (c *committer) write(parts []batchPart) (missing []string) {
	var entries []storage.Entry
	bytes := 0
	for _, p := range parts {
		for _, e := range p.entries {
			entries = append(entries, storage.Entry{DocID: p.r.id, Update: e.update})
			bytes += len(e.update)
		}
	}
	start := time.Now()
	seqs, err := c.store.Append(context.Background(), entries)
	c.metrics.Committed(len(entries), bytes, time.Since(start), err)
	if err == nil && len(seqs) != len(entries) {
		err = errors.New("sync: storage returned the wrong number of sequence numbers")
	}
	var missingErr *storage.MissingDocsError
	if errors.As(err, &missingErr) && len(missingErr.DocIDs) > 0 {
		return missingErr.DocIDs
	}
	if err != nil {
		for _, p := range parts {
			p.r.commitDone(0, 0, err)
		}
		return nil
	}
	i := 0
	for _, p := range parts {
		i += len(p.entries)
		p.r.commitDone(p.entries[len(p.entries)-1].idx, seqs[i-1], nil)
		if c.changed != nil {
			c.changed(p.r.id)
		}
	}
	return nil
}
