package httpapi

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	qsync "github.com/quire/quire/sync"
)

// serveWS upgrades /ws/{docID} to a y-websocket session. The document name
// is everything after /ws/ (y-websocket appends the room name to the URL
// as it is, so names may contain slashes).
func (a *api) serveWS(w http.ResponseWriter, r *http.Request) {
	docID := chi.URLParam(r, "*")
	if r.URL.RawPath != "" {
		// chi routed on the escaped path; the name is the decoded one.
		if d, err := url.PathUnescape(docID); err == nil {
			docID = d
		}
	}
	if err := qsync.ValidateDocID(docID); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_document_id", err.Error())
		return
	}
	if !a.allowOrigin(w, r) {
		return
	}
	info := qsync.SessionInfo{RemoteAddr: r.RemoteAddr}
	var refuse qsync.CloseReason
	var refuseDetail string
	if a.cfg.REST != nil {
		// Same rules as the REST API: the admin key, or a share token of
		// this document (?token=); a viewer token gives a read-only session.
		access, err := a.cfg.REST.Authorize(r.Context(), docID, RequestToken(r))
		switch {
		case errors.Is(err, ErrUnauthorized):
			refuse, refuseDetail = qsync.Unauthorized, err.Error()
		case errors.Is(err, ErrForbidden):
			refuse, refuseDetail = qsync.Forbidden, err.Error()
		case err != nil:
			a.log.Error("websocket authorization failed", "doc", docID, "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "could not check the token; try again")
			return
		case access == AccessViewer:
			info.ReadOnly = true
		}
	}
	conn, ok := a.upgrade(w, r)
	if !ok {
		return
	}
	// The session runs on a fresh goroutine and this handler returns: the
	// handler's goroutine has grown a deep stack parsing the request, and
	// the request itself would stay referenced. A new goroutine starts
	// small, which roughly halves the memory an idle connection holds.
	// (net/http does not track hijacked connections, so returning is fine.)
	if refuse != 0 {
		// Refused after the upgrade, with a close code: browsers hide HTTP
		// statuses from WebSocket clients, and 4401/4403 stop y-websocket
		// from retrying.
		go a.hub.Refuse(conn, refuse, refuseDetail, info)
		return
	}
	go a.hub.Serve(context.Background(), docID, conn, info)
}

// allowOrigin refuses, with 403 and a JSON body, a WebSocket from an
// origin the configuration does not allow.
func (a *api) allowOrigin(w http.ResponseWriter, r *http.Request) bool {
	if a.origins.allows(r) {
		return true
	}
	a.log.Warn("websocket origin refused", "origin", r.Header.Get("Origin"), "host", r.Host, "remote", r.RemoteAddr)
	writeError(w, http.StatusForbidden, "origin_not_allowed",
		fmt.Sprintf("origin %q may not open WebSockets here; add it to --allowed-origins", r.Header.Get("Origin")))
	return false
}

// upgrade accepts a WebSocket whose origin allowOrigin has passed, with
// the configured read limit; on failure the HTTP error is written.
func (a *api) upgrade(w http.ResponseWriter, r *http.Request) (wsConn, bool) {
	conn, err := acceptWS(w, r)
	if err != nil {
		a.log.Info("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return wsConn{}, false
	}
	conn.c.SetReadLimit(a.cfg.MaxMessageBytes)
	return conn, true
}

// acceptWS upgrades r to a WebSocket with our buffers and frameWriter
// (see hijackCapture). It skips coder/websocket's origin check: callers
// check origins with their own rules.
func acceptWS(w http.ResponseWriter, r *http.Request) (wsConn, error) {
	hw := &hijackCapture{ResponseWriter: w}
	c, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return wsConn{}, err // Accept wrote the HTTP error
	}
	return wsConn{c: c, fw: hw.fw}, nil
}

// hijackCapture keeps the raw connection coder/websocket hijacks, so that
// CloseNow can cut it even while a close handshake is waiting on a peer
// that does not answer (coder/websocket's own CloseNow waits for it).
//
// It also swaps net/http's 4 KiB read and write buffers for small ones:
// they live as long as the connection, and idle connections are the common
// case. Messages bigger than the read buffer bypass it, so this costs at
// most one extra syscall for a large message. Under the write buffer sits
// the frameWriter that writes every data frame itself (see there).
type hijackCapture struct {
	http.ResponseWriter
	fw *frameWriter // set by Hijack
}

// wsBufferSize is the size of each connection's read buffer.
const wsBufferSize = 1024

// wsWriteBufferSize is the size of the write buffer coder/websocket gets:
// only its control frames go through it (at most 127 bytes from a server),
// and frameWriter relies on each fitting it whole.
const wsWriteBufferSize = 256

func (h *hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	if err := brw.Writer.Flush(); err != nil {
		return c, brw, err
	}
	r := brw.Reader
	if r.Buffered() == 0 {
		// Nothing read ahead (clients wait for the 101): a fresh small
		// reader loses nothing.
		r = bufio.NewReaderSize(c, wsBufferSize)
	}
	h.fw = newFrameWriter(c)
	return c, bufio.NewReadWriter(r, bufio.NewWriterSize(h.fw, wsWriteBufferSize)), nil
}

// frameWriter owns the bytes written to one WebSocket's TCP connection.
// The session's data frames are framed here and written straight to the
// socket, a whole backlog in one write: coder/websocket's write path (a
// channel lock, a message writer, a flush per frame) costs about as much
// as the syscall again, and takes one syscall per message, while on
// loopback and LANs the syscall is most of what a message costs (about
// 7 µs of CPU for a small write on the reference machine, whether it
// carries one frame or four). coder/websocket still writes the control
// frames (pings, pongs, close) through the buffer above this writer; each
// arrives here whole, in one Write, because it fits that buffer and is
// flushed at its end, so the mutex keeps frames from interleaving.
//
// tryWrite lets the room put a message on an idle connection's socket
// itself, without waiting and without a goroutine; what the socket does
// not take is kept in pending and goes first in the next write.
type frameWriter struct {
	conn   net.Conn
	raw    syscall.RawConn // nil: no non-blocking attempts
	closed atomic.Bool     // a close frame was sent or the socket cut: no more data frames

	mu      gosync.Mutex
	pending []byte // bytes of accepted frames not yet on the wire
}

func newFrameWriter(c net.Conn) *frameWriter {
	w := &frameWriter{conn: c}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	return w
}

// frameBufs recycles write buffers: a connection holds none while idle.
var frameBufs = gosync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledFrameBuf keeps one huge write from pinning its buffer in the pool.
const maxPooledFrameBuf = 64 << 10

// maxTryWrite bounds the messages the room writes itself; bigger ones go
// through the session's writer goroutine.
const maxTryWrite = 16 << 10

// appendFrame appends msg as one unmasked, final binary frame (RFC 6455 §5.2).
func appendFrame(b, msg []byte) []byte {
	const finBinary = 0x82
	switch n := len(msg); {
	case n <= 125:
		b = append(b, finBinary, byte(n))
	case n <= 0xffff:
		b = append(b, finBinary, 126, byte(n>>8), byte(n))
	default:
		b = append(b, finBinary, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, msg...)
}

func getFrameBuf() *[]byte { return frameBufs.Get().(*[]byte) }

func putFrameBuf(buf *[]byte, b []byte) {
	if cap(b) <= maxPooledFrameBuf {
		*buf = b[:0]
		frameBufs.Put(buf)
	}
}

// Write is coder/websocket's path (control frames only: wsConn sends every
// data frame through writeAll); kept bytes of an accepted frame go first.
func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) > 0 && p[0]&0x0f == 0x8 {
		// coder/websocket sends close frames of its own too (1009, 1002,
		// the reply to the peer's): no data frame may follow one.
		w.closed.Store(true)
	}
	if len(w.pending) > 0 {
		_, err := w.conn.Write(w.pending)
		w.pending = nil
		if err != nil {
			return 0, err
		}
	}
	return w.conn.Write(p)
}

// writeAll writes kept bytes and msgs as frames in one write, blocking
// until they are out or deadline passes. The deadline is set on the socket
// under the mutex and cleared after, so writers sharing the socket
// (Hocuspocus documents) each get their own, and a control frame written
// later by coder/websocket never meets a stale one.
func (w *frameWriter) writeAll(deadline time.Time, msgs [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return net.ErrClosed
	}
	if err := w.conn.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	defer func() { _ = w.conn.SetWriteDeadline(time.Time{}) }()
	buf := getFrameBuf()
	b := append((*buf)[:0], w.pending...)
	w.pending = nil
	for _, m := range msgs {
		b = appendFrame(b, m)
	}
	var err error
	if len(b) > 0 {
		_, err = w.conn.Write(b)
	}
	putFrameBuf(buf, b)
	return err
}

// tryWrite writes msg as a frame if the socket takes it without waiting.
// accepted: msg is the writer's now, all on the wire, or partly, with the
// rest kept (then flush is set: a writeAll must follow). Not accepted:
// nothing was written (the socket is full, another write is in progress,
// or msg is big); send it with writeAll.
func (w *frameWriter) tryWrite(msg []byte) (accepted, flush bool, err error) {
	if w.raw == nil || len(msg) > maxTryWrite || !w.mu.TryLock() {
		return false, false, nil
	}
	defer w.mu.Unlock()
	if w.closed.Load() {
		return false, false, net.ErrClosed
	}
	if len(w.pending) > 0 {
		return false, false, nil
	}
	buf := getFrameBuf()
	b := appendFrame((*buf)[:0], msg)
	defer putFrameBuf(buf, b)
	var n int
	var werr error
	cerr := w.raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true // one attempt: never wait for the socket here
			}
		}
	})
	switch {
	case cerr != nil:
		return false, false, cerr
	case werr == syscall.EAGAIN || (werr == nil && n <= 0):
		return false, false, nil
	case werr != nil:
		return false, false, werr
	case n < len(b):
		w.pending = append([]byte(nil), b[n:]...)
		return true, true, nil
	}
	return true, false, nil
}

// markClosed refuses data frames from now on. It does not wait for a
// write in progress: CloseNow uses it to cut a stuck one.
func (w *frameWriter) markClosed() { w.closed.Store(true) }

// wsConn adapts a coder/websocket connection to sync.Conn.
type wsConn struct {
	c  *websocket.Conn
	fw *frameWriter // under c's write buffer, on the hijacked connection; writes data frames itself
}

var (
	_ qsync.Conn        = wsConn{}
	_ qsync.BatchWriter = wsConn{}
	_ qsync.TryWriter   = wsConn{}
)

func (w wsConn) Read(ctx context.Context) ([]byte, error) {
	typ, b, err := w.c.Read(ctx)
	if err != nil {
		switch {
		case errors.Is(err, websocket.ErrMessageTooBig):
			return nil, fmt.Errorf("%w: %w", qsync.ErrMessageTooBig, err)
		case websocket.CloseStatus(err) != -1:
			return nil, fmt.Errorf("%w: %w", qsync.ErrPeerClosed, err)
		}
		return nil, err
	}
	if typ != websocket.MessageBinary {
		return nil, qsync.ErrNotBinary
	}
	return b, nil
}

// Write sends one message by the context's deadline (its cancellation is
// not watched: callers bound writes by deadlines). It takes the same path
// as WriteAll: once data frames bypass coder/websocket, all of them must,
// or a frame of ours could land between the pieces of one of its own.
func (w wsConn) Write(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	return w.WriteAll(deadline, [][]byte{msg})
}

// WriteAll sends msgs in order in one write, failing if they are not on
// the wire by deadline. The deadline is set on the socket rather than
// through a context: coder/websocket arms a timer and a callback for every
// write with a context that can end.
func (w wsConn) WriteAll(deadline time.Time, msgs [][]byte) error {
	if err := w.fw.writeAll(deadline, msgs); err != nil {
		return fmt.Errorf("failed to write frames: %w", err)
	}
	return nil
}

// TryWrite implements sync.TryWriter.
func (w wsConn) TryWrite(msg []byte) (accepted, flush bool, err error) {
	return w.fw.tryWrite(msg)
}

func (w wsConn) Ping(ctx context.Context) error { return w.c.Ping(ctx) }

func (w wsConn) Close(code int, reason string) error {
	w.fw.markClosed()
	return w.c.Close(websocket.StatusCode(code), reason)
}

func (w wsConn) CloseNow() error {
	w.fw.markClosed()
	_ = w.fw.conn.Close() // unblocks a close handshake in progress
	return w.c.CloseNow()
}
