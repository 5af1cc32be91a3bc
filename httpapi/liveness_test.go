package httpapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quire/quire/crdt"
	qsync "github.com/quire/quire/sync"
)

// A client that keeps sending while its room is backlogged is busy, not
// dead: its reader is blocked handing messages to the room's full inbox,
// so the pongs it sends go unread meanwhile. It must not be dropped for a
// ping timeout.
func TestBusyClientOfBackloggedRoomIsNotPingedOff(t *testing.T) {
	hc := fastHubConfig()
	hc.InboxSize = 2
	hc.PingInterval = 30 * time.Millisecond
	hc.PongTimeout = 200 * time.Millisecond
	e := newEnv(t, envOptions{hub: hc})
	busy := e.dial("busy", "doc", dialOptions{})
	busy.waitSynced()

	// The room is kept busy while the client keeps talking for many pong
	// timeouts.
	stopLoad := keepRoomBusy(e, "doc")
	stop := time.Now().Add(2 * time.Second)
	for i := uint64(1); time.Now().Before(stop); i++ {
		busy.send(awarenessFrame(awEntry{clientID: 7, clock: i, state: `{"typing":true}`}))
		time.Sleep(10 * time.Millisecond)
	}
	stopLoad()
	busy.barrier() // the room caught up with everything it sent
	if n := e.sessionEnds(qsync.PingTimeout); n != 0 {
		t.Fatalf("%v sessions ended with ping_timeout", n)
	}
	select {
	case <-busy.done:
		t.Fatalf("busy client dropped: %v", busy.closeErr)
	default:
	}
}

// A slow consumer is cut off with a 4500 close frame, not a dropped
// socket, as soon as it reads again: the close waits for the data frame in
// flight instead of racing it for the socket, so the provider knows to
// reconnect and resync.
func TestSlowConsumerGetsCloseFrame4500(t *testing.T) {
	hc := fastHubConfig()
	hc.SessionQueueBytes = 256 << 10
	hc.WriteTimeout = 30 * time.Second // the queue limit must be what cuts it off
	e := newEnv(t, envOptions{hub: hc})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	// Default socket buffers: a tiny SO_RCVBUF stalls loopback TCP for
	// seconds after the reader resumes (zero-window probe back-off).
	slow := e.dial("slow", "doc", dialOptions{noRead: true})
	chunk := strings.Repeat("z", 8<<10)
	for i := 0; i < 3000 && testutil.ToFloat64(e.metrics.droppedMsgs) == 0; i++ {
		a.edit(insert(chunk))
		if i%10 == 9 {
			a.waitEchoes(i + 1)
		}
	}
	if testutil.ToFloat64(e.metrics.droppedMsgs) == 0 {
		t.Fatal("the slow client's queue never overflowed")
	}
	// The client reads again, later than the server's usual close grace:
	// everything up to the cut-off, then the close.
	time.Sleep(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = slow.c.Read(ctx)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("slow consumer's connection ended without a close frame: %v", err)
	}
	if ce.Code != 4500 || !strings.Contains(ce.Reason, "slow consumer") {
		t.Fatalf("close %d %q, want 4500 slow consumer", ce.Code, ce.Reason)
	}
	checkFor(t, 10*time.Second, func() error {
		if n := e.sessionEnds(qsync.SlowConsumer); n != 1 {
			return fmt.Errorf("slow consumer ends: %v", n)
		}
		return nil
	})
}

// The same rule on a Hocuspocus socket: while its reader waits for a busy
// document to take its messages it reads nothing (Pongs included), and the
// socket must not be closed as idle.
func TestBusyHocuspocusSocketIsNotClosedAsIdle(t *testing.T) {
	hc := fastHubConfig()
	hc.InboxSize = 2
	e := newEnv(t, envOptions{hub: hc, http: Config{Hocuspocus: qsync.HocuspocusConfig{
		PingAfter: 40 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}}})
	busy := e.dialHP()
	busy.attach("doc", "")
	stopLoad := keepRoomBusy(e, "doc")
	stop := time.Now().Add(2 * time.Second)
	for i := uint64(1); time.Now().Before(stop); i++ {
		var enc crdt.Encoder
		enc.WriteVarString("doc")
		enc.WriteBytes(awarenessFrame(awEntry{clientID: 7, clock: i, state: `{"typing":true}`}))
		busy.send(enc.Bytes())
		for drained := false; !drained; {
			select {
			case f := <-busy.frames:
				if len(f) == 1 && f[0] == 9 {
					busy.send([]byte{10})
				}
			case ce := <-busy.closed:
				t.Fatalf("busy socket closed: %d %q", ce.Code, ce.Reason)
			default:
				drained = true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopLoad()
	select {
	case ce := <-busy.closed:
		t.Fatalf("busy socket closed: %d %q", ce.Code, ce.Reason)
	default:
	}
}

// keepRoomBusy keeps docID's room busy with server-side requests that take
// 150 ms each, from several callers, so that clients' messages wait well
// over a pong timeout for a place in the inbox while the room's keepalive
// tick still runs between requests. It returns the function that stops it.
func keepRoomBusy(e *testEnv, docID string) (stop func()) {
	done := make(chan struct{})
	var wg gosync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				_ = e.hub.Do(context.Background(), docID, func(*crdt.Doc) ([]byte, error) {
					time.Sleep(150 * time.Millisecond)
					return nil, nil
				})
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}
