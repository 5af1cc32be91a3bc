package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkEditFanOut measures one edit through the whole server: sent by
// one client, applied, committed to bbolt (one fsync), and received by
// every client of the document, the sender's echo included.
func BenchmarkEditFanOut(b *testing.B) {
	for _, n := range []int{2, 10} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			e := newEnv(b, envOptions{})
			var clients []*wsClient
			for i := range n {
				c := e.dial(fmt.Sprint("c", i), "bench", dialOptions{})
				c.waitSynced()
				clients = append(clients, c)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				clients[0].edit(insert("x"))
				for _, c := range clients {
					c.awaitUpdates(i + 1)
				}
			}
		})
	}
}

// awaitUpdates blocks until c has received n updates (no polling, for timing).
func (c *wsClient) awaitUpdates(n int) {
	for {
		c.mu.Lock()
		got := c.updates
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-c.changed:
		case <-c.done:
			c.t.Fatalf("%s closed while waiting for updates", c.name)
		}
	}
}

// wsPair returns the server side of a WebSocket (as the server builds it)
// and a coder/websocket client connected to it.
func wsPair(tb testing.TB) (wsConn, *websocket.Conn) {
	tb.Helper()
	conns := make(chan wsConn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hw := &hijackCapture{ResponseWriter: w}
		c, err := websocket.Accept(hw, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			tb.Error(err)
			return
		}
		conns <- newWSConn(c, hw)
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

// BenchmarkWSWrite measures server writes of a typical update message to
// a client that reads everything: through coder/websocket with a context
// deadline per write (a timer and a callback each), with our framing and
// a deadline on the socket (WriteAll, what session writers use), and four
// messages in one WriteAll (a session's backlog), reported per message.
// "syscall" writes the same frame bytes straight to the TCP socket: the
// floor any server pays per message sent on its own.
func BenchmarkWSWrite(b *testing.B) {
	msg := make([]byte, 60)
	frame := appendFrame(nil, msg)
	for _, mode := range []string{"syscall", "context", "deadline", "batch4"} {
		b.Run(mode, func(b *testing.B) {
			server, client := wsPair(b)
			go func() {
				for {
					if _, _, err := client.Read(context.Background()); err != nil {
						return
					}
				}
			}()
			batch := [][]byte{msg, msg, msg, msg}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				switch mode {
				case "syscall":
					_, err = server.raw.Write(frame)
				case "context":
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err = server.Write(ctx, msg)
					cancel()
				case "deadline":
					err = server.WriteAll(time.Now().Add(10*time.Second), batch[:1])
				case "batch4":
					if i%4 == 0 {
						err = server.WriteAll(time.Now().Add(10*time.Second), batch)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
