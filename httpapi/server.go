package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quire/quire/storage"
	qsync "github.com/quire/quire/sync"
)

// Config wires the HTTP surface to the rest of Quire.
type Config struct {
	Hub    *qsync.Hub    // required
	Store  storage.Store // required
	Logger *slog.Logger
	// Gatherer is served at /metrics (nil: no /metrics route).
	Gatherer prometheus.Gatherer
	// AllowedOrigins may open WebSockets besides the same origin and
	// loopback origins: full origins ("https://app.example.com"), host
	// patterns ("*.example.com"), or "*" for any.
	AllowedOrigins []string
	// MaxMessageBytes is the largest WebSocket message accepted; larger
	// ones close the connection with 1009. Default 16 MiB.
	MaxMessageBytes int64
	// Frontend serves every path no API route takes (nil: 404).
	Frontend http.Handler
	// REST serves the document API under /api/v1 (nil: not served).
	REST *REST
	// Hocuspocus tunes /hocuspocus; its Authorize comes from REST (the
	// same rules as /ws) when that is set.
	Hocuspocus qsync.HocuspocusConfig
}

// DefaultMaxMessageBytes is the default WebSocket message limit: big enough
// for the first sync of a large document.
const DefaultMaxMessageBytes = 16 << 20

// NewHandler returns Quire's HTTP handler.
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	a := &api{cfg: cfg, hub: cfg.Hub, log: cfg.Logger, origins: newOriginPolicy(cfg.AllowedOrigins)}

	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	// No Timeout middleware anywhere near the WebSocket routes: their
	// handlers run for the whole session.
	r.Get("/healthz", a.healthz)
	r.Get("/readyz", a.readyz)
	if cfg.Gatherer != nil {
		r.Handle("/metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	r.Get("/ws/*", a.serveWS)
	a.mountHocuspocus(r)
	if cfg.REST != nil {
		MountREST(r, cfg.REST)
	}
	if cfg.Frontend != nil {
		r.Handle("/*", cfg.Frontend)
	}
	return r
}

type api struct {
	cfg     Config
	hub     *qsync.Hub
	log     *slog.Logger
	origins originPolicy
}

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (a *api) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := a.hub.Ready(); err != nil {
		writeError(w, http.StatusServiceUnavailable, "not_ready", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ready\n"))
}

// writeError writes Quire's JSON error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
