package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	qsync "github.com/quire/quire/sync"
)

// HocuspocusPath is where Hocuspocus providers connect (one socket, many
// documents; the provider's url is http(s)://host/hocuspocus).
const HocuspocusPath = "/hocuspocus"

// mountHocuspocus adds the Hocuspocus endpoint to r.
func (a *api) mountHocuspocus(r chi.Router) {
	cfg := a.cfg.Hocuspocus
	cfg.Authorize = a.cfg.Authorize
	hp := qsync.NewHocuspocus(a.hub, cfg)
	r.Get(HocuspocusPath, func(w http.ResponseWriter, req *http.Request) { a.serveHocuspocus(w, req, hp) })
}

// serveHocuspocus upgrades to a Hocuspocus socket. Authentication happens
// per document inside the protocol (each provider sends its token), so the
// upgrade itself only checks the Origin.
func (a *api) serveHocuspocus(w http.ResponseWriter, r *http.Request, hp *qsync.Hocuspocus) {
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
		return
	}
	c.SetReadLimit(a.cfg.MaxMessageBytes)
	hp.Serve(context.WithoutCancel(r.Context()), wsConn{c}, r.RemoteAddr)
}

// authorizeWS applies the shared Authorizer to a /ws request, whose token
// is "Authorization: Bearer <token>" or "?token=". Without an Authorizer
// everyone may edit.
func (a *api) authorizeWS(r *http.Request, docID string) (qsync.Scope, error) {
	if a.cfg.Authorize == nil {
		return qsync.ScopeReadWrite, nil
	}
	token := r.URL.Query().Get("token")
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = strings.TrimSpace(h)
	}
	return a.cfg.Authorize(r.Context(), docID, token)
}

// refuseWS closes an accepted /ws socket whose token was refused: 4403
// when the token is valid but not for this document, else 4401. Both are
// final for y-websocket clients.
func refuseWS(c *websocket.Conn, err error) {
	reason := qsync.Unauthorized
	if errors.Is(err, qsync.ErrForbidden) {
		reason = qsync.Forbidden
	}
	text := err.Error()
	if len(text) > 120 {
		text = text[:120]
	}
	_ = c.Close(websocket.StatusCode(reason.Code()), text)
}
