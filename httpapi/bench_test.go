package httpapi

import (
	"context"
	"fmt"
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

// BenchmarkWSWrite measures one server write of a typical update message
// to a client that reads everything: with a context deadline per write (a
// timer and a callback each), and with a deadline on the socket (WriteAll,
// what session writers use).
func BenchmarkWSWrite(b *testing.B) {
	msg := make([]byte, 60)
	for _, mode := range []string{"context", "deadline"} {
		b.Run(mode, func(b *testing.B) {
			conns := make(chan wsConn, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hw := &hijackCapture{ResponseWriter: w}
				c, err := websocket.Accept(hw, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
				if err != nil {
					b.Error(err)
					return
				}
				conns <- newWSConn(c, hw)
			}))
			defer srv.Close()
			client, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer client.CloseNow()
			server := <-conns
			defer server.CloseNow()
			go func() {
				for {
					if _, _, err := client.Read(context.Background()); err != nil {
						return
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if mode == "context" {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err = server.Write(ctx, msg)
					cancel()
				} else {
					err = server.WriteAll(time.Now().Add(10*time.Second), [][]byte{msg})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
