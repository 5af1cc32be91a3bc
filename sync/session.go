package sync

import (
	"context"
	gosync "sync"
	"sync/atomic"
	"time"
)

// outMsg is one encoded message. The same outMsg (same bytes) is queued to
// every session it goes to: a broadcast is encoded once.
type outMsg struct {
	data []byte
	// syncReply marks a sync step 2 addressed to one session: it carries the
	// whole missing state, so it may be larger than the queue limit.
	syncReply bool
}

// session is one connected client of one room.
//
// Idle cost is kept small on purpose (thousands of idle clients): no buffers
// are allocated until something is queued, and the writer goroutine exists
// only while the queue is non-empty. The only permanent goroutine per client
// is the one blocked in Conn.Read (Hub.Serve's caller).
type session struct {
	id      uint64
	conn    Conn
	hub     *Hub
	info    SessionInfo
	started time.Time
	// lastRead: unix nanos of the last time the reader read a message or
	// came back from handing one to the room. posting: the reader is
	// blocked on the room's full inbox, so it reads nothing (pongs
	// included) until the room catches up; the client is busy, not dead.
	lastRead atomic.Int64
	posting  atomic.Bool

	// Owned by the room goroutine.
	awarenessIDs []uint64  // awareness client ids whose state this session sent
	deniedAt     time.Time // last permission-denied notice to a read-only session

	pinging atomic.Bool // a keepalive ping is in flight

	mu          gosync.Mutex // guards the fields below
	queue       []*outMsg
	queue1      [1]*outMsg // queue's backing array while it holds one message (the usual case): no allocation per message
	batch1      [1][]byte  // likewise for the writer's batch; used by the writer goroutine only
	queuedBytes int
	exempt      *outMsg // the one queued sync reply not counted against the limit (queued: until written)
	writing     bool    // the writer goroutine (or a tryWrite) has the connection
	unflushed   bool    // the transport keeps part of an accepted message (TryWriter)
	ended       bool    // a close reason is set; nothing more is queued
	drain       bool    // the writer sends what is queued, then closes
	reason      CloseReason
	detail      string

	closeOnce  gosync.Once
	connClosed chan struct{} // closed once the connection is closed
}

// SessionInfo describes a client for logs and permissions.
type SessionInfo struct {
	RemoteAddr string
	// ReadOnly sessions receive the document and awareness but their
	// updates are not applied (viewer share tokens).
	ReadOnly bool

	// syncStatus: the client is a Hocuspocus provider, which wants one
	// SyncStatus message per update it sends (hocuspocus_room.go).
	syncStatus bool
}

func newSession(h *Hub, conn Conn, info SessionInfo) *session {
	s := &session{
		id:         h.nextSessionID.Add(1),
		conn:       conn,
		hub:        h,
		info:       info,
		started:    time.Now(),
		connClosed: make(chan struct{}),
	}
	s.lastRead.Store(s.started.UnixNano())
	s.queue = s.queue1[:0]
	return s
}

// enqueue queues m for sending and reports whether it was accepted. Past the
// byte limit the session is cut off (SlowConsumer) in the background: the
// caller, usually the room, never blocks on a client.
func (s *session) enqueue(m *outMsg) bool { return s.send(m, false) }

// send is enqueue; with inline, a message for an idle connection is put
// on its socket by the caller if the socket takes it without waiting
// (TryWriter), so no writer goroutine starts for it.
func (s *session) send(m *outMsg, inline bool) bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	limit := s.hub.cfg.SessionQueueBytes
	// Two messages do not count against the limit: the head of the queue
	// (it is next on the wire, so one broadcast larger than the limit still
	// goes through) and one sync reply (a newcomer's first sync carries the
	// whole document, which may dwarf the limit while others keep typing).
	// Only one reply is exempt at a time, so a client that keeps asking for
	// the state without reading still meets the limit.
	counted := s.queuedBytes
	if s.exempt != nil {
		counted -= len(s.exempt.data)
	}
	if len(s.queue) > 0 && s.queue[0] != s.exempt {
		counted -= len(s.queue[0].data)
	}
	if m.syncReply && s.exempt == nil {
		s.exempt = m
	} else if len(s.queue) > 0 && counted+len(m.data) > limit { // into an empty queue m is the head
		dropped, droppedBytes := len(s.queue)+1, s.queuedBytes+len(m.data)
		queued := s.queuedBytes
		s.mu.Unlock()
		s.hub.metrics.QueueDropped(dropped, droppedBytes)
		s.hub.log.Warn("slow consumer detected", "session", s.id, "queued_bytes", queued,
			"limit_bytes", limit, "remote", s.info.RemoteAddr)
		s.end(SlowConsumer, "", false)
		return false
	}
	if inline && !m.syncReply && !s.writing && len(s.queue) == 0 { // a reply may be exempt: it goes through the queue
		if tw, ok := s.conn.(TryWriter); ok {
			s.tryWrite(tw, m) // unlocks s.mu
			return true
		}
	}
	s.queue = append(s.queue, m)
	s.queuedBytes += len(m.data)
	if !s.writing {
		s.writing = true
		go s.writeLoop()
	}
	s.mu.Unlock()
	return true
}

// tryWrite sends m on an idle connection from the caller's goroutine.
// Called with s.mu held, which it releases; while writing is set the
// connection is the caller's. Whatever is left to do (the part of m the
// socket did not take, m itself, or the close of a session that ended
// meanwhile) goes to the writer goroutine.
func (s *session) tryWrite(tw TryWriter, m *outMsg) {
	s.writing = true
	s.mu.Unlock()
	accepted, flush, err := tw.TryWrite(m.data)
	if err != nil {
		s.mu.Lock()
		s.writing = false
		s.mu.Unlock()
		if !s.end(WriteFailed, err.Error(), false) {
			// It had ended meanwhile, leaving the close to the writer
			// it saw (this call): close it here, off the room's goroutine.
			go s.closeConn()
		}
		return
	}
	if accepted {
		s.hub.metrics.MessageSent(len(m.data))
	}
	s.mu.Lock()
	if !accepted {
		s.queue = append(s.queue, m)
		s.queuedBytes += len(m.data)
	}
	s.unflushed = flush
	if accepted && !flush && !s.ended {
		s.writing = false
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	go s.writeLoop()
}

// TryWriter is an optional fast path of a Conn: TryWrite sends msg only if
// it can without waiting. accepted: msg is the transport's now (on the
// wire, or partly and the rest is kept to go first); flush: bytes are
// kept, so a WriteAll must follow. Not accepted: nothing was sent.
type TryWriter interface {
	TryWrite(msg []byte) (accepted, flush bool, err error)
}

// end records why the session ends (the first reason wins) and closes the
// connection with the reason's code, in the background. With drain, what is
// already queued is sent first. It reports whether this call set the reason.
func (s *session) end(r CloseReason, detail string, drain bool) bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.ended = true
	s.reason = r
	s.detail = detail
	if drain && s.writing {
		s.drain = true // the writer closes once the queue is empty
		s.mu.Unlock()
		return true
	}
	s.queue = nil
	s.queuedBytes = 0
	s.exempt = nil
	writing := s.writing
	s.mu.Unlock()
	if writing {
		// The writer closes once its frame in flight is out: the close
		// frame must not race a data frame for the socket (coder/websocket
		// serialises them on one lock, and a close waiting behind a slow
		// write would be cut off before it is sent).
		go s.cutIfStuck()
	} else {
		go s.closeConn()
	}
	return true
}

// cutIfStuck cuts the connection when the writer's frame in flight has not
// gone out within stuckWriteGrace of the session's end: a client that
// reads nothing cannot get a close frame anyway.
func (s *session) cutIfStuck() {
	t := time.NewTimer(stuckWriteGrace)
	defer t.Stop()
	select {
	case <-s.connClosed:
	case <-t.C:
		s.mu.Lock()
		stuck := s.writing
		s.mu.Unlock()
		if stuck {
			_ = s.conn.CloseNow()
		}
	}
}

func (s *session) endReason() (CloseReason, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason, s.detail
}

// slowConsumerCloseGrace bounds the close handshake of a slow consumer;
// stuckWriteGrace bounds the wait for a frame in flight when a session
// ends, before its close frame can go.
const (
	slowConsumerCloseGrace = 5 * time.Second
	stuckWriteGrace        = 5 * time.Second
)

// closeConn closes the connection once, with the recorded reason's code.
func (s *session) closeConn() {
	s.closeOnce.Do(func() {
		r, detail := s.endReason()
		// For MessageTooBig the transport has sent the close frame already;
		// Close then only waits for the peer's, reading off the rest of the
		// oversized message, so that closing does not reset the socket
		// under a client still sending (which would hide the 1009 from it).
		if code := r.Code(); code != 0 {
			// A clean close waits for the peer's close frame; a peer that
			// is stuck or gone gets CloseGrace, then the socket is cut.
			done := make(chan struct{})
			go func() {
				_ = s.conn.Close(code, closeText(r, detail))
				close(done)
			}()
			grace := s.hub.cfg.CloseGrace
			if r == SlowConsumer {
				// Its socket is full by definition: give the close frame
				// the time coder/websocket gives a control frame to get
				// out, so that the client learns to resync (4500) rather
				// than seeing the connection drop (1006).
				grace = max(grace, slowConsumerCloseGrace)
			}
			t := time.NewTimer(grace)
			select {
			case <-done:
			case <-t.C:
				_ = s.conn.CloseNow()
				<-done
			}
			t.Stop()
		} else {
			// The peer closed or is gone.
			_ = s.conn.CloseNow()
		}
		close(s.connClosed)
	})
}

// writeLoop is the session's only writer of data and close frames; it
// runs while the queue is non-empty and closes the connection itself when
// the session has ended. Each round sends everything queued (up to
// maxBatchBytes) together: a client that fell behind catches up in a few
// syscalls instead of one per message.
func (s *session) writeLoop() {
	batch := s.batch1[:0]
	for {
		s.mu.Lock()
		if s.ended && !s.drain {
			s.writing = false
			s.queue = nil
			s.mu.Unlock()
			s.closeConn()
			return
		}
		if len(s.queue) == 0 && !s.unflushed {
			s.writing = false
			drain := s.drain
			s.queue = s.queue1[:0] // release a grown backing array while idle
			s.mu.Unlock()
			if drain {
				s.closeConn()
			}
			return
		}
		// The batch's first message leaves the queue now, the others once
		// they are written: until then they count against the limit as
		// they did while queued, so batching loosens no bound.
		n, size := 0, 0
		for n < len(s.queue) && (n == 0 || size+len(s.queue[n].data) <= maxBatchBytes) {
			batch = append(batch, s.queue[n].data)
			size += len(s.queue[n].data)
			n++
		}
		if n > 0 { // none when only the transport's kept bytes are left
			s.dequeue(1)
		}
		s.unflushed = false // WriteAll sends what the transport kept first
		s.mu.Unlock()

		err := s.write(batch)
		if err != nil {
			s.end(WriteFailed, err.Error(), false) // no-op if already ending
			s.mu.Lock()
			s.writing = false
			s.queue = nil
			s.mu.Unlock()
			s.closeConn()
			return
		}
		if n > 1 {
			s.mu.Lock()
			if !s.ended || s.drain { // else end dropped the queue
				s.dequeue(n - 1)
			}
			s.mu.Unlock()
		}
		for i, m := range batch {
			s.hub.metrics.MessageSent(len(m))
			batch[i] = nil
		}
		batch = batch[:0]
	}
}

// dequeue removes the first n queued messages. Called with s.mu held.
func (s *session) dequeue(n int) {
	for i, m := range s.queue[:n] {
		s.queuedBytes -= len(m.data)
		if m == s.exempt {
			s.exempt = nil
		}
		s.queue[i] = nil
	}
	s.queue = s.queue[n:]
}

// maxBatchBytes bounds one batch of queued messages written together
// (a single bigger message still goes alone).
const maxBatchBytes = 64 << 10

// BatchWriter is an optional fast path of a Conn: WriteAll sends msgs in
// order, as few syscalls as it can, failing if they are not on the wire by
// deadline. The session writer uses it when the transport has it: a
// deadline on the socket costs no context, timer and callback per message,
// and a backlog goes out in one write.
type BatchWriter interface {
	WriteAll(deadline time.Time, msgs [][]byte) error
}

// write sends msgs within WriteTimeout.
func (s *session) write(msgs [][]byte) error {
	return writeAll(s.conn, time.Now().Add(s.hub.cfg.WriteTimeout), msgs)
}

// writeAll sends msgs on c by deadline, in one write where c can.
func writeAll(c Conn, deadline time.Time, msgs [][]byte) error {
	if bw, ok := c.(BatchWriter); ok {
		return bw.WriteAll(deadline, msgs)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, m := range msgs {
		if err := c.Write(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// needsPing reports whether s looks silent: nothing read for PingInterval,
// its reader not blocked on our own inbox, and no write in progress (a
// write to a dead peer fails by itself, with WriteTimeout; a ping would
// only queue behind it for the socket).
func (s *session) needsPing(silentSince int64) bool {
	if s.lastRead.Load() >= silentSince || s.posting.Load() {
		return false
	}
	s.mu.Lock()
	busy := s.writing || s.ended
	s.mu.Unlock()
	return !busy
}

// ping probes a client that has been silent; run in its own short-lived
// goroutine by the room's keepalive tick.
func (s *session) ping() {
	defer s.pinging.Store(false)
	asked := time.Now().UnixNano()
	ctx, cancel := context.WithTimeout(context.Background(), s.hub.cfg.PongTimeout)
	err := s.conn.Ping(ctx)
	cancel()
	if err == nil {
		s.lastRead.Store(time.Now().UnixNano())
		return
	}
	// The pong is only read by the session's reader. If the reader was
	// busy handing the client's messages to the room meanwhile (it still
	// is, or came back after we asked), the pong may be sitting unread
	// behind them: the client is alive. Likewise if our own writer took
	// the socket: its write fails on a dead peer by itself.
	if s.posting.Load() || s.lastRead.Load() > asked {
		return
	}
	s.mu.Lock()
	writing := s.writing
	s.mu.Unlock()
	if writing {
		return
	}
	s.end(PingTimeout, "", false)
}
