// Command quire-load simulates many Yjs editors over real WebSockets against
// a Quire server (or any y-websocket server) on this machine, and reports
// edit-to-remote-observation latency, delivered versus expected updates,
// diverged documents, and the CPU and memory of the server and of itself.
//
// Each simulated editor connects to <url>/<doc>, syncs (sync step 1/2), then
// appends tokens "<client>.<seq>.<micros>;" to its own run of the Y.Text "t"
// at Poisson intervals (-rate edits/s). It builds each update's bytes itself
// (one Yjs Item with a ContentString, chained after its own last character)
// and keeps no document. Other editors of the document find the tokens in
// the updates they receive and record the latency; after a drain, a fresh
// connection per document fetches the server's whole state and checks that
// every token sent is there exactly once, in order, and nothing else.
//
// Usage:
//
//	quire-load -url ws://127.0.0.1:8080/ws -docs 100 -clients 10 -rate 2 -duration 30s -server-pid $PID
//	quire-load -idle -docs 500 -clients 10 -duration 20s -server-pid $PID
//
// Every flag has an environment equivalent: QUIRE_LOAD_ plus the flag name in
// upper case with dashes as underscores (QUIRE_LOAD_SERVER_PID). Only
// loopback servers are accepted. The exit status is 1 when anything was
// lost, duplicated, diverged or failed to connect, 2 on bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// config is every setting of a run.
type config struct {
	url            string
	protocol       string
	token          string
	docs           int
	clients        int
	rate           float64
	duration       time.Duration
	ramp           float64
	idle           bool
	settle         time.Duration
	drain          time.Duration
	serverPID      int
	jsonOut        bool
	label          string
	docPrefix      string
	seed           uint64
	shards         int
	procs          int
	connectTimeout time.Duration
	syncTimeout    time.Duration
	verifyTimeout  time.Duration
	writeTimeout   time.Duration
	readBuffer     int
	readLimit      int
	cpuProfile     string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "quire-load:", err)
		return 2
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	runtime.GOMAXPROCS(cfg.procs)
	base, err := checkURL(cfg.url)
	if err != nil {
		fmt.Fprintln(stderr, "quire-load:", err)
		return 2
	}
	proto, err := newProtocol(cfg.protocol, cfg.token)
	if err != nil {
		fmt.Fprintln(stderr, "quire-load:", err)
		return 2
	}
	if limit, err := raiseFileLimit(); err != nil {
		slog.Warn("could not raise the open-file limit", "err", err)
	} else if need := uint64(cfg.docs*cfg.clients) + 64; limit < need {
		fmt.Fprintf(stderr, "quire-load: %d connections need about %d file descriptors; the limit is %d\n", cfg.docs*cfg.clients, need, limit)
		return 2
	}
	if cfg.serverPID != 0 {
		if _, err := sampleProc(cfg.serverPID); err != nil {
			fmt.Fprintln(stderr, "quire-load: -server-pid:", err)
			return 2
		}
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "quire-load: -cpuprofile:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "quire-load: -cpuprofile:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep := execute(ctx, cfg, proto, base)
	if cfg.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		writeTable(stdout, rep)
	}
	if !rep.OK {
		return 1
	}
	return 0
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("quire-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "ws://127.0.0.1:8080/ws", "WebSocket base URL; editors of document D connect to <url>/D (loopback only)")
	fs.StringVar(&cfg.protocol, "protocol", "ywebsocket", "wire protocol: ywebsocket (-url ws://host/ws), or hocuspocus (-url ws://host/hocuspocus; -token goes in its Auth message)")
	fs.StringVar(&cfg.token, "token", "", "access token sent as ?token=")
	fs.IntVar(&cfg.docs, "docs", 10, "number of documents")
	fs.IntVar(&cfg.clients, "clients", 5, "simulated editors per document")
	fs.Float64Var(&cfg.rate, "rate", 1, "edits per second per editor (fractional allowed)")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long to edit (or, with -idle, to hold the connections)")
	fs.Float64Var(&cfg.ramp, "ramp", 1000, "new connections per second")
	fs.BoolVar(&cfg.idle, "idle", false, "connect and sync, then stay idle: measures server memory per idle connection")
	fs.DurationVar(&cfg.settle, "settle", 3*time.Second, "with -idle: wait after connecting before measuring memory")
	fs.DurationVar(&cfg.drain, "drain", 15*time.Second, "after editing, how long to wait for outstanding deliveries")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "pid of the server process (Go or Node) to sample CPU and RSS from /proc")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&cfg.label, "label", "", "name of the server under test, shown in the report")
	fs.StringVar(&cfg.docPrefix, "doc-prefix", "", "document name prefix (default: load-<random>, fresh documents each run)")
	fs.Uint64Var(&cfg.seed, "seed", 0, "random seed for edit timing (default: random)")
	fs.IntVar(&cfg.shards, "shards", 4, "goroutines that schedule and send edits")
	fs.IntVar(&cfg.procs, "procs", runtime.NumCPU(), "CPU cores the tool may use (GOMAXPROCS); fewer costs less CPU per update, but on a busy machine the tool then falls behind reading and inflates latency")
	fs.DurationVar(&cfg.connectTimeout, "connect-timeout", 10*time.Second, "per-connection handshake timeout")
	fs.DurationVar(&cfg.syncTimeout, "sync-timeout", 30*time.Second, "how long to wait for every connection's first sync")
	fs.DurationVar(&cfg.verifyTimeout, "verify-timeout", 30*time.Second, "how long fetching one document's final state may take")
	fs.DurationVar(&cfg.writeTimeout, "write-timeout", 10*time.Second, "a write blocked this long fails the connection")
	fs.IntVar(&cfg.readBuffer, "read-buffer", 1024, "bytes of read buffer per connection")
	fs.IntVar(&cfg.readLimit, "read-limit", 64<<20, "largest message accepted, bytes")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write the tool's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "QUIRE_LOAD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !set[f.Name] && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	switch {
	case cfg.docs < 1:
		return cfg, fmt.Errorf("-docs must be at least 1")
	case cfg.clients < 1:
		return cfg, fmt.Errorf("-clients must be at least 1")
	case !cfg.idle && cfg.clients < 2:
		return cfg, fmt.Errorf("-clients must be at least 2 to observe edits (or use -idle)")
	case !cfg.idle && !(cfg.rate > 0):
		return cfg, fmt.Errorf("-rate must be positive")
	case cfg.duration <= 0:
		return cfg, fmt.Errorf("-duration must be positive")
	case !(cfg.ramp > 0):
		return cfg, fmt.Errorf("-ramp must be positive")
	case cfg.shards < 1:
		return cfg, fmt.Errorf("-shards must be at least 1")
	case cfg.procs < 1:
		return cfg, fmt.Errorf("-procs must be at least 1")
	case cfg.readBuffer < 64 || cfg.readLimit < 1024:
		return cfg, fmt.Errorf("-read-buffer must be at least 64 and -read-limit at least 1024")
	}
	if cfg.docPrefix == "" {
		cfg.docPrefix = fmt.Sprintf("load-%08x", rand.Uint32())
	}
	if cfg.seed == 0 {
		cfg.seed = rand.Uint64()
	}
	if cfg.label == "" {
		cfg.label = cfg.url
	}
	return cfg, nil
}

// checkURL parses the base URL and refuses anything but a loopback host:
// the tool is meant to load a server on this machine, never someone else's.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url %q: %w", raw, err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("-url %q: scheme must be ws", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("-url %q: only loopback hosts (127.0.0.0/8, ::1, localhost) are allowed", raw)
	}
	return u, nil
}

// execute runs the whole load session and builds its report.
func execute(ctx context.Context, cfg config, proto protocol, base *url.URL) report {
	r := newRunner(cfg, proto, base)
	rep := newReport(cfg)
	srv := newProcWatch(cfg.serverPID)
	self := newProcWatch(os.Getpid())
	srv.mark("start")
	self.mark("start")
	slog.Info("starting", "label", cfg.label, "connections", cfg.docs*cfg.clients, "docs", cfg.docs,
		"clients", cfg.clients, "rate", cfg.rate, "idle", cfg.idle, "doc_prefix", cfg.docPrefix)

	rep.Connect.Seconds = r.connectAll(ctx).Seconds()
	srv.mark("connected")
	self.mark("connected")

	if cfg.idle {
		sleepCtx(ctx, cfg.settle)
		srv.mark("settled")
		self.mark("settled")
		sleepCtx(ctx, cfg.duration)
		srv.mark("end")
		self.mark("end")
	} else {
		editStart := time.Now()
		r.editPhase(ctx)
		rep.Edits.Seconds = time.Since(editStart).Seconds()
		drained, delivered := r.drain(ctx)
		rep.DrainSeconds = drained.Seconds()
		rep.DeliveredAtDrainEnd = delivered
		srv.mark("end")
		self.mark("end")
		verify := r.verifyAll(ctx)
		rep.Verify = &verify
	}
	r.closeAll()
	rep.fill(r, srv, self)
	return rep
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
