package sync

import (
	"context"
	"errors"
	"time"
)

// Conn is one client's message transport, as a session sees it. httpapi
// adapts a WebSocket to it; other transports (a NATS relay, tests) can too.
// Read is called from one goroutine; Write, Ping and Close may be called
// concurrently with Read and with each other.
type Conn interface {
	// Read returns the next binary message. It returns an error wrapping
	// ErrPeerClosed when the client closed, ErrMessageTooBig when a message
	// passed the read limit (the transport has closed with 1009), and
	// ErrNotBinary for a text message.
	Read(ctx context.Context) ([]byte, error)
	// Write sends one binary message.
	Write(ctx context.Context, msg []byte) error
	// Ping sends a ping and waits for its pong.
	Ping(ctx context.Context) error
	// Close sends a close frame with code and reason and closes the
	// connection; it may block for a few seconds on a dead peer.
	Close(code int, reason string) error
	// CloseNow closes the connection without a handshake.
	CloseNow() error
}

// Transport errors a Conn wraps.
var (
	ErrPeerClosed    = errors.New("sync: peer closed the connection")
	ErrMessageTooBig = errors.New("sync: message too big")
	ErrNotBinary     = errors.New("sync: text message; y-websocket sends binary messages")
)

// Metrics receives the hub's measurements. Implementations must be safe for
// concurrent use and cheap: they are called on hot paths.
type Metrics interface {
	RoomOpened()
	RoomClosed()
	SessionStarted()
	SessionEnded(reason CloseReason)
	// MessageReceived counts one client message of the given kind
	// ("update", "sync_step1", "awareness", "query_awareness", "other").
	MessageReceived(kind string, bytes int)
	// MessageSent counts one message written to one session.
	MessageSent(bytes int)
	// Committed reports one group commit: entries and bytes in it, how long
	// the storage call took, and whether it failed.
	Committed(entries, bytes int, took time.Duration, err error)
	// FannedOut reports an update handed to every session of its room, with
	// the time from its arrival (so it includes the wait for durability).
	FannedOut(sessions int, sinceArrival time.Duration)
	// QueueDropped counts messages discarded when a slow session was cut off.
	QueueDropped(messages, bytes int)
	// Compacted reports one snapshot written by a room.
	Compacted(took time.Duration, err error)
}

type nopMetrics struct{}

func (nopMetrics) RoomOpened()                              {}
func (nopMetrics) RoomClosed()                              {}
func (nopMetrics) SessionStarted()                          {}
func (nopMetrics) SessionEnded(CloseReason)                 {}
func (nopMetrics) MessageReceived(string, int)              {}
func (nopMetrics) MessageSent(int)                          {}
func (nopMetrics) Committed(int, int, time.Duration, error) {}
func (nopMetrics) FannedOut(int, time.Duration)             {}
func (nopMetrics) QueueDropped(int, int)                    {}
func (nopMetrics) Compacted(time.Duration, error)           {}

var _ Metrics = nopMetrics{}
