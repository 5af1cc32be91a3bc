package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/storage"
)

// room owns one open document. Its goroutine (run) is the only code that
// touches doc, the session set and the awareness view; everything else talks
// to it through inbox. Updates are applied at once, committed by the shared
// committer, and everything the room sends that contains them waits in held
// until they are durable.
type room struct {
	hub   *Hub
	id    string
	inbox chan *roomMsg // pointers: a buffered channel of structs costs its full size per room, idle or not
	done  chan struct{} // closed when the goroutine has stopped
	err   error         // why the room stopped early; set before done closes

	// Guarded by hub.mu.
	refs     int  // sessions and requests that may still post to inbox
	retiring bool // no new refs; joiners wait for done
	create   bool // create the document if it does not exist

	// Shared with the committer, guarded by cmu.
	cmu    gosync.Mutex
	commit commitState
	notify chan struct{} // the committer reported; capacity 1

	compactDone chan compactResult // capacity 1

	editors atomic.Int32 // len(sessions), readable from any goroutine

	// Owned by the room goroutine.
	doc         *crdt.Doc
	sessions    map[*session]struct{}
	aware       awareness
	applied     uint64 // updates applied since load
	durable     uint64 // updates known durable (prefix of applied)
	durableSeq  uint64 // storage seq of the last durable update
	snapshotSeq uint64 // storage seq covered by the stored snapshot
	sinceBytes  int64  // update bytes applied since the last snapshot
	lastUpdate  time.Time
	lastActive  time.Time // last time a session or request was present
	held        []heldMsg
	compacting  bool
	pendingDos  int
	stopped     bool
}

// heldMsg waits until the updates up to idx are durable.
type heldMsg struct {
	idx     uint64
	msg     *outMsg    // nil: only a reply
	to      *session   // nil: every session of the room at release time
	arrived time.Time  // for fan-out latency of broadcasts
	reply   chan error // a Do request waiting for durability
}

type roomMsgKind uint8

const (
	rmJoin roomMsgKind = iota + 1
	rmLeave
	rmInbound
	rmDo
	rmCloseAll
)

type roomMsg struct {
	kind    roomMsgKind
	s       *session
	in      inbound
	arrived time.Time
	fn      func(doc *crdt.Doc) ([]byte, error)
	reason  CloseReason
	reply   chan error // capacity 1
}

func newRoom(h *Hub, id string, create bool) *room {
	return &room{
		hub:         h,
		id:          id,
		create:      create,
		inbox:       make(chan *roomMsg, h.cfg.InboxSize),
		done:        make(chan struct{}),
		notify:      make(chan struct{}, 1),
		compactDone: make(chan compactResult, 1),
		sessions:    make(map[*session]struct{}),
	}
}

// post delivers m unless the room has stopped. It blocks while the inbox is
// full: that back-pressure reaches the client's TCP window, not the room.
func (r *room) post(ctx context.Context, m *roomMsg) error {
	select {
	case r.inbox <- m:
		return nil
	case <-r.done:
		return r.stoppedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *room) stoppedErr() error {
	if r.err != nil {
		return r.err
	}
	return ErrRoomClosed
}

// commitDone is called by the committer goroutine.
func (r *room) commitDone(idx, seq uint64, err error) {
	r.cmu.Lock()
	if err != nil {
		if r.commit.err == nil {
			r.commit.err = err
		}
	} else if idx > r.commit.durableIdx {
		r.commit.durableIdx = idx
		r.commit.durableSeq = seq
	}
	r.cmu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *room) run() {
	h := r.hub
	if err := r.load(); err != nil {
		r.stop(err)
		return
	}
	h.metrics.RoomOpened()
	defer h.metrics.RoomClosed()
	ticker := time.NewTicker(h.cfg.TickInterval)
	defer ticker.Stop()
	for !r.stopped {
		select {
		case m := <-r.inbox:
			r.handle(m)
		case <-r.notify:
			r.onCommit()
		case res := <-r.compactDone:
			r.onCompact(res)
		case now := <-ticker.C:
			r.tick(now)
		case <-h.shutdown:
			r.shutdown()
		}
	}
}

func (r *room) load() error {
	h := r.hub
	ctx := context.Background()
	st, err := h.store.Load(ctx, r.id)
	if errors.Is(err, storage.ErrNotFound) {
		if !r.create {
			return fmt.Errorf("%w: %q", ErrDocNotFound, r.id)
		}
		now := time.Now().UTC()
		err = h.store.CreateDoc(ctx, storage.DocMeta{ID: r.id, Title: r.id, Created: now, Updated: now})
		if err != nil && !errors.Is(err, storage.ErrExists) {
			return fmt.Errorf("sync: create document %q: %w", r.id, err)
		}
		if err == nil {
			h.log.Info("document created on first connect", "doc", r.id)
		}
		st, err = h.store.Load(ctx, r.id)
	}
	if err != nil {
		return fmt.Errorf("sync: load document %q: %w", r.id, err)
	}
	doc := crdt.NewDoc()
	if len(st.Snapshot) > 0 {
		if err := doc.ApplyUpdate(st.Snapshot); err != nil {
			return fmt.Errorf("%w: document %q: snapshot: %w", ErrCorrupt, r.id, err)
		}
	}
	for i, u := range st.Updates {
		if err := doc.ApplyUpdate(u); err != nil {
			return fmt.Errorf("%w: document %q: log entry %d of %d (last seq %d): %w",
				ErrCorrupt, r.id, i+1, len(st.Updates), st.LastSeq, err)
		}
		r.sinceBytes += int64(len(u))
	}
	r.doc = doc
	r.durableSeq = st.LastSeq
	r.snapshotSeq = st.SnapshotSeq
	now := time.Now()
	r.lastUpdate, r.lastActive = now, now
	h.log.Debug("room opened", "doc", r.id, "snapshot_bytes", len(st.Snapshot), "log_entries", len(st.Updates))
	return nil
}

func (r *room) handle(m *roomMsg) {
	switch m.kind {
	case rmJoin:
		r.join(m.s)
		m.reply <- nil
	case rmLeave:
		r.drop(m.s, ClientClosed, "")
	case rmInbound:
		r.inbound(m.s, m.in, m.arrived)
	case rmDo:
		r.do(m.fn, m.reply)
	case rmCloseAll:
		r.closeAll(m.reason)
		m.reply <- nil
	}
}

func (r *room) join(s *session) {
	r.sessions[s] = struct{}{}
	r.editors.Store(int32(len(r.sessions)))
	r.lastActive = time.Now()
	// Our state vector goes first, so the client pushes what we lack
	// (offline edits); its own step 1 gets our step 2 in reply.
	if !s.info.syncStatus { // Hocuspocus: in answer to each step 1 instead (hocuspocus_room.go)
		s.enqueue(&outMsg{data: encodeSyncStep1(r.doc.EncodeStateVector())})
	}
	if live := r.aware.live(); len(live) > 0 {
		s.enqueue(&outMsg{data: encodeAwareness(live)})
	}
}

// drop removes s from the room, ends it with reason (no-op if it already
// ended) and tells the others its awareness states are gone.
func (r *room) drop(s *session, reason CloseReason, detail string) {
	if _, ok := r.sessions[s]; !ok {
		return
	}
	delete(r.sessions, s)
	r.editors.Store(int32(len(r.sessions)))
	s.end(reason, detail, reason == ServerShutdown || reason == DocumentDeleted)
	r.lastActive = time.Now()
	if gone := r.aware.removeOwnedBy(s); len(gone) > 0 {
		r.broadcast(&outMsg{data: encodeAwareness(gone)})
	}
}

// emptyUpdate is a v1 update with no structs and no deletions; clients send
// it as their sync step 2 when they have nothing new.
var emptyUpdate = []byte{0, 0}

func (r *room) inbound(s *session, in inbound, arrived time.Time) {
	if _, ok := r.sessions[s]; !ok {
		return // already dropped
	}
	switch in.kind {
	case inUpdate:
		if s.info.ReadOnly || bytes.Equal(in.payload, emptyUpdate) {
			if s.info.ReadOnly {
				r.refuseReadOnly(s, in)
			}
			r.ackSyncStatus(s, in) // Hocuspocus sessions only; see hocuspocus_room.go
			return
		}
		if err := r.doc.ApplyUpdate(in.payload); err != nil {
			r.hub.log.Info("malformed update rejected", "doc", r.id, "session", s.id, "err", err)
			r.drop(s, MalformedMessage, "update: "+err.Error())
			return
		}
		r.recordUpdate(in.payload, arrived, nil)
		r.ackSyncStatus(s, in)
	case inSyncStep1:
		upd, err := r.doc.EncodeStateAsUpdate(in.payload)
		if err != nil {
			r.drop(s, MalformedMessage, "sync step 1: "+err.Error())
			return
		}
		r.answerStep1(s)
		r.hold(heldMsg{idx: r.applied, msg: &outMsg{data: encodeSyncStep2(upd), syncReply: true}, to: s})
	case inAwareness:
		changed := r.aware.apply(in.awareness, s, time.Now())
		if len(changed) > 0 {
			// Relayed to the sender too: y-websocket clients count it as
			// traffic and would otherwise reconnect every 30 s.
			r.broadcast(&outMsg{data: encodeAwareness(changed)})
		}
		if len(changed) < len(in.awareness) {
			if back := r.aware.removalsFor(in.awareness); len(back) > 0 {
				s.enqueue(&outMsg{data: encodeAwareness(back)})
			}
		}
	case inQueryAwareness:
		s.enqueue(&outMsg{data: encodeAwareness(r.aware.live())})
	}
}

// recordUpdate hands an applied update to the committer and holds its
// broadcast (and reply) until it is durable.
func (r *room) recordUpdate(update []byte, arrived time.Time, reply chan error) {
	r.applied++
	r.sinceBytes += int64(len(update))
	r.lastUpdate = time.Now()
	r.hub.committer.submit(r, pendingEntry{idx: r.applied, update: update})
	r.hold(heldMsg{idx: r.applied, msg: &outMsg{data: encodeUpdate(update)}, arrived: arrived, reply: reply})
}

// hold sends h once the updates up to h.idx are durable (at once if they are).
func (r *room) hold(h heldMsg) {
	if h.idx <= r.durable && len(r.held) == 0 {
		r.deliver(h)
		return
	}
	r.held = append(r.held, h)
}

func (r *room) release() {
	n := 0
	for n < len(r.held) && r.held[n].idx <= r.durable {
		r.deliver(r.held[n])
		r.held[n] = heldMsg{}
		n++
	}
	if n == len(r.held) {
		r.held = r.held[:0]
		if cap(r.held) > 1024 {
			r.held = nil
		}
	} else if n > 0 {
		r.held = append(r.held[:0], r.held[n:]...)
	}
}

func (r *room) deliver(h heldMsg) {
	if h.msg != nil {
		if h.to != nil {
			if _, ok := r.sessions[h.to]; ok && !h.to.enqueue(h.msg) {
				r.drop(h.to, SlowConsumer, "")
			}
		} else {
			age := time.Since(h.arrived)
			r.fanOut(h.msg, !h.arrived.IsZero() && age < inlineWriteMaxAge)
			if !h.arrived.IsZero() {
				r.hub.metrics.FannedOut(len(r.sessions), age)
			}
		}
	}
	if h.reply != nil {
		h.reply <- nil
		r.pendingDos--
	}
}

// inlineWriteMaxAge decides how an update is fanned out. Younger than
// this since it arrived, the server is keeping up: the room writes it to
// each idle client's socket itself, with no writer goroutine to start and
// schedule. Older, the server is behind: it is queued, and each client's
// writer sends its backlog in one write, which is what lets a saturated
// server catch up (measured at 12,000 connections: inline writes there
// doubled the p99).
const inlineWriteMaxAge = 5 * time.Millisecond

// broadcast queues the same bytes to every session; sessions past their
// queue limit are dropped (they were cut off as slow consumers).
func (r *room) broadcast(m *outMsg) { r.fanOut(m, false) }

// fanOut is broadcast, writing inline where it can if asked (see
// inlineWriteMaxAge).
func (r *room) fanOut(m *outMsg, inline bool) {
	var slow []*session
	for s := range r.sessions {
		if !s.send(m, inline) {
			slow = append(slow, s)
		}
	}
	for _, s := range slow {
		r.drop(s, SlowConsumer, "")
	}
}

func (r *room) do(fn func(doc *crdt.Doc) ([]byte, error), reply chan error) {
	r.lastActive = time.Now()
	update, err := r.runDo(fn)
	if err != nil {
		reply <- err
		return
	}
	r.pendingDos++
	if len(update) == 0 || bytes.Equal(update, emptyUpdate) {
		// A read: answer once what it saw is durable.
		r.hold(heldMsg{idx: r.applied, reply: reply})
		return
	}
	r.recordUpdate(update, time.Now(), reply)
}

func (r *room) runDo(fn func(doc *crdt.Doc) ([]byte, error)) (update []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sync: document %q: request panicked: %v", r.id, p)
		}
	}()
	return fn(r.doc)
}

func (r *room) onCommit() {
	r.cmu.Lock()
	idx, seq, err := r.commit.durableIdx, r.commit.durableSeq, r.commit.err
	r.cmu.Unlock()
	if err != nil {
		r.failStorage(err)
		return
	}
	if idx > r.durable {
		r.durable = idx
		r.durableSeq = seq
		r.release()
	}
	r.maybeCompact(time.Now(), false)
}

// failStorage drops the room after a failed commit. Its in-memory state is
// ahead of the disk, so it is discarded; nothing in it was acknowledged, and
// clients push their edits again when they reconnect.
func (r *room) failStorage(err error) {
	r.hub.log.Error("commit failed; closing room", "doc", r.id, "err", err)
	for _, h := range r.held {
		if h.reply != nil {
			h.reply <- fmt.Errorf("sync: document %q: commit failed: %w", r.id, err)
		}
	}
	r.held = nil
	reason := StorageFailed
	if errors.Is(err, ErrDocNotFound) {
		reason = DocumentDeleted
	}
	for s := range r.sessions {
		r.drop(s, reason, "")
	}
	r.stop(fmt.Errorf("sync: document %q: commit failed: %w", r.id, err))
}

func (r *room) tick(now time.Time) {
	cfg := &r.hub.cfg
	if gone := r.aware.expire(now, cfg.AwarenessTimeout); len(gone) > 0 {
		r.broadcast(&outMsg{data: encodeAwareness(gone)})
	}
	if len(r.sessions) > 0 {
		r.lastActive = now
		silentSince := now.Add(-cfg.PingInterval).UnixNano()
		for s := range r.sessions {
			if s.needsPing(silentSince) && s.pinging.CompareAndSwap(false, true) {
				go s.ping()
			}
		}
	}
	r.maybeCompact(now, false)
	if len(r.sessions) == 0 && r.pendingDos == 0 && now.Sub(r.lastActive) >= cfg.IdleTimeout &&
		r.durable == r.applied && !r.compacting && r.hub.tryRetire(r) {
		r.hub.log.Debug("room idle; unloading", "doc", r.id)
		r.drainInbox()
		r.finalCompact()
		r.stop(nil)
	}
}

// maybeCompact writes a snapshot when enough has accumulated since the last
// one, or the document has been quiet for CompactIdle. The snapshot may
// include updates not yet durable; it covers log entries up to durableSeq.
func (r *room) maybeCompact(now time.Time, force bool) {
	cfg := &r.hub.cfg
	logged := r.durableSeq - r.snapshotSeq // durable entries the snapshot does not cover
	if r.compacting || logged == 0 {
		return
	}
	due := force ||
		(cfg.CompactUpdates > 0 && logged >= uint64(cfg.CompactUpdates)) ||
		(cfg.CompactBytes > 0 && r.sinceBytes >= cfg.CompactBytes) ||
		(cfg.CompactIdle > 0 && now.Sub(r.lastUpdate) >= cfg.CompactIdle)
	if !due {
		return
	}
	snap, err := r.doc.EncodeStateAsUpdate(nil)
	if err != nil {
		r.hub.log.Error("snapshot encoding failed", "doc", r.id, "err", err)
		return
	}
	through := r.durableSeq
	r.compacting = true
	r.sinceBytes = 0
	go func() {
		r.compactDone <- compactResult{through, r.compactNow(snap, through)}
	}()
}

// compactResult reports a background compaction to its room.
type compactResult struct {
	through uint64 // storage seq the snapshot covers
	err     error
}

func (r *room) compactNow(snap []byte, through uint64) error {
	start := time.Now()
	err := r.hub.store.Compact(context.Background(), r.id, snap, through)
	if errors.Is(err, storage.ErrNotFound) {
		// Deleted while open: there is nothing left to snapshot, and that
		// is not a failure worth an error line or an error count.
		r.hub.log.Debug("compaction skipped: document deleted", "doc", r.id)
		return nil
	}
	r.hub.metrics.Compacted(time.Since(start), err)
	if err != nil {
		return fmt.Errorf("sync: compact document %q through seq %d: %w", r.id, through, err)
	}
	r.hub.log.Debug("room compacted", "doc", r.id, "through_seq", through, "snapshot_bytes", len(snap))
	return nil
}

func (r *room) onCompact(res compactResult) {
	r.compacting = false
	if res.err != nil {
		r.hub.log.Error("compaction failed", "doc", r.id, "err", res.err)
		return
	}
	if res.through > r.snapshotSeq {
		r.snapshotSeq = res.through
	}
}

// finalCompact snapshots synchronously before the room stops, when the log
// has entries past the snapshot and everything applied is durable.
func (r *room) finalCompact() {
	if r.compacting {
		r.onCompact(<-r.compactDone)
	}
	if r.durable != r.applied || r.durableSeq <= r.snapshotSeq {
		return
	}
	snap, err := r.doc.EncodeStateAsUpdate(nil)
	if err == nil {
		err = r.compactNow(snap, r.durableSeq)
	}
	if err != nil {
		r.hub.log.Error("final compaction failed", "doc", r.id, "err", err)
		return
	}
	r.snapshotSeq = r.durableSeq
	r.sinceBytes = 0
}

// drainInbox handles what was posted before the room retired (leaves).
func (r *room) drainInbox() {
	for {
		select {
		case m := <-r.inbox:
			switch m.kind {
			case rmLeave:
				r.drop(m.s, ClientClosed, "")
			case rmJoin, rmDo, rmCloseAll:
				m.reply <- ErrRoomClosed
			}
		default:
			return
		}
	}
}

// closeAll ends every session with reason and stops the room without
// writing anything more (the document is gone).
func (r *room) closeAll(reason CloseReason) {
	for s := range r.sessions {
		r.drop(s, reason, "")
	}
	for _, h := range r.held {
		if h.reply != nil {
			h.reply <- fmt.Errorf("%w: %q (%s)", ErrRoomClosed, r.id, reason)
		}
	}
	r.held = nil
	r.hub.forceRetire(r)
	r.drainInbox()
	if r.compacting {
		<-r.compactDone
	}
	r.stop(fmt.Errorf("%w: %q (%s)", ErrRoomClosed, r.id, reason))
}

// shutdown is the room's part of a graceful stop: stop taking edits, wait
// until everything applied is durable, send what is held, close every
// session with 1012 after its queue drains, snapshot, stop.
func (r *room) shutdown() {
	r.hub.forceRetire(r)
	for r.durable < r.applied && !r.stopped {
		select {
		case <-r.notify:
			r.onCommit()
		case m := <-r.inbox:
			r.handleWhileStopping(m)
		}
	}
	if r.stopped {
		return
	}
	for s := range r.sessions {
		r.drop(s, ServerShutdown, "")
	}
	r.drainInbox()
	r.finalCompact()
	r.stop(nil)
}

func (r *room) handleWhileStopping(m *roomMsg) {
	switch m.kind {
	case rmLeave:
		r.drop(m.s, ClientClosed, "")
	case rmJoin, rmDo, rmCloseAll:
		m.reply <- ErrShuttingDown
	case rmInbound:
		// Not applied: the client still has it and pushes it again after
		// reconnecting (its sync step 2 answers our state vector).
	}
}

// stop ends the room goroutine: removes it from the hub and wakes waiters.
func (r *room) stop(err error) {
	if r.stopped {
		return
	}
	r.stopped = true
	r.err = err
	r.hub.removeRoom(r)
	close(r.done)
}
