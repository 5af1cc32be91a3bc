package sync

import (
	"context"
	"errors"
	"io"
	"log/slog"
	gosync "sync"
	"testing"
	"time"
)

// pipeConn is an in-memory Conn whose writes block until the test lets
// them through, standing in for a client that reads slowly.
type pipeConn struct {
	mu      gosync.Mutex
	written [][]byte
	gate    chan struct{} // one token per write allowed
	closed  chan struct{}
	code    int
	once    gosync.Once
}

func newPipeConn() *pipeConn {
	return &pipeConn{gate: make(chan struct{}, 1024), closed: make(chan struct{})}
}

func (p *pipeConn) Read(ctx context.Context) ([]byte, error) {
	<-p.closed
	return nil, ErrPeerClosed
}

func (p *pipeConn) Write(ctx context.Context, msg []byte) error {
	select {
	case <-p.gate:
	case <-p.closed:
		return errors.New("closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	p.written = append(p.written, msg)
	p.mu.Unlock()
	return nil
}

func (p *pipeConn) Ping(ctx context.Context) error { return nil }

func (p *pipeConn) Close(code int, reason string) error {
	p.mu.Lock()
	p.code = code
	p.mu.Unlock()
	return p.CloseNow()
}

func (p *pipeConn) CloseNow() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *pipeConn) closeCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

func testHub(queueBytes int) *Hub {
	cfg := DefaultConfig
	cfg.SessionQueueBytes = queueBytes
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.fill()
	return &Hub{cfg: cfg, log: cfg.Logger, metrics: nopMetrics{}}
}

func msg(n int) *outMsg { return &outMsg{data: make([]byte, n)} }

func TestQueueLimitLetsOneBigMessageThrough(t *testing.T) {
	h := testHub(1000)
	c := newPipeConn()
	s := newSession(h, c, SessionInfo{})
	// A first sync far bigger than the limit, then the usual small
	// messages behind it: none of this is a slow consumer.
	if !s.enqueue(msg(5000)) {
		t.Fatal("big message refused")
	}
	waitInFlight(t, s)
	for i := range 9 {
		if !s.enqueue(msg(100)) {
			t.Fatalf("small message %d refused behind the big one", i)
		}
	}
	// Past the limit behind the head, the session is cut off.
	if s.enqueue(msg(300)) { // over the limit whether or not the big one is already on the wire
		t.Fatal("queue grew past its limit")
	}
	if r, _ := s.endReason(); r != SlowConsumer {
		t.Fatalf("reason %v, want slow consumer", r)
	}
	// The close frame goes out after the frame in flight, from the writer
	// (not racing it for the socket): once the client reads that frame.
	select {
	case <-s.connClosed:
		t.Fatal("closed while the writer still had a frame in flight")
	case <-time.After(50 * time.Millisecond):
	}
	c.gate <- struct{}{}
	select {
	case <-s.connClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed")
	}
	if c.closeCode() != 4500 {
		t.Errorf("close code %d, want 4500", c.closeCode())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.written) != 1 {
		t.Errorf("%d frames written after the cut-off, want only the one in flight", len(c.written))
	}
}

// A newcomer's first sync reply may dwarf the limit and sit behind smaller
// messages (its sync step 1, updates typed meanwhile) without cutting the
// session off; a second oversized reply while the first waits does count.
func TestQueueLimitExemptsOneSyncReply(t *testing.T) {
	h := testHub(1000)
	c := newPipeConn()
	s := newSession(h, c, SessionInfo{})
	if !s.enqueue(msg(50)) { // the server's sync step 1, at the head
		t.Fatal("step 1 refused")
	}
	reply := &outMsg{data: make([]byte, 5000), syncReply: true}
	if !s.enqueue(reply) {
		t.Fatal("a sync reply larger than the limit cut the newcomer off")
	}
	for i := range 9 {
		if !s.enqueue(msg(100)) {
			t.Fatalf("update %d refused behind the sync reply", i)
		}
	}
	if s.enqueue(&outMsg{data: make([]byte, 5000), syncReply: true}) {
		t.Fatal("a second oversized sync reply was let past the limit")
	}
	if r, _ := s.endReason(); r != SlowConsumer {
		t.Fatalf("reason %v, want slow consumer", r)
	}
}

func TestDrainingEndSendsQueueThenCloses(t *testing.T) {
	h := testHub(1 << 20)
	c := newPipeConn()
	s := newSession(h, c, SessionInfo{})
	for range 3 {
		s.enqueue(msg(10))
	}
	s.end(ServerShutdown, "", true)
	if s.enqueue(msg(10)) {
		t.Error("enqueue accepted after end")
	}
	for range 3 {
		c.gate <- struct{}{}
	}
	select {
	case <-s.connClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("not closed after draining")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.written) != 3 || c.code != 1012 {
		t.Errorf("wrote %d messages, closed with %d; want 3 then 1012", len(c.written), c.code)
	}
}

// waitInFlight waits until s's writer has taken the head of its queue.
func waitInFlight(t *testing.T, s *session) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.queue)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer never took the first message")
		}
		time.Sleep(time.Millisecond)
	}
}

// tryConn's TryWrite blocks until released, then fails (a peer reset).
type tryConn struct {
	*pipeConn
	entered chan struct{}
	release chan struct{}
}

func (c *tryConn) TryWrite(msg []byte) (bool, bool, error) {
	close(c.entered)
	<-c.release
	return false, false, errors.New("write: connection reset by peer")
}

// A session that ends (its reader saw the peer go) while the room's inline
// write is on the socket, which then fails, must still close: the end left
// the close to the writer, and the writer was that inline write.
func TestInlineWriteErrorAfterConcurrentEndCloses(t *testing.T) {
	h := testHub(1 << 20)
	c := &tryConn{pipeConn: newPipeConn(), entered: make(chan struct{}), release: make(chan struct{})}
	s := newSession(h, c, SessionInfo{})
	done := make(chan struct{})
	go func() { s.send(msg(10), true); close(done) }() // the room
	<-c.entered
	s.end(ClientClosed, "", false) // the reader, meanwhile
	close(c.release)
	<-done
	select {
	case <-s.connClosed:
	case <-time.After(stuckWriteGrace + 2*time.Second):
		s.mu.Lock()
		t.Fatalf("connection never closed: writing=%v ended=%v", s.writing, s.ended)
	}
}

// keepConn accepts every inline write only in part (the rest kept), so the
// writer must follow with a WriteAll that has nothing queued to add.
type keepConn struct {
	*pipeConn
	flushes chan int
}

func (c *keepConn) TryWrite(msg []byte) (bool, bool, error) { return true, true, nil }

func (c *keepConn) WriteAll(deadline time.Time, msgs [][]byte) error {
	c.flushes <- len(msgs)
	return nil
}

func TestInlineWriteKeptBytesAreFlushedWithEmptyQueue(t *testing.T) {
	c := &keepConn{pipeConn: newPipeConn(), flushes: make(chan int, 1)}
	s := newSession(testHub(1<<20), c, SessionInfo{})
	if !s.send(msg(10), true) {
		t.Fatal("refused")
	}
	select {
	case n := <-c.flushes:
		if n != 0 {
			t.Fatalf("flush carried %d messages, want 0 (the message was accepted inline)", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the kept bytes were never flushed")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		idle := !s.writing && !s.unflushed
		s.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer did not go idle after the flush")
		}
		time.Sleep(time.Millisecond)
	}
}
