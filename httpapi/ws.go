package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

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
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the origin was checked above, with our own rules
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		a.log.Info("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return // Accept wrote the HTTP error
	}
	c.SetReadLimit(a.cfg.MaxMessageBytes)
	scope, err := a.authorizeWS(r, docID)
	if err != nil {
		a.log.Info("websocket token refused", "doc", docID, "remote", r.RemoteAddr, "err", err)
		refuseWS(c, err)
		return
	}
	// The session outlives nothing the request context guards; hijacked
	// connections are never cancelled by the server anyway.
	ctx := context.WithoutCancel(r.Context())
	a.hub.Serve(ctx, docID, wsConn{c}, qsync.SessionInfo{RemoteAddr: r.RemoteAddr, ReadOnly: scope == qsync.ScopeReadOnly})
}

// wsConn adapts a coder/websocket connection to sync.Conn.
type wsConn struct{ c *websocket.Conn }

var _ qsync.Conn = wsConn{}

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

func (w wsConn) Ping(ctx context.Context) error { return w.c.Ping(ctx) }

func (w wsConn) Close(code int, reason string) error {
	return w.c.Close(websocket.StatusCode(code), reason)
}

func (w wsConn) CloseNow() error { return w.c.CloseNow() }
