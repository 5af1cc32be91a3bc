package main

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quire/quire/crdt"
)

// docRun is one document under test and its simulated editors.
type docRun struct {
	name        string
	firstClient uint64 // editors have client ids firstClient … firstClient+len(editors)-1
	editors     []*editor
	url         *url.URL
}

// editor is one simulated Yjs client: a connection, its Yjs client id and
// the clock of its next character. It holds no document.
type editor struct {
	r        *runner
	doc      *docRun
	peer     int // index in doc.editors
	clientID uint64
	conn     *wsConn

	synced atomic.Bool
	dead   atomic.Bool // connection failed or closed by the server

	// Owned by the scheduler shard that drives this editor.
	clock, seq uint64

	// Published by the scheduler for the final check.
	sentN     atomic.Uint64 // edits fully written
	echoed    atomic.Uint64 // of those, echoed back by the server
	received  atomic.Uint64 // edits of the other editors observed
	applied   atomic.Int64  // this editor's edits in the final state; -1 until checked
	uncertain atomic.Bool   // edit number sentN failed mid-write: the server may or may not have it

	// Owned by the reading goroutine: the next sequence number expected from
	// each editor of the doc (the sender included: its echo).
	nextSeq []uint64
}

// connect opens the editor's socket, sends the protocol's opening messages
// and starts its reading goroutine.
func (e *editor) connect(ctx context.Context) error {
	r := e.r
	cctx, cancel := context.WithTimeout(ctx, r.cfg.connectTimeout)
	defer cancel()
	conn, err := dialWebSocket(cctx, e.doc.url, r.cfg.readBuffer, r.cfg.readLimit, r.cfg.writeTimeout)
	if err != nil {
		return err
	}
	for _, m := range r.proto.hello(e.doc.name) {
		if err := conn.WriteBinary(m); err != nil {
			conn.nc.Close()
			return fmt.Errorf("send opening message: %w", err)
		}
	}
	e.conn = conn
	e.nextSeq = make([]uint64, len(e.doc.editors))
	r.readers.Add(1)
	go e.readLoop()
	return nil
}

func (e *editor) readLoop() {
	r := e.r
	defer r.readers.Done()
	for {
		msg, err := e.conn.ReadMessage()
		if err != nil {
			// Connections the tool closes itself stay "live" for the report.
			if !r.closing.Load() {
				e.dead.Store(true)
				r.disconnects.Add(1)
				r.noteError("connection lost: "+lossKind(err), err)
			}
			return
		}
		in, err := r.proto.parse(e.doc.name, msg)
		if err != nil {
			r.protocolErrors.Add(1)
			r.noteError("bad server message", err)
			continue
		}
		if in.reply != nil {
			if err := e.conn.WriteBinary(in.reply); err != nil {
				r.noteError("send reply", err)
			}
		}
		switch in.kind {
		case msgSyncDone:
			if e.synced.CompareAndSwap(false, true) {
				r.synced.Add(1)
			}
		case msgUpdate:
			e.observe(in.update)
		case msgDenied:
			r.noteError("access denied", fmt.Errorf("%s", in.text))
		}
	}
}

// observe finds the tokens in a live update and records their latency.
func (e *editor) observe(update []byte) {
	r := e.r
	now := uint64(time.Since(r.epoch).Microseconds())
	err := crdt.ScanStrings(update, func(s []byte) {
		if err := parseTokens(s, func(t token) { e.observeToken(t, now) }); err != nil {
			r.malformed.Add(1)
			r.noteError("unexpected text in update", fmt.Errorf("%w: %q", err, truncate(s, 60)))
		}
	})
	if err != nil {
		r.malformed.Add(1)
		r.noteError("unreadable update", err)
	}
}

func (e *editor) observeToken(t token, nowMicros uint64) {
	r := e.r
	peer := t.client - e.doc.firstClient
	if t.client < e.doc.firstClient || peer >= uint64(len(e.nextSeq)) {
		r.foreign.Add(1)
		return
	}
	want := e.nextSeq[peer]
	if t.seq < want {
		r.duplicates.Add(1)
		return
	}
	if t.seq > want {
		r.gaps.Add(t.seq - want)
	}
	e.nextSeq[peer] = t.seq + 1
	lat := time.Duration(0)
	if nowMicros > t.micros {
		lat = time.Duration(nowMicros-t.micros) * time.Microsecond
	}
	if int(peer) == e.peer {
		r.echoes.Add(1)
		e.echoed.Add(1)
		r.echoLatency.record(lat)
	} else {
		r.delivered.Add(1)
		e.received.Add(1)
		r.latency.record(lat)
	}
}

// shard drives the edits of a set of editors from one goroutine: a heap of
// next-edit times instead of a timer per editor.
type shard struct {
	r       *runner
	rng     *rand.Rand
	queue   editQueue
	enc     crdt.Encoder
	msg     []byte
	tokBuf  []byte
	editors []*editor
}

type scheduledEdit struct {
	at time.Duration // since the run's epoch
	e  *editor
}

type editQueue []scheduledEdit

func (q editQueue) Len() int           { return len(q) }
func (q editQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q editQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *editQueue) Push(x any)        { *q = append(*q, x.(scheduledEdit)) }
func (q *editQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// interval draws the gap to an editor's next edit: exponential, so each
// editor's edits form a Poisson process at the configured rate.
func (s *shard) interval() time.Duration {
	return time.Duration(s.rng.ExpFloat64() / s.r.cfg.rate * float64(time.Second))
}

// run sends edits until stop (a time since the epoch). Edits are scheduled
// open-loop: a late edit is sent as soon as possible and its lateness is
// recorded, so a slow tool shows up in the schedule-lag figures.
func (s *shard) run(stop time.Duration) {
	now := time.Since(s.r.epoch)
	for _, e := range s.editors {
		s.queue = append(s.queue, scheduledEdit{at: now + s.interval(), e: e})
	}
	heap.Init(&s.queue)
	for len(s.queue) > 0 {
		next := s.queue[0].at
		if next >= stop {
			return
		}
		now = time.Since(s.r.epoch)
		if next > now {
			time.Sleep(next - now)
			continue
		}
		item := s.queue[0]
		s.r.scheduleLag.record(now - item.at)
		if s.send(item.e) {
			s.queue[0].at = item.at + s.interval()
			heap.Fix(&s.queue, 0)
		} else {
			heap.Pop(&s.queue)
		}
	}
}

// send writes one edit of e; false means the editor cannot edit any more.
func (s *shard) send(e *editor) bool {
	if e.dead.Load() {
		return false
	}
	r := s.r
	t := token{client: e.clientID, seq: e.seq, micros: uint64(time.Since(r.epoch).Microseconds())}
	s.tokBuf = appendToken(s.tokBuf[:0], t)
	s.enc.Reset()
	appendAppendUpdate(&s.enc, e.clientID, e.clock, s.tokBuf)
	s.msg = r.proto.appendUpdate(s.msg[:0], e.doc.name, s.enc.Bytes())
	if err := e.conn.WriteBinary(s.msg); err != nil {
		e.uncertain.Store(true)
		e.dead.Store(true)
		r.writeErrors.Add(1)
		r.noteError("send edit", err)
		return false
	}
	e.clock += uint64(len(s.tokBuf))
	e.seq++
	e.sentN.Store(e.seq)
	r.sent.Add(1)
	return true
}

// lossKind names how a connection ended, to count each way apart: the
// server's close code, or the transport error.
func lossKind(err error) string {
	var ce *CloseError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("close code %d", ce.Code)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed without a close frame"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	default:
		return "other error"
	}
}

// truncate shortens b for error messages.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// errorLog keeps a count per kind of error and the first message of each.
type errorLog struct {
	mu    gosync.Mutex
	kinds map[string]*errorKind
	order []string
}

type errorKind struct {
	count int
	first string
}

func (l *errorLog) note(kind string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kinds == nil {
		l.kinds = map[string]*errorKind{}
	}
	k, ok := l.kinds[kind]
	if !ok {
		k = &errorKind{first: err.Error()}
		l.kinds[kind] = k
		l.order = append(l.order, kind)
		slog.Warn(kind, "err", err)
	}
	k.count++
}

func (l *errorLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.order))
	for _, kind := range l.order {
		k := l.kinds[kind]
		out = append(out, fmt.Sprintf("%s ×%d (first: %s)", kind, k.count, k.first))
	}
	return out
}
