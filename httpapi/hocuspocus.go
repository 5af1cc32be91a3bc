package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	qsync "github.com/quire/quire/sync"
)

// HocuspocusPath is where Hocuspocus providers connect: one socket, many
// documents (the provider's url is ws(s)://host/hocuspocus).
const HocuspocusPath = "/hocuspocus"

// mountHocuspocus adds the Hocuspocus endpoint to r.
func (a *api) mountHocuspocus(r chi.Router) {
	cfg := a.cfg.Hocuspocus
	if cfg.Authorize == nil && a.cfg.REST != nil {
		cfg.Authorize = restAuthorizer(a.cfg.REST)
	}
	hp := qsync.NewHocuspocus(a.hub, cfg)
	r.Get(HocuspocusPath, func(w http.ResponseWriter, req *http.Request) { a.serveHocuspocus(w, req, hp) })
}

// restAuthorizer applies the REST API's token rules to Hocuspocus
// documents, as /ws does: the admin key or an editor share token may edit,
// a viewer share token reads only. Without an admin key everyone may edit.
func restAuthorizer(rest *REST) qsync.Authorizer {
	return func(ctx context.Context, docID, token string) (qsync.Scope, error) {
		access, err := rest.Authorize(ctx, docID, token)
		switch {
		case err != nil:
			return 0, err
		case access >= AccessEditor:
			return qsync.ScopeReadWrite, nil
		case access == AccessViewer:
			return qsync.ScopeReadOnly, nil
		}
		return 0, fmt.Errorf("%w: this token gives no access to this document", ErrForbidden)
	}
}

// serveHocuspocus upgrades to a Hocuspocus socket. Authentication happens
// per document inside the protocol (each provider sends its token), so the
// upgrade itself only checks the Origin.
func (a *api) serveHocuspocus(w http.ResponseWriter, r *http.Request, hp *qsync.Hocuspocus) {
	if !a.allowOrigin(w, r) {
		return
	}
	conn, ok := a.upgrade(w, r)
	if !ok {
		return
	}
	// As for /ws: a fresh goroutine with a small stack reads the socket.
	go hp.Serve(context.Background(), conn, r.RemoteAddr)
}
