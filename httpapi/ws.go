package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	gosync "sync"
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
	if !a.origins.allows(r) {
		a.log.Warn("websocket origin refused", "origin", r.Header.Get("Origin"), "host", r.Host, "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, "origin_not_allowed",
			fmt.Sprintf("origin %q may not open WebSockets here; add it to --allowed-origins", r.Header.Get("Origin")))
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
	hw := &hijackCapture{ResponseWriter: w}
	c, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the origin was checked above, with our own rules
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		a.log.Info("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return // Accept wrote the HTTP error
	}
	c.SetReadLimit(a.cfg.MaxMessageBytes)
	// The session runs on a fresh goroutine and this handler returns: the
	// handler's goroutine has grown a deep stack parsing the request, and
	// the request itself would stay referenced. A new goroutine starts
	// small, which roughly halves the memory an idle connection holds.
	// (net/http does not track hijacked connections, so returning is fine.)
	conn := newWSConn(c, hw)
	if refuse != 0 {
		// Refused after the upgrade, with a close code: browsers hide HTTP
		// statuses from WebSocket clients, and 4401/4403 stop y-websocket
		// from retrying.
		go a.hub.Refuse(conn, refuse, refuseDetail, info)
		return
	}
	go a.hub.Serve(context.Background(), docID, conn, info)
}

// hijackCapture keeps the raw connection coder/websocket hijacks, so that
// CloseNow can cut it even while a close handshake is waiting on a peer
// that does not answer (coder/websocket's own CloseNow waits for it).
//
// It also swaps net/http's 4 KiB read and write buffers for small ones:
// they live as long as the connection, and idle connections are the common
// case. Messages bigger than a buffer bypass it, so this costs at most one
// extra syscall for a large message. Under the write buffer sits a
// corkWriter, so that a session can send several frames in one syscall.
type hijackCapture struct {
	http.ResponseWriter
	conn net.Conn
	cork *corkWriter
}

// wsBufferSize is the size of each connection's read and write buffers.
const wsBufferSize = 1024

func (h *hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	h.conn = c
	if err := brw.Writer.Flush(); err != nil {
		return c, brw, err
	}
	r := brw.Reader
	if r.Buffered() == 0 {
		// Nothing read ahead (clients wait for the 101): a fresh small
		// reader loses nothing.
		r = bufio.NewReaderSize(c, wsBufferSize)
	}
	h.cork = &corkWriter{conn: c}
	return c, bufio.NewReadWriter(r, bufio.NewWriterSize(h.cork, wsBufferSize)), nil
}

// corkWriter is the writer under coder/websocket's buffer. coder/websocket
// flushes after every frame, which is one syscall per message; while
// corked, flushed bytes are gathered instead, and uncork sends them in one
// write. On loopback and LANs the syscall, not the framing, is most of what
// a message costs the server (about 7 µs of CPU for a small write here,
// whether it carries one frame or four), so a session with a backlog sends
// it as one batch.
type corkWriter struct {
	conn net.Conn

	mu     gosync.Mutex
	corked bool
	buf    *[]byte // from corkBufs while corked
}

// corkBufs recycles batch buffers: a connection holds none while idle.
var corkBufs = gosync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledCork keeps one huge batch from pinning its buffer in the pool.
const maxPooledCork = 64 << 10

func (w *corkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.corked {
		*w.buf = append(*w.buf, p...)
		return len(p), nil
	}
	return w.conn.Write(p)
}

func (w *corkWriter) cork() {
	w.mu.Lock()
	w.corked = true
	w.buf = corkBufs.Get().(*[]byte)
	w.mu.Unlock()
}

// uncork writes what was gathered (control frames written meanwhile by
// other goroutines included) and returns to writing through.
func (w *corkWriter) uncork() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = false
	buf := w.buf
	w.buf = nil
	var err error
	if len(*buf) > 0 {
		_, err = w.conn.Write(*buf)
	}
	if cap(*buf) <= maxPooledCork {
		*buf = (*buf)[:0]
		corkBufs.Put(buf)
	}
	return err
}

// wsConn adapts a coder/websocket connection to sync.Conn.
type wsConn struct {
	c    *websocket.Conn
	raw  net.Conn    // the hijacked TCP connection
	cork *corkWriter // under c's write buffer
}

var (
	_ qsync.Conn        = wsConn{}
	_ qsync.BatchWriter = wsConn{}
)

func newWSConn(c *websocket.Conn, hw *hijackCapture) wsConn {
	return wsConn{c: c, raw: hw.conn, cork: hw.cork}
}

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

func (w wsConn) Write(ctx context.Context, msg []byte) error {
	return w.c.Write(ctx, websocket.MessageBinary, msg)
}

// WriteAll sends msgs in order, in one syscall when there are several,
// failing if they are not on the wire by deadline. The deadline is set on
// the socket rather than through a context: coder/websocket arms a timer
// and a callback for every write with a context that can end. It is
// cleared afterwards, so that a close frame sent later is not refused by a
// stale one.
func (w wsConn) WriteAll(deadline time.Time, msgs [][]byte) error {
	if w.raw == nil || w.cork == nil {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		for _, m := range msgs {
			if err := w.Write(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}
	if err := w.raw.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	defer func() { _ = w.raw.SetWriteDeadline(time.Time{}) }()
	if len(msgs) == 1 {
		return w.c.Write(context.Background(), websocket.MessageBinary, msgs[0])
	}
	w.cork.cork()
	var err error
	for _, m := range msgs {
		if err = w.c.Write(context.Background(), websocket.MessageBinary, m); err != nil {
			break
		}
	}
	if uerr := w.cork.uncork(); err == nil && uerr != nil {
		err = fmt.Errorf("failed to write frames: %w", uerr)
	}
	return err
}

func (w wsConn) Ping(ctx context.Context) error { return w.c.Ping(ctx) }

func (w wsConn) Close(code int, reason string) error {
	return w.c.Close(websocket.StatusCode(code), reason)
}

func (w wsConn) CloseNow() error {
	if w.raw != nil {
		_ = w.raw.Close() // unblocks a close handshake in progress
	}
	return w.c.CloseNow()
}
