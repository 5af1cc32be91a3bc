package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	qsync "github.com/quire/quire/sync"
)

func TestFlagsEnvAndPrecedence(t *testing.T) {
	t.Setenv("QUIRE_ADDR", "127.0.0.1:0")
	t.Setenv("QUIRE_IDLE_TIMEOUT", "5m")
	t.Setenv("QUIRE_CREATE_ON_CONNECT", "false")
	c, err := parseFlags([]string{"--idle-timeout", "7s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:0" || c.idleTimeout != 7*time.Second || c.createOnConnect {
		t.Errorf("got addr %q idle %v create %v", c.addr, c.idleTimeout, c.createOnConnect)
	}
	t.Setenv("QUIRE_PING_INTERVAL", "soon")
	if _, err := parseFlags(nil); err == nil {
		t.Error("a bad env value must be an error")
	}
}

func TestDefaults(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "localhost:8080" || c.dataDir != "./data" || !c.createOnConnect || c.maxMessageBytes != 16<<20 {
		t.Errorf("defaults: %+v", c)
	}
	if _, err := newLogger(io.Discard, "loud", "text"); err == nil {
		t.Error("bad log level accepted")
	}
	if _, err := newLogger(io.Discard, "info", "xml"); err == nil {
		t.Error("bad log format accepted")
	}
}

func TestNonLoopbackNeedsAuth(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 8080} }
	for _, tc := range []struct {
		addr     net.Addr
		adminKey string
		noAuth   bool
		refused  bool
	}{
		{tcp("127.0.0.1"), "", false, false},
		{tcp("::1"), "", false, false},
		{tcp("0.0.0.0"), "", false, true},
		{tcp("::"), "", false, true},
		{tcp("192.0.2.7"), "", false, true},
		{tcp("0.0.0.0"), "secret", false, false},
		{tcp("0.0.0.0"), "", true, false},
	} {
		err := checkAuthForAddr(tc.addr, tc.adminKey, tc.noAuth)
		if refused := errors.Is(err, errAuthNeeded); refused != tc.refused {
			t.Errorf("%v key=%q no-auth=%v: err %v, want refused=%v", tc.addr, tc.adminKey, tc.noAuth, err, tc.refused)
		}
	}
}

// The real startup path refuses to serve all interfaces without a token,
// before anything is listening for clients.
func TestRunRefusesNonLoopbackWithoutToken(t *testing.T) {
	err := run([]string{"--addr", "0.0.0.0:0", "--data-dir", t.TempDir()}, io.Discard)
	if !errors.Is(err, errAuthNeeded) || !strings.Contains(err.Error(), "--admin-key") {
		t.Fatalf("run on 0.0.0.0 without a token: %v, want a refusal naming --admin-key", err)
	}
}

func TestHocuspocusKeepaliveFlags(t *testing.T) {
	d := qsync.DefaultHocuspocusConfig
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.hpPingAfter != d.PingAfter || c.hpIdleTimeout != d.IdleTimeout ||
		c.hpMaxPendingBytes != d.MaxPendingBytes || c.hpMaxPendingDocs != d.MaxPendingDocs {
		t.Errorf("defaults: %+v, want %+v", c, d)
	}
	t.Setenv("QUIRE_HOCUSPOCUS_PING_AFTER", "5s")
	t.Setenv("QUIRE_HOCUSPOCUS_IDLE_TIMEOUT", "2m")
	c, err = parseFlags([]string{"--hocuspocus-idle-timeout", "90s", "--hocuspocus-max-pending-docs", "7"})
	if err != nil {
		t.Fatal(err)
	}
	if c.hpPingAfter != 5*time.Second || c.hpIdleTimeout != 90*time.Second || c.hpMaxPendingDocs != 7 {
		t.Errorf("got ping-after %v idle %v pending docs %d", c.hpPingAfter, c.hpIdleTimeout, c.hpMaxPendingDocs)
	}
	for _, args := range [][]string{
		{"--hocuspocus-ping-after", "2m"}, // not shorter than the idle timeout
		{"--hocuspocus-idle-timeout", "0s"},
		{"--hocuspocus-max-pending-bytes", "0"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestSetMaxProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	setMaxProcs(3, log)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("--max-procs 3: GOMAXPROCS %d", got)
	}
	t.Setenv("GOMAXPROCS", "")
	runtime.GOMAXPROCS(2)
	setMaxProcs(0, log)
	if got := runtime.GOMAXPROCS(0); got != minDefaultProcs {
		t.Errorf("default on 2 procs: GOMAXPROCS %d, want %d", got, minDefaultProcs)
	}
	t.Setenv("GOMAXPROCS", "2")
	runtime.GOMAXPROCS(2)
	setMaxProcs(0, log)
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS=2 in the environment: GOMAXPROCS %d, want it kept", got)
	}
}
