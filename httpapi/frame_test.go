package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsPair returns the server side of a WebSocket (as the server builds it)
// and a coder/websocket client connected to it.
func wsPair(tb testing.TB) (wsConn, *websocket.Conn) {
	tb.Helper()
	conns := make(chan wsConn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := acceptWS(w, r)
		if err != nil {
			tb.Error(err)
			return
		}
		conns <- c
	}))
	tb.Cleanup(srv.Close)
	client, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	client.SetReadLimit(-1)
	server := <-conns
	tb.Cleanup(func() {
		client.CloseNow()
		server.CloseNow()
	})
	return server, client
}

// TestWriteAllFrames checks our own framing of data frames against a
// stock client: every length class of RFC 6455 (7-bit, 16-bit and 64-bit
// lengths, at their edges), several frames in one write, and control
// frames from coder/websocket in between.
func TestWriteAllFrames(t *testing.T) {
	server, client := wsPair(t)
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 300_000}
	var want [][]byte
	for i, n := range sizes {
		m := make([]byte, n)
		for j := range m {
			m[j] = byte(i + j)
		}
		want = append(want, m)
	}
	got := make(chan []byte, len(want)*2)
	go func() {
		for {
			typ, b, err := client.Read(context.Background())
			if err != nil {
				close(got)
				return
			}
			if typ != websocket.MessageBinary {
				t.Errorf("message type %v, want binary", typ)
			}
			got <- b
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, m := range want { // one at a time
		if err := server.WriteAll(deadline, [][]byte{m}); err != nil {
			t.Fatal(err)
		}
	}
	// A ping from coder/websocket between batches: its pong is read by
	// the server's reader, which runs only while someone reads.
	go func() { _, _ = server.Read(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Ping(ctx); err != nil {
		t.Fatalf("ping between data frames: %v", err)
	}
	if err := server.WriteAll(deadline, want); err != nil { // all in one write
		t.Fatal(err)
	}
	for round := range 2 {
		for i, w := range want {
			b, ok := <-got
			if !ok {
				t.Fatalf("round %d: connection ended before message %d", round, i)
			}
			if !bytes.Equal(b, w) {
				t.Fatalf("round %d message %d: got %d bytes, want %d", round, i, len(b), len(w))
			}
		}
	}
	if err := server.Close(int(websocket.StatusNormalClosure), "bye"); err != nil {
		t.Logf("close: %v", err)
	}
	if err := server.WriteAll(deadline, want[:1]); !errors.Is(err, net.ErrClosed) {
		t.Errorf("data frame after the close frame: err %v, want net.ErrClosed", err)
	}
}

// TestTryWriteKeepsWhatTheSocketRefuses fills a socket whose client does
// not read: TryWrite must stop accepting without blocking, and a message
// it accepted only in part must arrive whole, before the next one, once
// the client reads.
func TestTryWriteKeepsWhatTheSocketRefuses(t *testing.T) {
	server, client := wsPair(t)
	var sent [][]byte
	flush := false
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("the socket never filled up")
		}
		m := bytes.Repeat([]byte{byte(i)}, 1000+i%7)
		accepted, f, err := server.TryWrite(m)
		if err != nil {
			t.Fatal(err)
		}
		if !accepted {
			break
		}
		sent = append(sent, m)
		flush = f
		if f {
			// Kept bytes go first: nothing more is accepted meanwhile.
			if ok, _, _ := server.TryWrite([]byte("x")); ok {
				t.Fatal("TryWrite accepted a message while holding part of another")
			}
			break
		}
	}
	last := []byte("after the backlog")
	sent = append(sent, last)
	done := make(chan error, 1)
	go func() { done <- server.WriteAll(time.Now().Add(10*time.Second), [][]byte{last}) }()
	for i, want := range sent {
		_, got, err := client.Read(context.Background())
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, len(sent), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d of %d: got %d bytes, want %d", i, len(sent), len(got), len(want))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages accepted before the socket was full; last one kept in part: %v", len(sent)-1, flush)
}

// coder/websocket sends close frames of its own (here 1009 for a message
// over the read limit): no data frame of ours may follow one.
func TestNoDataFrameAfterCodersCloseFrame(t *testing.T) {
	server, client := wsPair(t)
	server.c.SetReadLimit(10)
	go func() { _ = client.Write(context.Background(), websocket.MessageBinary, make([]byte, 100)) }()
	if _, err := server.Read(context.Background()); err == nil {
		t.Fatal("a message over the read limit was read")
	}
	if err := server.WriteAll(time.Now().Add(time.Second), [][]byte{[]byte("late")}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteAll after the close frame: %v, want net.ErrClosed", err)
	}
	if accepted, _, _ := server.TryWrite([]byte("late")); accepted {
		t.Error("TryWrite accepted a data frame after the close frame")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := client.Read(ctx)
	if code := websocket.CloseStatus(err); code != websocket.StatusMessageTooBig {
		t.Errorf("client read %v, want the 1009 close and nothing before it", err)
	}
}
