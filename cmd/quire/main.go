// Command quire runs the Quire collaboration server: y-websocket sessions
// on /ws/{doc}, health and metrics, the browser app, data in one bbolt file.
//
// Every flag has an environment equivalent (QUIRE_ + the flag name in upper
// case with dashes as underscores); a flag given on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quire/quire/frontend"
	"github.com/quire/quire/httpapi"
	"github.com/quire/quire/storage"
	qsync "github.com/quire/quire/sync"
)

type config struct {
	addr            string
	dataDir         string
	allowedOrigins  string
	maxMessageBytes int64
	maxBodyBytes    int64
	adminKey        string
	noAuth          bool
	webhookURLs     string
	webhookSecret   string
	createOnConnect bool
	sessionQueue    int
	roomInbox       int
	writeTimeout    time.Duration
	pingInterval    time.Duration
	pongTimeout     time.Duration
	idleTimeout     time.Duration
	compactUpdates  int
	compactBytes    int64
	compactIdle     time.Duration
	shutdownTimeout time.Duration
	// Hocuspocus endpoint keepalive and limits (sync.HocuspocusConfig).
	hpPingAfter       time.Duration
	hpIdleTimeout     time.Duration
	hpMaxPendingBytes int
	hpMaxPendingDocs  int
	logLevel          string
	logFormat         string
	debugAddr         string
	maxProcs          int
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quire:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	d := qsync.DefaultConfig
	var c config
	fs := flag.NewFlagSet("quire", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "localhost:8080", "address to listen on (host:port; port 0 picks a free port)")
	fs.StringVar(&c.dataDir, "data-dir", "./data", "directory of the database file (quire.db)")
	fs.StringVar(&c.allowedOrigins, "allowed-origins", "", "comma-separated origins allowed to open WebSockets besides same-origin and localhost (https://app.example.com, *.example.com, or *)")
	fs.Int64Var(&c.maxMessageBytes, "max-message-bytes", httpapi.DefaultMaxMessageBytes, "largest WebSocket message accepted; bigger ones close the connection with 1009")
	fs.Int64Var(&c.maxBodyBytes, "max-body-bytes", httpapi.DefaultMaxBodyBytes, "largest REST request body (imports); bigger ones get 413")
	fs.StringVar(&c.adminKey, "admin-key", "", "API key required by the REST API and WebSockets (Bearer or ?token=; share tokens also work); empty: no authentication")
	fs.BoolVar(&c.noAuth, "no-auth", false, "serve without authentication on a non-loopback address (only behind a proxy that authenticates); without it such an address needs --admin-key")
	fs.StringVar(&c.webhookURLs, "webhook-urls", "", "comma-separated URLs that receive a signed JSON POST for each REST change and, debounced per document, each content change")
	fs.StringVar(&c.webhookSecret, "webhook-secret", "", "key of the HMAC-SHA256 signature of each webhook body (header X-Quire-Signature)")
	fs.BoolVar(&c.createOnConnect, "create-on-connect", d.CreateOnConnect, "create a document when a client opens a name that does not exist")
	fs.IntVar(&c.sessionQueue, "session-queue-bytes", d.SessionQueueBytes, "bytes that may wait to be sent to one client before it is cut off as a slow consumer (4500)")
	fs.IntVar(&c.roomInbox, "room-inbox", d.InboxSize, "messages a document's inbox holds before readers wait")
	fs.DurationVar(&c.writeTimeout, "write-timeout", d.WriteTimeout, "time limit of one write to a client")
	fs.DurationVar(&c.pingInterval, "ping-interval", d.PingInterval, "ping a client that has sent nothing for this long")
	fs.DurationVar(&c.pongTimeout, "pong-timeout", d.PongTimeout, "drop a client whose pong takes longer than this")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", d.IdleTimeout, "unload a document that has had no client for this long")
	fs.IntVar(&c.compactUpdates, "compact-updates", d.CompactUpdates, "snapshot a document after this many logged updates (0: never)")
	fs.Int64Var(&c.compactBytes, "compact-bytes", d.CompactBytes, "snapshot a document after this many logged bytes (0: never)")
	fs.DurationVar(&c.compactIdle, "compact-idle", d.CompactIdle, "snapshot a document after this long without updates (0: never)")
	hd := qsync.DefaultHocuspocusConfig
	fs.DurationVar(&c.hpPingAfter, "hocuspocus-ping-after", hd.PingAfter, "send a Hocuspocus socket a Ping when nothing has been read from or written to it for this long (providers reconnect after 30 s without traffic)")
	fs.DurationVar(&c.hpIdleTimeout, "hocuspocus-idle-timeout", hd.IdleTimeout, "close a Hocuspocus socket that has sent nothing, not even a Pong, for this long (4501)")
	fs.IntVar(&c.hpMaxPendingBytes, "hocuspocus-max-pending-bytes", hd.MaxPendingBytes, "bytes a Hocuspocus socket may send for documents whose authentication is not decided yet")
	fs.IntVar(&c.hpMaxPendingDocs, "hocuspocus-max-pending-docs", hd.MaxPendingDocs, "documents a Hocuspocus socket may have waiting for authentication at once")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 20*time.Second, "time allowed for a graceful shutdown")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	fs.IntVar(&c.maxProcs, "max-procs", 0, "Go threads that run at once (GOMAXPROCS); 0: the GOMAXPROCS environment variable if set, else the CPUs available but at least 4 (see README)")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve Go's pprof profiles (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; empty: off")

	// Environment first, so command-line flags override it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "QUIRE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		f.Usage += " (env " + name + ")"
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.hpPingAfter <= 0 || c.hpIdleTimeout <= 0 || c.hpPingAfter >= c.hpIdleTimeout {
		return c, fmt.Errorf("--hocuspocus-ping-after (%v) must be positive and shorter than --hocuspocus-idle-timeout (%v), or live sockets would be closed as idle",
			c.hpPingAfter, c.hpIdleTimeout)
	}
	if c.hpMaxPendingBytes <= 0 || c.hpMaxPendingDocs <= 0 {
		return c, errors.New("--hocuspocus-max-pending-bytes and --hocuspocus-max-pending-docs must be positive")
	}
	return c, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return newLoggerAt(w, lv, format)
}

func newLoggerAt(w io.Writer, lv slog.Level, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// run serves until SIGINT or SIGTERM; logs go to logOut.
func run(args []string, logOut io.Writer) error {
	c, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := newLogger(logOut, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	raiseFileLimit(log)
	setMaxProcs(c.maxProcs, log)

	dbPath := filepath.Join(c.dataDir, "quire.db")
	store, err := storage.OpenBolt(dbPath, storage.BoltOptions{})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing store", "err", err)
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httpapi.NewMetrics(reg)
	var rest *httpapi.REST // set below, before anything is served
	hub, err := qsync.NewHub(qsync.Config{
		Store:             store,
		Logger:            log,
		Metrics:           metrics,
		CreateOnConnect:   c.createOnConnect,
		InboxSize:         c.roomInbox,
		SessionQueueBytes: c.sessionQueue,
		WriteTimeout:      c.writeTimeout,
		PingInterval:      c.pingInterval,
		PongTimeout:       c.pongTimeout,
		IdleTimeout:       c.idleTimeout,
		CompactUpdates:    c.compactUpdates,
		CompactBytes:      c.compactBytes,
		CompactIdle:       c.compactIdle,
		Changed:           func(docID string) { rest.DocumentChanged(docID) },
	})
	if err != nil {
		return err
	}
	var origins []string
	if c.allowedOrigins != "" {
		origins = strings.Split(c.allowedOrigins, ",")
	}
	var webhookURLs []string
	if c.webhookURLs != "" {
		webhookURLs = strings.Split(c.webhookURLs, ",")
	}
	rest = httpapi.NewREST(httpapi.RESTConfig{
		Store:        store,
		Rooms:        hub,
		Logger:       log,
		MaxBodyBytes: c.maxBodyBytes,
		AdminKey:     c.adminKey,
		Editors:      hub.Editors,
		CloseDeleted: func(ctx context.Context, id string) error { return hub.CloseDoc(ctx, id, qsync.DocumentDeleted) },
		Unavailable:  func(err error) bool { return errors.Is(err, qsync.ErrShuttingDown) },
		Webhooks:     httpapi.WebhookConfig{URLs: webhookURLs, Secret: c.webhookSecret},
	})
	handler := httpapi.NewHandler(httpapi.Config{
		Hub:             hub,
		Store:           store,
		Logger:          log,
		Gatherer:        reg,
		AllowedOrigins:  origins,
		MaxMessageBytes: c.maxMessageBytes,
		Frontend:        frontend.Handler(),
		REST:            rest,
		Hocuspocus: qsync.HocuspocusConfig{
			PingAfter:       c.hpPingAfter,
			IdleTimeout:     c.hpIdleTimeout,
			MaxPendingBytes: c.hpMaxPendingBytes,
			MaxPendingDocs:  c.hpMaxPendingDocs,
		},
	})

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := checkAuthForAddr(ln.Addr(), c.adminKey, c.noAuth); err != nil {
		ln.Close()
		return err
	}
	if c.adminKey == "" {
		if isLoopback(ln.Addr()) {
			log.Info("no authentication: only this machine can connect (set --admin-key to require tokens)")
		} else {
			log.Warn("authentication is off (--no-auth): anyone who can reach this address can read and edit every document", "addr", ln.Addr().String())
		}
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Signals are caught from before the address is announced, so whoever
	// reads it may signal at once.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	addr := ln.Addr().String()
	// Logged whatever the log level: scripts and tests read the address
	// from this line when they ask for port 0.
	startup, _ := newLoggerAt(logOut, slog.LevelInfo, c.logFormat)
	startup.Info("listening", "addr", addr, "url", "http://"+addr, "data", dbPath)

	if c.debugAddr != "" {
		if err := serveDebug(c.debugAddr, log); err != nil {
			ln.Close()
			return err
		}
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case err := <-serveErr:
		log.Error("server stopped", "err", err)
	}
	signal.Stop(sig)

	ctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	// Stop accepting; WebSockets are hijacked, so Shutdown does not wait
	// for them: the hub closes them with 1012 after flushing.
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := hub.Shutdown(ctx); err != nil {
		log.Error("hub shutdown incomplete", "err", err)
	}
	if err := rest.Close(ctx); err != nil {
		log.Warn("webhook delivery cut short", "err", err)
	}
	log.Info("stopped")
	return nil
}

// errAuthNeeded refuses to serve documents without authentication to a network.
var errAuthNeeded = errors.New("a non-loopback address needs --admin-key (or --no-auth to serve without authentication, e.g. behind a proxy that authenticates)")

// checkAuthForAddr makes Quire secure by default: without a token only
// loopback (laptop use) is served; any other address needs an admin key or
// the explicit --no-auth.
func checkAuthForAddr(addr net.Addr, adminKey string, noAuth bool) error {
	if adminKey != "" || noAuth {
		return nil
	}
	if isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("listening on %s: %w", addr, errAuthNeeded)
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// minDefaultProcs is the fewest Go threads run at once by default. The
// server spends much of its time in syscalls that hold a thread (fsync,
// socket writes); on a 2-CPU machine, 4 lets the goroutine that wakes up
// (a room, the committer back from fsync) run at once under the kernel's
// scheduler instead of queueing behind busy ones: p99 at 1,000 connections
// @2 edits/s went from a median of 6.9 ms to 5.3 ms (same machine, 5 runs
// each), at the same CPU.
const minDefaultProcs = 4

// setMaxProcs applies --max-procs (see minDefaultProcs).
func setMaxProcs(n int, log *slog.Logger) {
	if n <= 0 {
		if os.Getenv("GOMAXPROCS") != "" {
			return
		}
		n = max(runtime.GOMAXPROCS(0), minDefaultProcs)
	}
	runtime.GOMAXPROCS(n)
	log.Debug("go threads", "max_procs", n, "cpus", runtime.NumCPU())
}

// raiseFileLimit lifts the soft open-files limit to the hard limit: every
// WebSocket is a file descriptor.
func raiseFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("reading open-files limit", "err", err)
		return
	}
	if lim.Cur < lim.Max {
		old := lim.Cur
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("raising open-files limit", "err", err)
			return
		}
		log.Debug("raised open-files limit", "from", strconv.FormatUint(old, 10), "to", strconv.FormatUint(lim.Cur, 10))
	}
}

// serveDebug serves pprof on its own listener, never on the public one:
// profiles reveal internals and cost CPU.
func serveDebug(addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("debug listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("serving pprof", "addr", ln.Addr().String())
	go func() {
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		if err := srv.Serve(ln); err != nil {
			log.Warn("debug server stopped", "err", err)
		}
	}()
	return nil
}
