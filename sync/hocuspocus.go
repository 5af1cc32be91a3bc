package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	gosync "sync"
	"sync/atomic"
	"time"
)

// Hocuspocus 4 over one WebSocket: a provider attaches any number of
// documents to one socket and every message carries the address of the
// document it is about. Each attached document is an ordinary session of
// that document's room (Hub.Serve over an hpDoc, a Conn that adds and
// strips the address), so Hocuspocus and y-websocket clients of one
// document share one room, one durability rule and one awareness view.
// What the room does not know lives here: authentication per document,
// stateless messages, detaching, and the socket's Ping/Pong keepalive.

// Scope is what an authorized client may do with a document.
type Scope uint8

const (
	// ScopeReadWrite may read and edit.
	ScopeReadWrite Scope = iota + 1
	// ScopeReadOnly receives the document and awareness; its edits are refused.
	ScopeReadOnly
)

// Authorizer decides what token allows on document docID. A refusal is an
// error whose text tells the client what was wrong and what to do (the
// provider receives it as the PermissionDenied reason).
type Authorizer func(ctx context.Context, docID, token string) (Scope, error)

// HocuspocusConfig tunes the Hocuspocus endpoint. Zero values take the
// defaults in DefaultHocuspocusConfig.
type HocuspocusConfig struct {
	// Authorize decides each document's scope from the token the provider
	// sends; nil lets every client edit every document.
	Authorize Authorizer
	// PingAfter: the server sends a Ping when it has read or written nothing
	// on a socket for this long (the provider reopens a socket on which
	// nothing arrives for 30 s, and answers Ping with Pong).
	PingAfter time.Duration
	// IdleTimeout closes a socket that has sent nothing, not even a Pong,
	// for this long (Hocuspocus' 60 s rule).
	IdleTimeout time.Duration
	// MaxPendingBytes bounds what one socket may send for documents whose
	// authentication is not decided yet; MaxPendingDocs bounds how many
	// such documents it may open at once.
	MaxPendingBytes int
	MaxPendingDocs  int
}

// DefaultHocuspocusConfig holds the defaults.
var DefaultHocuspocusConfig = HocuspocusConfig{
	PingAfter:       10 * time.Second,
	IdleTimeout:     60 * time.Second,
	MaxPendingBytes: 5 << 20,
	MaxPendingDocs:  100,
}

// Hocuspocus serves Hocuspocus sockets on a hub. Safe for concurrent use.
type Hocuspocus struct {
	hub *Hub
	cfg HocuspocusConfig
	log *slog.Logger

	mu   gosync.Mutex
	docs map[string]map[*hpDoc]struct{} // attached documents by name, for stateless relays
}

// NewHocuspocus returns the Hocuspocus endpoint of hub.
func NewHocuspocus(hub *Hub, cfg HocuspocusConfig) *Hocuspocus {
	d := DefaultHocuspocusConfig
	if cfg.PingAfter <= 0 {
		cfg.PingAfter = d.PingAfter
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = d.IdleTimeout
	}
	if cfg.MaxPendingBytes <= 0 {
		cfg.MaxPendingBytes = d.MaxPendingBytes
	}
	if cfg.MaxPendingDocs <= 0 {
		cfg.MaxPendingDocs = d.MaxPendingDocs
	}
	if cfg.Authorize == nil {
		cfg.Authorize = func(context.Context, string, string) (Scope, error) { return ScopeReadWrite, nil }
	}
	return &Hocuspocus{hub: hub, cfg: cfg, log: hub.log, docs: make(map[string]map[*hpDoc]struct{})}
}

// Serve runs one Hocuspocus socket until it closes and returns why; every
// document attached to it is then detached. It is meant to be called on the
// goroutine that accepted the connection, which becomes the socket's
// reader. conn is closed on return.
func (hp *Hocuspocus) Serve(ctx context.Context, conn Conn, remoteAddr string) CloseReason {
	if err := hp.hub.Ready(); err != nil {
		_ = conn.Close(ServerShutdown.Code(), ServerShutdown.Text())
		return ServerShutdown
	}
	s := &hpSocket{hp: hp, conn: conn, remote: remoteAddr, docs: make(map[string]*hpDoc),
		pending: make(map[string]*hpPending), gone: make(chan struct{})}
	now := time.Now().UnixNano()
	s.lastRead.Store(now)
	s.lastWrite.Store(now)
	s.timer = time.AfterFunc(hp.tickEvery(), s.tick)
	reason, detail := s.readLoop(ctx)

	s.timer.Stop()
	close(s.gone) // every document's Read returns; their sessions end
	s.wg.Wait()
	s.closeSocket(reason, detail)
	hp.log.Debug("hocuspocus socket closed", "remote", remoteAddr, "reason", reason.String(), "detail", detail)
	return reason
}

func (hp *Hocuspocus) tickEvery() time.Duration { return hp.cfg.PingAfter / 2 }

func (hp *Hocuspocus) register(d *hpDoc) {
	hp.mu.Lock()
	set := hp.docs[d.name]
	if set == nil {
		set = make(map[*hpDoc]struct{})
		hp.docs[d.name] = set
	}
	set[d] = struct{}{}
	hp.mu.Unlock()
}

func (hp *Hocuspocus) unregister(d *hpDoc) {
	hp.mu.Lock()
	if set := hp.docs[d.name]; set != nil {
		delete(set, d)
		if len(set) == 0 {
			delete(hp.docs, d.name)
		}
	}
	hp.mu.Unlock()
}

// relayStateless sends payload to every other Hocuspocus connection of
// from's document. It is not stored and y-websocket clients do not get it
// (their protocol has no such message).
func (hp *Hocuspocus) relayStateless(from *hpDoc, payload string) {
	hp.mu.Lock()
	targets := make([]*hpDoc, 0, len(hp.docs[from.name]))
	for d := range hp.docs[from.name] {
		if d != from {
			targets = append(targets, d)
		}
	}
	hp.mu.Unlock()
	for _, d := range targets {
		d.sock.sendAsync(encodeHPStateless(d.address, payload))
	}
}

// hpSocket is one Hocuspocus WebSocket.
type hpSocket struct {
	hp        *Hocuspocus
	conn      Conn
	remote    string
	lastRead  atomic.Int64 // unix nanos
	lastWrite atomic.Int64
	pushing   atomic.Bool // the reader waits for a document's session to take a message
	timer     *time.Timer
	wg        gosync.WaitGroup // documents' Hub.Serve goroutines
	gone      chan struct{}    // closed when the read loop has ended
	readErr   error            // why; set before gone closes
	closeOnce gosync.Once

	mu   gosync.Mutex
	docs map[string]*hpDoc // attached documents by address

	// Owned by the read loop.
	pending      map[string]*hpPending // documents waiting for their Auth
	pendingBytes int

	// Messages not sent by a session (stateless relays), written in order
	// by a goroutine that exists only while some wait.
	qmu     gosync.Mutex
	queue   [][]byte
	qbytes  int
	writing bool
}

// hpPending holds a document's messages that arrived before its Auth.
type hpPending struct{ frames [][]byte }

const maxAsyncQueueBytes = 1 << 20

func (s *hpSocket) doc(address string) *hpDoc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.docs[address]
}

func (s *hpSocket) attached() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

func (s *hpSocket) readLoop(ctx context.Context) (CloseReason, string) {
	for {
		frame, err := s.conn.Read(ctx)
		if err != nil {
			s.readErr = err
			switch {
			case errors.Is(err, ErrPeerClosed):
				return ClientClosed, ""
			case errors.Is(err, ErrMessageTooBig):
				return MessageTooBig, ""
			case errors.Is(err, ErrNotBinary):
				return MalformedMessage, "text message: Hocuspocus messages are binary"
			}
			return ConnectionLost, err.Error()
		}
		s.lastRead.Store(time.Now().UnixNano())
		if typ, ok := hpBare(frame); ok {
			if typ == hpPing {
				if err := s.write(ctx, hpPongFrame); err != nil {
					s.readErr = err
					return WriteFailed, err.Error()
				}
			}
			continue
		}
		f, err := decodeHPFrame(frame)
		if err != nil {
			s.readErr = err
			return MalformedMessage, err.Error()
		}
		if d := s.doc(f.address); d != nil {
			s.dispatch(ctx, d, f, frame)
			continue
		}
		if reason, detail := s.beforeAuth(ctx, f, frame); reason != 0 {
			s.readErr = errors.New(detail)
			return reason, detail
		}
	}
}

// dispatch handles a message for an attached document.
func (s *hpSocket) dispatch(ctx context.Context, d *hpDoc, f hpFrame, frame []byte) {
	switch f.typ {
	case hpSync, hpAwareness, hpQueryAwareness:
		d.push(ctx, frame[f.typeAt:])
	case hpSyncReply:
		d.push(ctx, append([]byte{hpSync}, f.body...))
	case hpStateless, hpBroadcastStateless:
		payload, err := decodeHPStateless(f.body)
		if err != nil {
			s.hp.log.Info("malformed stateless message ignored", "doc", d.name, "remote", s.remote, "err", err)
			return
		}
		s.hp.relayStateless(d, payload)
	case hpClose:
		d.detach()
	case hpAuth:
		// A token refresh on an attached document: its scope stays as
		// decided when it attached (Hocuspocus' onTokenSync hook).
	default:
		// SyncStatus, addressed Ping/Pong and types newer than this server
		// mean nothing here; ignoring them keeps newer providers working.
	}
}

// beforeAuth handles a message for a document that is not attached: its
// Auth decides, anything else waits for it.
func (s *hpSocket) beforeAuth(ctx context.Context, f hpFrame, frame []byte) (CloseReason, string) {
	cfg := &s.hp.cfg
	p := s.pending[f.address]
	if f.typ != hpAuth {
		if p == nil {
			if len(s.pending) >= cfg.MaxPendingDocs {
				return MalformedMessage, fmt.Sprintf("more than %d documents waiting for authentication", cfg.MaxPendingDocs)
			}
			p = &hpPending{}
			s.pending[f.address] = p
		}
		held := frame[f.typeAt:]
		if s.pendingBytes+len(held) > cfg.MaxPendingBytes {
			return MalformedMessage, fmt.Sprintf("more than %d bytes sent before authenticating: send Auth first", cfg.MaxPendingBytes)
		}
		s.pendingBytes += len(held)
		p.frames = append(p.frames, held)
		return 0, ""
	}
	delete(s.pending, f.address)
	if p != nil {
		for _, fr := range p.frames {
			s.pendingBytes -= len(fr)
		}
	}
	token, version, err := decodeHPAuthToken(f.body)
	if err != nil {
		return MalformedMessage, err.Error()
	}
	name := f.docName()
	scope, err := s.authorize(ctx, name, token)
	if err != nil {
		s.hp.log.Info("hocuspocus document refused", "doc", name, "remote", s.remote, "err", err)
		if werr := s.write(ctx, encodeHPPermissionDenied(f.address, err.Error())); werr != nil {
			return WriteFailed, werr.Error()
		}
		return 0, ""
	}
	d := &hpDoc{sock: s, address: f.address, name: name, inbox: make(chan []byte, 16),
		closed: make(chan struct{}), served: make(chan struct{})}
	if err := s.write(ctx, encodeHPAuthenticated(f.address, scope == ScopeReadOnly)); err != nil {
		return WriteFailed, err.Error()
	}
	s.mu.Lock()
	s.docs[f.address] = d
	s.mu.Unlock()
	s.hp.register(d)
	info := SessionInfo{RemoteAddr: s.remote, ReadOnly: scope == ScopeReadOnly, syncStatus: true}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.hp.hub.Serve(ctx, name, d, info)
		close(d.served)
		d.detach()
	}()
	s.hp.log.Debug("hocuspocus document attached", "doc", name, "address_session", len(f.address) > len(name),
		"read_only", scope == ScopeReadOnly, "provider", version, "remote", s.remote)
	if p != nil {
		// Each held frame starts at its message type; known types are one byte.
		for _, fr := range p.frames {
			s.dispatch(ctx, d, hpFrame{address: f.address, typ: uint64(fr[0]), body: fr[1:]}, fr)
		}
	}
	return 0, ""
}

// authorize checks the document name, then asks the Authorizer.
func (s *hpSocket) authorize(ctx context.Context, name, token string) (Scope, error) {
	if err := ValidateDocID(name); err != nil {
		return 0, fmt.Errorf("document name: %w", err)
	}
	scope, err := s.hp.cfg.Authorize(ctx, name, token)
	if err != nil {
		return 0, err
	}
	if scope != ScopeReadWrite && scope != ScopeReadOnly {
		return 0, errors.New("this token gives no access to this document")
	}
	return scope, nil
}

// write sends one message now (bounded by the hub's write timeout).
func (s *hpSocket) write(ctx context.Context, frame []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.hp.hub.cfg.WriteTimeout)
	defer cancel()
	err := s.conn.Write(ctx, frame)
	if err == nil {
		s.lastWrite.Store(time.Now().UnixNano())
	}
	return err
}

// writeAll sends frames in order by deadline, in one write where the
// transport can.
func (s *hpSocket) writeAll(deadline time.Time, frames [][]byte) error {
	err := writeAll(s.conn, deadline, frames)
	if err == nil {
		s.lastWrite.Store(time.Now().UnixNano())
	}
	return err
}

// sendAsync queues a message that no session carries; past the queue's
// byte limit it is dropped (stateless messages promise no delivery).
func (s *hpSocket) sendAsync(frame []byte) {
	s.qmu.Lock()
	if s.qbytes+len(frame) > maxAsyncQueueBytes {
		s.qmu.Unlock()
		s.hp.log.Warn("hocuspocus stateless message dropped: socket too far behind", "remote", s.remote)
		return
	}
	s.queue = append(s.queue, frame)
	s.qbytes += len(frame)
	if !s.writing {
		s.writing = true
		go s.writeQueue()
	}
	s.qmu.Unlock()
}

func (s *hpSocket) writeQueue() {
	for {
		s.qmu.Lock()
		if len(s.queue) == 0 {
			s.writing = false
			s.queue = nil
			s.qmu.Unlock()
			return
		}
		frame := s.queue[0]
		s.queue = s.queue[1:]
		s.qbytes -= len(frame)
		s.qmu.Unlock()
		if err := s.write(context.Background(), frame); err != nil {
			s.qmu.Lock()
			s.queue, s.qbytes, s.writing = nil, 0, false
			s.qmu.Unlock()
			return
		}
	}
}

// tick is the socket's keepalive: Ping a quiet socket, close a dead one.
func (s *hpSocket) tick() {
	select {
	case <-s.gone:
		return
	default:
	}
	cfg := &s.hp.cfg
	if s.hp.hub.Ready() != nil && s.attached() == 0 {
		// Shutting down: sockets with documents are closed by their rooms
		// (1012); this one has none to wait for.
		s.closeSocket(ServerShutdown, "")
		return
	}
	now := time.Now()
	sinceRead := now.Sub(time.Unix(0, s.lastRead.Load()))
	if sinceRead >= cfg.IdleTimeout && !s.pushing.Load() {
		s.hp.log.Info("hocuspocus socket silent; closing", "remote", s.remote, "silent_for", sinceRead.Round(time.Second))
		s.closeSocket(PingTimeout, fmt.Sprintf("nothing received for %s", cfg.IdleTimeout))
		return
	}
	if sinceRead >= cfg.PingAfter || now.Sub(time.Unix(0, s.lastWrite.Load())) >= cfg.PingAfter {
		_ = s.write(context.Background(), hpPingFrame)
	}
	s.timer.Reset(s.hp.tickEvery())
}

// probe answers a session's keepalive ping: the socket is alive if it has
// read something lately, or once it answers a Ping.
func (s *hpSocket) probe(ctx context.Context) error {
	since := time.Now().Add(-s.hp.hub.cfg.PingInterval).UnixNano()
	if s.lastRead.Load() > since || s.pushing.Load() {
		return nil
	}
	asked := time.Now().UnixNano()
	if err := s.write(ctx, hpPingFrame); err != nil {
		return err
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for s.lastRead.Load() < asked && !s.pushing.Load() {
		select {
		case <-t.C:
		case <-s.gone:
			return fmt.Errorf("%w: socket closed", ErrPeerClosed)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// closeSocket closes the WebSocket once, with reason's code.
func (s *hpSocket) closeSocket(reason CloseReason, detail string) {
	s.closeOnce.Do(func() {
		if code := reason.Code(); code != 0 && reason != MessageTooBig {
			_ = s.conn.Close(code, closeText(reason, detail))
		} else {
			_ = s.conn.CloseNow()
		}
	})
}

// hpDoc is one attached document of a socket: the Conn its session reads
// and writes. Reads come from the socket's read loop through inbox; writes
// get the address added and go out on the shared socket.
type hpDoc struct {
	sock    *hpSocket
	address string
	name    string
	inbox   chan []byte
	closed  chan struct{} // detached: Read returns once inbox is drained
	once    gosync.Once
	served  chan struct{} // Hub.Serve returned: nobody reads inbox any more
}

var (
	_ Conn        = (*hpDoc)(nil)
	_ BatchWriter = (*hpDoc)(nil)
)

// detach ends the document's attachment (client CLOSE, session end) and
// reports whether this call did it.
func (d *hpDoc) detach() bool {
	did := false
	d.once.Do(func() {
		did = true
		close(d.closed)
		s := d.sock
		s.mu.Lock()
		if s.docs[d.address] == d {
			delete(s.docs, d.address)
		}
		s.mu.Unlock()
		s.hp.unregister(d)
	})
	return did
}

// push hands a message to the document's session; it blocks while the
// session is behind, which holds back the socket's reader (TCP back-pressure).
func (d *hpDoc) push(ctx context.Context, msg []byte) {
	select {
	case d.inbox <- msg:
		return
	default:
	}
	// While it waits the socket reads nothing, Pongs included: the
	// keepalive counts it as alive (we are the slow side), and as heard
	// from once the reader is free again.
	s := d.sock
	s.pushing.Store(true)
	select {
	case d.inbox <- msg:
	case <-d.served:
	case <-ctx.Done():
	}
	s.lastRead.Store(time.Now().UnixNano())
	s.pushing.Store(false)
}

func (d *hpDoc) Read(ctx context.Context) ([]byte, error) {
	select {
	case m := <-d.inbox:
		return m, nil
	default:
	}
	select {
	case m := <-d.inbox:
		return m, nil
	case <-d.closed:
		return nil, fmt.Errorf("%w: document %q detached", ErrPeerClosed, d.name)
	case <-d.sock.gone:
		if errors.Is(d.sock.readErr, ErrPeerClosed) {
			return nil, d.sock.readErr
		}
		return nil, fmt.Errorf("hocuspocus socket ended: %w", d.sock.readErr)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *hpDoc) Write(ctx context.Context, msg []byte) error {
	select {
	case <-d.closed:
		return nil // the provider forgot this address; nothing to tell it
	default:
	}
	return d.sock.write(ctx, hpAddressed(d.address, msg))
}

// WriteAll implements BatchWriter: the document's backlog goes out in one
// write, each message with its address.
func (d *hpDoc) WriteAll(deadline time.Time, msgs [][]byte) error {
	select {
	case <-d.closed:
		return nil
	default:
	}
	frames := make([][]byte, len(msgs))
	for i, m := range msgs {
		frames[i] = hpAddressed(d.address, m)
	}
	return d.sock.writeAll(deadline, frames)
}

func (d *hpDoc) Ping(ctx context.Context) error { return d.sock.probe(ctx) }

// Close ends this document only, with a CLOSE message carrying reason,
// except for transient codes: then the whole socket closes with code, so
// the provider reconnects and resynchronises all its documents (a CLOSE
// would leave this one closed until the socket reopens).
func (d *hpDoc) Close(code int, reason string) error {
	if !d.detach() {
		return nil
	}
	if transientCode(code) {
		d.sock.closeWith(code, reason)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.sock.hp.hub.cfg.WriteTimeout)
	defer cancel()
	return d.sock.write(ctx, encodeHPClose(d.address, reason))
}

func (d *hpDoc) CloseNow() error {
	d.detach()
	return nil
}

func transientCode(code int) bool {
	return code == 1012 || code == 1013 || (code >= 4500 && code < 4600)
}

// closeWith closes the socket with a code chosen by a document's session.
func (s *hpSocket) closeWith(code int, reason string) {
	s.closeOnce.Do(func() { _ = s.conn.Close(code, reason) })
}
