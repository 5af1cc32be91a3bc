package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	conn := wsConn{c: c, raw: hw.conn}
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
// extra syscall for a large message.
type hijackCapture struct {
	http.ResponseWriter
	conn net.Conn
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
	return c, bufio.NewReadWriter(r, bufio.NewWriterSize(c, wsBufferSize)), nil
}

// wsConn adapts a coder/websocket connection to sync.Conn.
type wsConn struct {
	c   *websocket.Conn
	raw net.Conn // the hijacked TCP connection
}

var (
	_ qsync.Conn           = wsConn{}
	_ qsync.DeadlineWriter = wsConn{}
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

func (w wsConn) Write(ctx context.Context, msg []byte) error {
	return w.c.Write(ctx, websocket.MessageBinary, msg)
}

// WriteBy is Write bounded by a deadline on the socket instead of a
// context: coder/websocket arms a timer and a callback for every write with
// a context that can end, and a session writes once per broadcast. The
// deadline is cleared after the write, so that a close frame sent later is
// not refused by a stale one.
func (w wsConn) WriteBy(deadline time.Time, msg []byte) error {
	if w.raw == nil {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		return w.Write(ctx, msg)
	}
	if err := w.raw.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	err := w.c.Write(context.Background(), websocket.MessageBinary, msg)
	_ = w.raw.SetWriteDeadline(time.Time{})
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
