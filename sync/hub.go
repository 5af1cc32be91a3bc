package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	gosync "sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/storage"
)

// Errors returned by the hub.
var (
	ErrDocNotFound  = errors.New("sync: document not found")
	ErrBadDocID     = errors.New("sync: invalid document id")
	ErrCorrupt      = errors.New("sync: stored document does not decode")
	ErrRoomClosed   = errors.New("sync: document closed")
	ErrShuttingDown = errors.New("sync: server shutting down")
)

// Config tunes a Hub. Zero values take the defaults in DefaultConfig.
type Config struct {
	Store   storage.Store // required
	Logger  *slog.Logger
	Metrics Metrics

	// CreateOnConnect creates a document a client opens that does not exist.
	CreateOnConnect bool
	// InboxSize bounds each room's inbox (messages).
	InboxSize int
	// SessionQueueBytes caps what may wait to be sent to one client; past
	// it the client is cut off as a slow consumer and reconnects.
	SessionQueueBytes int
	// WriteTimeout bounds one write to a client.
	WriteTimeout time.Duration
	// PingInterval: a client silent this long is pinged; PongTimeout: how
	// long its pong may take before it is dropped.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// AwarenessTimeout drops awareness states not renewed in time
	// (y-protocols uses 30 s; clients renew every 15 s).
	AwarenessTimeout time.Duration
	// IdleTimeout unloads a room that has had no session for this long.
	IdleTimeout time.Duration
	// Compaction: snapshot after this many log entries, or log bytes, or
	// this long without updates. Zero disables that trigger.
	CompactUpdates int
	CompactBytes   int64
	CompactIdle    time.Duration
	// CloseGrace bounds the close handshake with a client that does not
	// answer (slow, dead); then the connection is cut.
	CloseGrace time.Duration
	// TickInterval is how often rooms run timers (awareness, keepalive,
	// idle, compaction). Tests shorten it.
	TickInterval time.Duration
	// Changed, if set, is told the id of each document after every commit
	// that made some of its updates durable (webhooks, change feeds). It
	// runs on the committer goroutine, so it must return at once.
	Changed func(docID string)
}

// DefaultConfig holds the defaults, sized for a laptop.
var DefaultConfig = Config{
	CreateOnConnect:   true,
	InboxSize:         256,
	SessionQueueBytes: 8 << 20,
	WriteTimeout:      10 * time.Second,
	PingInterval:      30 * time.Second,
	PongTimeout:       15 * time.Second,
	AwarenessTimeout:  30 * time.Second,
	IdleTimeout:       time.Minute,
	CompactUpdates:    1000,
	CompactBytes:      4 << 20,
	CompactIdle:       30 * time.Second,
	CloseGrace:        2 * time.Second,
	TickInterval:      time.Second,
}

func (c *Config) fill() {
	d := DefaultConfig
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
	if c.InboxSize <= 0 {
		c.InboxSize = d.InboxSize
	}
	if c.SessionQueueBytes <= 0 {
		c.SessionQueueBytes = d.SessionQueueBytes
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.PingInterval <= 0 {
		c.PingInterval = d.PingInterval
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = d.PongTimeout
	}
	if c.AwarenessTimeout <= 0 {
		c.AwarenessTimeout = d.AwarenessTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.CloseGrace <= 0 {
		c.CloseGrace = d.CloseGrace
	}
	if c.TickInterval <= 0 {
		c.TickInterval = d.TickInterval
	}
}

// Hub opens and closes rooms, one per open document, and runs sessions in
// them. All methods are safe for concurrent use.
//
// Durability: an update is applied by its room, written by the shared group
// committer, and only then forwarded to every session (the sender too: the
// echo means "saved"). Nothing a room sends contains an update that is not
// durable.
type Hub struct {
	cfg       Config
	store     storage.Store
	log       *slog.Logger
	metrics   Metrics
	committer *committer

	nextSessionID atomic.Uint64

	mu      gosync.Mutex
	rooms   map[string]*room
	closing bool

	shutdown     chan struct{} // closed by Shutdown: rooms stop
	shutdownOnce gosync.Once
	sessions     gosync.WaitGroup // running Serve calls
	roomsWG      gosync.WaitGroup // running room goroutines
}

// NewHub starts a hub on cfg.Store.
func NewHub(cfg Config) (*Hub, error) {
	if cfg.Store == nil {
		return nil, errors.New("sync: Config.Store is required")
	}
	cfg.fill()
	h := &Hub{
		cfg:      cfg,
		store:    cfg.Store,
		log:      cfg.Logger,
		metrics:  cfg.Metrics,
		rooms:    make(map[string]*room),
		shutdown: make(chan struct{}),
	}
	h.committer = newCommitter(cfg.Store, cfg.Metrics, cfg.Changed)
	return h, nil
}

// MaxDocIDLen bounds document ids (bytes).
const MaxDocIDLen = 256

// ValidateDocID reports whether id can name a document.
func ValidateDocID(id string) error {
	if id == "" || len(id) > MaxDocIDLen || !utf8.ValidString(id) {
		return fmt.Errorf("%w: must be 1-%d bytes of UTF-8", ErrBadDocID, MaxDocIDLen)
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: control characters are not allowed", ErrBadDocID)
		}
	}
	return nil
}

// acquire returns the open room for id (starting it if needed) with a
// reference taken; release it with h.release.
func (h *Hub) acquire(ctx context.Context, id string, create bool) (*room, error) {
	for {
		h.mu.Lock()
		if h.closing {
			h.mu.Unlock()
			return nil, ErrShuttingDown
		}
		r := h.rooms[id]
		if r == nil {
			r = newRoom(h, id, create)
			h.rooms[id] = r
			h.roomsWG.Add(1)
			go func() {
				defer h.roomsWG.Done()
				r.run()
			}()
		}
		if !r.retiring {
			r.refs++
			h.mu.Unlock()
			return r, nil
		}
		h.mu.Unlock()
		// The room is stopping; wait for it, then open a fresh one.
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (h *Hub) release(r *room) {
	h.mu.Lock()
	r.refs--
	h.mu.Unlock()
}

// tryRetire marks r retiring if nothing refers to it; called by r.
func (h *Hub) tryRetire(r *room) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.refs > 0 {
		return false
	}
	r.retiring = true
	return true
}

func (h *Hub) forceRetire(r *room) {
	h.mu.Lock()
	r.retiring = true
	h.mu.Unlock()
}

func (h *Hub) removeRoom(r *room) {
	h.mu.Lock()
	r.retiring = true
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
	h.mu.Unlock()
}

// OpenRooms returns the number of rooms currently open.
func (h *Hub) OpenRooms() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rooms)
}

// Editors returns how many sessions document docID has right now (0 when
// it is not open).
func (h *Hub) Editors(docID string) int {
	h.mu.Lock()
	r := h.rooms[docID]
	h.mu.Unlock()
	if r == nil {
		return 0
	}
	return int(r.editors.Load())
}

// Serve runs one client session of document docID over conn until it ends,
// and returns why. It is meant to be called on the goroutine that accepted
// the connection, which becomes the session's reader. conn is closed on
// return.
func (h *Hub) Serve(ctx context.Context, docID string, conn Conn, info SessionInfo) CloseReason {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		_ = conn.Close(ServerShutdown.Code(), ServerShutdown.Text())
		return ServerShutdown
	}
	h.sessions.Add(1)
	h.mu.Unlock()
	defer h.sessions.Done()

	s := newSession(h, conn, info)
	h.metrics.SessionStarted()
	reason := h.serve(ctx, docID, s)
	r, detail := s.endReason()
	if r == 0 {
		r = reason
	}
	h.metrics.SessionEnded(r)
	level := slog.LevelInfo
	switch r {
	case WriteFailed, SlowConsumer, StorageFailed, LoadFailed:
		level = slog.LevelWarn
	}
	h.log.Log(ctx, level, "session ended", "doc", docID, "session", s.id, "reason", r.String(),
		"code", r.Code(), "detail", detail, "remote", info.RemoteAddr,
		"duration", time.Since(s.started).Round(time.Millisecond))
	return r
}

func (h *Hub) serve(ctx context.Context, docID string, s *session) CloseReason {
	if err := ValidateDocID(docID); err != nil {
		s.end(MalformedMessage, err.Error(), false)
		<-s.connClosed
		return MalformedMessage
	}
	r, err := h.join(ctx, docID, s)
	if err != nil {
		reason := LoadFailed
		switch {
		case errors.Is(err, ErrDocNotFound):
			reason = DocumentNotFound
		case errors.Is(err, ErrShuttingDown):
			reason = ServerShutdown
		case errors.Is(err, ErrCorrupt):
			h.log.Error("document failed to load", "doc", docID, "err", err)
		default:
			h.log.Error("joining document failed", "doc", docID, "err", err)
		}
		s.end(reason, "", false)
		<-s.connClosed
		return reason
	}
	reason, detail := s.readLoop(ctx, r)
	s.end(reason, detail, false)
	// Tell the room, then drop our reference: the order keeps the room
	// from retiring with this leave still unread.
	leaveCtx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
	_ = r.post(leaveCtx, &roomMsg{kind: rmLeave, s: s})
	cancel()
	h.release(r)
	<-s.connClosed
	return reason
}

func (h *Hub) join(ctx context.Context, docID string, s *session) (*room, error) {
	r, err := h.acquire(ctx, docID, h.cfg.CreateOnConnect)
	if err != nil {
		return nil, err
	}
	reply := make(chan error, 1)
	if err := r.post(ctx, &roomMsg{kind: rmJoin, s: s, reply: reply}); err != nil {
		h.release(r)
		return nil, err
	}
	select {
	case err = <-reply:
	case <-r.done:
		// It may have answered just before stopping.
		select {
		case err = <-reply:
		default:
			err = r.stoppedErr()
		}
	}
	if err != nil {
		h.release(r)
		return nil, err
	}
	return r, nil
}

// readLoop reads client messages and posts them to the room until the
// connection ends or the session is ended by the room.
func (s *session) readLoop(ctx context.Context, r *room) (CloseReason, string) {
	m := s.hub.metrics
	for {
		frame, err := s.conn.Read(ctx)
		if err != nil {
			switch {
			case errors.Is(err, ErrPeerClosed):
				return ClientClosed, ""
			case errors.Is(err, ErrMessageTooBig):
				return MessageTooBig, ""
			case errors.Is(err, ErrNotBinary):
				return MalformedMessage, "text message: send binary y-websocket messages"
			default:
				return ConnectionLost, err.Error()
			}
		}
		now := time.Now()
		s.lastRead.Store(now.UnixNano())
		in, err := decodeInbound(frame)
		if err != nil {
			return MalformedMessage, err.Error()
		}
		m.MessageReceived(in.kind.String(), len(frame))
		if in.kind == inIgnored {
			continue
		}
		if err := s.post(ctx, r, &roomMsg{kind: rmInbound, s: s, in: in, arrived: now}); err != nil {
			if errors.Is(err, ErrShuttingDown) {
				return ServerShutdown, ""
			}
			return ConnectionLost, err.Error()
		}
	}
}

// post hands m to the room. While the room's inbox is full the reader
// waits here and reads nothing, pongs included: the wait is marked so that
// the keepalive counts the client as alive (we are the slow side), and the
// client counts as heard from when the reader is free again.
func (s *session) post(ctx context.Context, r *room, m *roomMsg) error {
	select {
	case r.inbox <- m:
		return nil
	default:
	}
	s.posting.Store(true)
	err := r.post(ctx, m)
	s.lastRead.Store(time.Now().UnixNano())
	s.posting.Store(false)
	return err
}

func (k inboundKind) String() string {
	switch k {
	case inSyncStep1:
		return "sync_step1"
	case inUpdate:
		return "update"
	case inAwareness:
		return "awareness"
	case inQueryAwareness:
		return "query_awareness"
	}
	return "other"
}

// Do runs fn on the goroutine that owns document docID (loading it; it
// must exist) and returns once everything fn saw or changed is durable.
// fn may read doc and may edit it with doc.Transact; it must return the
// update its edits produced (Transact's result; merge several with
// crdt.MergeUpdates), which is then stored and broadcast to every session.
// fn must not keep doc or call the hub.
func (h *Hub) Do(ctx context.Context, docID string, fn func(doc *crdt.Doc) (update []byte, err error)) error {
	if err := ValidateDocID(docID); err != nil {
		return err
	}
	r, err := h.acquire(ctx, docID, false)
	if err != nil {
		return err
	}
	defer h.release(r)
	reply := make(chan error, 1)
	if err := r.post(ctx, &roomMsg{kind: rmDo, fn: fn, reply: reply}); err != nil {
		return err
	}
	select {
	case err := <-reply:
		return err
	case <-r.done:
		select {
		case err := <-reply:
			return err
		default:
			return r.stoppedErr()
		}
	case <-ctx.Done():
		// fn may still run; its changes are then stored as usual.
		return ctx.Err()
	}
}

// CloseDoc ends every session of docID with reason (DocumentDeleted when a
// document is deleted) and unloads its room without writing anything more.
// It does nothing if the document is not open.
func (h *Hub) CloseDoc(ctx context.Context, docID string, reason CloseReason) error {
	h.mu.Lock()
	r := h.rooms[docID]
	if r == nil || r.retiring {
		h.mu.Unlock()
		if r != nil {
			select {
			case <-r.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	r.refs++
	h.mu.Unlock()
	defer h.release(r)
	reply := make(chan error, 1)
	if err := r.post(ctx, &roomMsg{kind: rmCloseAll, reason: reason, reply: reply}); err != nil {
		if errors.Is(err, ErrRoomClosed) {
			return nil
		}
		return err
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops the hub: new sessions are refused with 1012; every room
// stops taking edits, waits until what it applied is durable, sends what it
// held, closes its sessions with 1012 and writes a snapshot. Shutdown returns
// when all rooms and sessions are done, or ctx ends. The store stays open
// (the caller closes it after).
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	h.shutdownOnce.Do(func() { close(h.shutdown) })

	done := make(chan struct{})
	go func() {
		h.roomsWG.Wait()
		h.committer.close()
		h.sessions.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sync: shutdown: %w", ctx.Err())
	}
}

// Ready reports whether the hub takes new sessions.
func (h *Hub) Ready() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return ErrShuttingDown
	}
	return nil
}

// Refuse turns a client away before it joins (bad token, no permission):
// for Unauthorized and Forbidden it first sends the y-protocols auth
// "permission denied" message with detail (y-websocket logs it), then
// closes conn with reason's code. It is logged and counted like any
// session end.
func (h *Hub) Refuse(conn Conn, reason CloseReason, detail string, info SessionInfo) {
	h.metrics.SessionStarted()
	if reason == Unauthorized || reason == Forbidden {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
		_ = conn.Write(ctx, encodePermissionDenied(detail))
		cancel()
	}
	s := newSession(h, conn, info)
	s.end(reason, detail, false)
	<-s.connClosed
	h.metrics.SessionEnded(reason)
	h.log.Info("session refused", "reason", reason.String(), "code", reason.Code(), "detail", detail,
		"remote", info.RemoteAddr)
}
