package httpapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/quire/quire/storage"
)

// REST is Quire's document API under /api/v1 (see the README's REST
// section). It translates HTTP into calls on storage and on the live
// rooms; it holds no document state of its own.
type REST struct {
	store        storage.Store
	rooms        Rooms
	editors      func(docID string) int
	closeDeleted func(ctx context.Context, docID string) error
	unavailable  func(error) bool
	adminKey     string
	hooks        *webhooks
	log          *slog.Logger
	maxBody      int64
	version      string
	mux          *http.ServeMux
}

// RESTConfig configures the REST API.
type RESTConfig struct {
	Store storage.Store
	Rooms Rooms // required: *sync.Hub
	// CloseDeleted ends the live sessions of a deleted document, e.g.
	// hub.CloseDoc(ctx, id, sync.DocumentDeleted) (nil: nothing to close).
	CloseDeleted func(ctx context.Context, docID string) error
	// Unavailable reports errors from Rooms that mean "try again later"
	// (the hub shutting down): they get 503 instead of 500.
	Unavailable func(error) bool
	// Editors counts a document's connected sessions (nil: always 0).
	Editors func(docID string) int
	// AdminKey, when set, is required (Authorization: Bearer, or ?token=)
	// for everything except GET /info, unless a share token grants the
	// request; empty: no authentication.
	AdminKey string
	// Webhooks receive an event for each change made through the API.
	Webhooks WebhookConfig
	// MaxBodyBytes bounds request bodies (imports); larger ones get 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	Version      string       // reported by GET /api/v1/info
	Logger       *slog.Logger // nil: slog.Default()
}

// DefaultMaxBodyBytes is the request body limit when none is configured.
const DefaultMaxBodyBytes = 16 << 20

// RESTPrefix is where MountREST puts the API.
const RESTPrefix = "/api/v1"

// DocumentChanged tells the webhooks that a document's content changed
// and is durable (sync.Config.Changed). It never blocks.
func (a *REST) DocumentChanged(docID string) { a.hooks.changed(docID) }

// NewREST builds the REST API; serve it under RESTPrefix with MountREST.
func NewREST(cfg RESTConfig) *REST {
	a := &REST{store: cfg.Store, rooms: cfg.Rooms, editors: cfg.Editors, closeDeleted: cfg.CloseDeleted, unavailable: cfg.Unavailable, adminKey: cfg.AdminKey, log: cfg.Logger, maxBody: cfg.MaxBodyBytes, version: cfg.Version}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	if a.version == "" {
		a.version = "dev"
	}
	a.hooks = newWebhooks(cfg.Webhooks, a.log)
	m := http.NewServeMux()
	for _, rt := range a.routes() {
		h := rt.handler
		if rt.access != AccessNone {
			h = a.guard(rt.access, h)
		}
		m.HandleFunc(rt.method+" "+RESTPrefix+rt.path, h)
	}
	p := RESTPrefix
	m.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		restError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no API endpoint %s %s; see the REST section of the README", r.Method, r.URL.Path))
	})
	a.mux = m
	return a
}

// Close stops webhook delivery after one last try of the events queued
// (call it after the HTTP server has stopped).
func (a *REST) Close(ctx context.Context) error { return a.hooks.close(ctx) }

// ServeHTTP serves requests whose path starts with RESTPrefix.
func (a *REST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// ServeMux answers a known path with the wrong method by a plain-text
	// 405; the API answers in JSON.
	if _, pattern := a.mux.Handler(r); pattern == RESTPrefix+"/" {
		if allowed := a.allowedMethods(r); allowed != "" {
			w.Header().Set("Allow", allowed)
			restError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, allowed))
			return
		}
	}
	a.mux.ServeHTTP(w, r)
}

func (a *REST) allowedMethods(r *http.Request) string {
	var ok []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" && pattern != RESTPrefix+"/" {
			ok = append(ok, m)
		}
	}
	return strings.Join(ok, ", ")
}

type restRoute struct {
	method, path string // path below RESTPrefix
	access       Access // needed on the {id} document; AccessNone: open
	handler      http.HandlerFunc
}

// routes lists the API; rest_openapi.json describes the same set (a test
// checks).
func (a *REST) routes() []restRoute {
	return []restRoute{
		{"GET", "/info", AccessNone, a.info},
		{"GET", "/openapi.json", AccessNone, a.openAPI},
		{"POST", "/docs", AccessAdmin, a.createDoc},
		{"GET", "/docs", AccessAdmin, a.listDocs},
		{"GET", "/docs/{id}", AccessViewer, a.getDoc},
		{"PATCH", "/docs/{id}", AccessEditor, a.renameDoc},
		{"DELETE", "/docs/{id}", AccessAdmin, a.deleteDoc},
		{"GET", "/docs/{id}/content", AccessViewer, a.getContent},
		{"PUT", "/docs/{id}/content", AccessEditor, a.putContent},
		{"POST", "/docs/{id}/versions", AccessEditor, a.createVersion},
		{"GET", "/docs/{id}/versions", AccessViewer, a.listVersions},
		{"GET", "/docs/{id}/versions/{vid}/content", AccessViewer, a.getVersionContent},
		{"POST", "/docs/{id}/versions/{vid}/restore", AccessEditor, a.restoreVersion},
		{"POST", "/docs/{id}/shares", AccessAdmin, a.createShare},
		{"GET", "/docs/{id}/shares", AccessAdmin, a.listShares},
		{"DELETE", "/docs/{id}/shares/{sid}", AccessAdmin, a.revokeShare},
	}
}

//go:embed rest_openapi.json
var openAPISpec []byte

func (a *REST) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(openAPISpec)
}

// Mounter is a router that serves a handler for a path and everything
// under it; chi.Router is one.
type Mounter interface {
	Mount(pattern string, h http.Handler)
}

// MountREST serves the REST API under /api/v1 of a chi router. With an
// http.ServeMux, use mux.Handle(RESTPrefix+"/", api) instead.
func MountREST(r Mounter, api *REST) {
	r.Mount(RESTPrefix, api)
}

func (a *REST) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": a.version, "auth_required": a.adminKey != ""})
}

// apiError is an error with its HTTP status and a snake_case code.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func restError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// fail answers with err: an *apiError as it is, storage's not-found as
// 404, a body over the limit as 413, anything else as a logged 500.
func (a *REST) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		restError(w, ae.status, ae.code, ae.message)
	case errors.Is(err, ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", `Bearer realm="quire"`)
		restError(w, http.StatusUnauthorized, "unauthorized", err.Error())
	case errors.Is(err, ErrForbidden):
		restError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.As(err, &tooBig):
		restError(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("the request body is over the limit of %d bytes; send less, or split the import", tooBig.Limit))
	case errors.Is(err, storage.ErrNotFound):
		restError(w, http.StatusNotFound, "not_found", "no such document (or version); check the id")
	case errors.Is(err, storage.ErrInvalid):
		restError(w, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, storage.ErrExists):
		restError(w, http.StatusConflict, "conflict", "a document with that id already exists")
	default:
		a.log.Error("rest request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		restError(w, http.StatusInternalServerError, "internal", "the server failed to handle the request; try again, and report it if it persists")
	}
}

// readJSON decodes a JSON object body into v, strictly.
func (a *REST) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as JSON (Content-Type: application/json), not %q", ct)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return errorf(http.StatusBadRequest, "invalid_field", "field %q must be a %s", typeErr.Field, typeErr.Type)
		}
		if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return errorf(http.StatusBadRequest, "invalid_field", "unknown field %s", msg)
		}
		return errorf(http.StatusBadRequest, "invalid_json", "the body is not a valid JSON object: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "invalid_json", "the body must hold one JSON object")
	}
	return nil
}

// docJSON is a document as the API shows it.
type docJSON struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	SizeBytes int64  `json:"size_bytes"`
	Editors   int    `json:"editors"`
	// Role is what the caller's credentials allow on the document
	// (admin, editor or viewer), so a client opened with a share link
	// knows whether to let its user type. Without an admin key everyone
	// is admin, as in Authorize.
	Role string `json:"role"`
}

// docView shows m to the caller of r.
func (a *REST) docView(r *http.Request, m storage.DocMeta) docJSON {
	editors := 0
	if a.editors != nil {
		editors = a.editors(m.ID)
	}
	return docJSON{
		ID:        m.ID,
		Title:     m.Title,
		CreatedAt: m.Created.UTC().Format(time.RFC3339),
		UpdatedAt: m.Updated.UTC().Format(time.RFC3339),
		SizeBytes: m.Size,
		Editors:   editors,
		Role:      requestAccess(r).Role(),
	}
}
