package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/quire/quire/storage"
)

// Access is what a request's credentials allow on one document.
type Access int

// Access levels, each including the ones before it.
const (
	AccessNone   Access = iota
	AccessViewer        // read content and versions
	AccessEditor        // also edit content, rename, name and restore versions
	AccessAdmin         // everything: create, list, delete, share
)

// ErrUnauthorized and ErrForbidden are what Authorize returns (wrapped)
// for missing or bad credentials, and for credentials that do not reach.
var (
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
)

// RequestToken is the credential a request carries: "Authorization:
// Bearer <token>" or, for links and WebSockets, "?token=".
func RequestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
	}
	return r.URL.Query().Get("token")
}

// Authorize says what token allows on document docID ("" for requests not
// about one document). Without an admin key configured, everyone is admin.
// The WebSocket endpoint can use it too: a viewer token gives a read-only
// session.
func (a *REST) Authorize(ctx context.Context, docID, token string) (Access, error) {
	if a.adminKey == "" {
		return AccessAdmin, nil
	}
	if token == "" {
		return AccessNone, fmt.Errorf("%w: send a token (Authorization: Bearer <token>, or ?token=)", ErrUnauthorized)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(a.adminKey)) == 1 {
		return AccessAdmin, nil
	}
	st, err := a.store.LookupShareToken(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		return AccessNone, fmt.Errorf("%w: the token is not valid; ask for a new share link", ErrUnauthorized)
	}
	if err != nil {
		return AccessNone, err
	}
	switch {
	case st.Revoked:
		return AccessNone, fmt.Errorf("%w: this share link was revoked; ask for a new one", ErrUnauthorized)
	case !st.ExpiresAt.IsZero() && time.Now().After(st.ExpiresAt):
		return AccessNone, fmt.Errorf("%w: this share link expired at %s; ask for a new one", ErrUnauthorized, st.ExpiresAt.UTC().Format(time.RFC3339))
	case docID == "" || st.DocID != docID:
		return AccessNone, fmt.Errorf("%w: a share link only opens its own document; this request needs the API key", ErrForbidden)
	case st.Role == storage.RoleEditor:
		return AccessEditor, nil
	}
	return AccessViewer, nil
}

// guard wraps a handler with the access it needs on the {id} document.
func (a *REST) guard(need Access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, err := a.Authorize(r.Context(), r.PathValue("id"), RequestToken(r))
		if err == nil && got < need {
			err = fmt.Errorf("%w: this token allows %s here; this request needs %s", ErrForbidden, got, need)
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), accessKey{}, got)))
	}
}

type accessKey struct{}

// requestAccess is what guard found the request's credentials allow.
func requestAccess(r *http.Request) Access {
	got, _ := r.Context().Value(accessKey{}).(Access)
	return got
}

// Role names the access as documents report it ("role"): admin, editor,
// viewer, or "" for none.
func (x Access) Role() string {
	switch x {
	case AccessViewer:
		return string(storage.RoleViewer)
	case AccessEditor:
		return string(storage.RoleEditor)
	case AccessAdmin:
		return "admin"
	}
	return ""
}

func (x Access) String() string {
	switch x {
	case AccessViewer:
		return "viewing"
	case AccessEditor:
		return "editing"
	case AccessAdmin:
		return "admin access (the API key)"
	}
	return "nothing"
}

type shareJSON struct {
	ID        string  `json:"id"`
	Token     string  `json:"token,omitempty"` // only when created: the secret is not stored
	Role      string  `json:"role"`
	CreatedAt string  `json:"created_at"`
	ExpiresAt *string `json:"expires_at"`
	Revoked   bool    `json:"revoked"`
	URL       string  `json:"url,omitempty"`
}

func shareView(t storage.ShareToken) shareJSON {
	s := shareJSON{ID: t.ID, Role: string(t.Role), CreatedAt: t.Created.UTC().Format(time.RFC3339), Revoked: t.Revoked}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt.UTC().Format(time.RFC3339)
		s.ExpiresAt = &e
	}
	return s
}

type createShareRequest struct {
	Role             *string `json:"role"`
	ExpiresInSeconds *int64  `json:"expires_in_seconds"`
}

// maxShareLifetime bounds expires_in_seconds (ten years).
const maxShareLifetime = 10 * 365 * 24 * time.Hour

func (a *REST) createShare(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req createShareRequest
	if err := a.readJSON(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	role := storage.RoleViewer
	if req.Role != nil {
		role = storage.Role(*req.Role)
	}
	if role != storage.RoleViewer && role != storage.RoleEditor {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_field", "field \"role\" is %q; use viewer or editor", role))
		return
	}
	now := time.Now().UTC()
	t := storage.ShareToken{ID: uuid.NewString(), DocID: id, Role: role, Created: now}
	if req.ExpiresInSeconds != nil {
		secs := *req.ExpiresInSeconds
		if secs <= 0 || time.Duration(secs)*time.Second > maxShareLifetime {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_field", "field \"expires_in_seconds\" must be from 1 to %d (leave it out for a link that does not expire)", int64(maxShareLifetime/time.Second)))
			return
		}
		t.ExpiresAt = now.Add(time.Duration(secs) * time.Second)
	}
	secret, err := newSecret()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.store.CreateShareToken(r.Context(), t, secret); err != nil {
		a.fail(w, r, err)
		return
	}
	a.hooks.emit(EventShareCreated, id, map[string]any{"share_id": t.ID, "role": string(t.Role)})
	out := shareView(t)
	out.Token = secret
	out.URL = "/d/" + id + "?token=" + secret
	writeJSON(w, http.StatusCreated, out)
}

// newSecret is a share token: 32 random bytes, URL-safe.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make share token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *REST) listShares(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.store.GetDoc(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	ts, err := a.store.ListShareTokens(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]shareJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, shareView(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"shares": out})
}

func (a *REST) revokeShare(w http.ResponseWriter, r *http.Request) {
	if err := a.store.RevokeShareToken(r.Context(), r.PathValue("id"), r.PathValue("sid")); err != nil {
		a.fail(w, r, err)
		return
	}
	a.hooks.emit(EventShareRevoked, r.PathValue("id"), map[string]any{"share_id": r.PathValue("sid")})
	w.WriteHeader(http.StatusNoContent)
}
