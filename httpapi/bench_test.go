package httpapi

import (
	"fmt"
	"testing"
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
