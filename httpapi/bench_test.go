package httpapi

import (
	"context"
	"fmt"
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
					_, err = server.fw.conn.Write(frame)
				case "context":
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err = server.c.Write(ctx, websocket.MessageBinary, msg)
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
