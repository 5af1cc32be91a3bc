package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/quire/quire/crdt"
)

// logBuffer collects the server's log and reports the "listening" address.
type logBuffer struct {
	mu   gosync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if m := listeningRE.FindSubmatch(l.buf.Bytes()); m != nil && !l.sent {
		l.sent = true
		l.addr <- string(m[1])
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startServer runs the real main loop in-process and returns its address
// and a channel with run's result.
func startServer(t *testing.T, dir string) (string, <-chan error, *logBuffer) {
	t.Helper()
	logs := &logBuffer{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run([]string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}, logs) }()
	select {
	case addr := <-logs.addr:
		return addr, done, logs
	case err := <-done:
		t.Fatalf("server exited: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("no listening line:\n%s", logs)
	}
	return "", nil, nil
}

func frame(sub uint64, payload []byte) []byte {
	var e crdt.Encoder
	e.WriteVarUint(0)
	e.WriteVarUint(sub)
	e.WriteVarBytes(payload)
	return e.Bytes()
}

// readSync reads until a sync message of type sub arrives and returns its payload.
func readSync(t *testing.T, c *websocket.Conn, sub uint64) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		d := crdt.NewDecoder(b)
		if typ, _ := d.ReadVarUint(); typ != 0 {
			continue
		}
		if s, _ := d.ReadVarUint(); s != sub {
			continue
		}
		p, err := d.ReadVarBytes()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func dialDoc(t *testing.T, addr, doc string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://%s/ws/%s", addr, doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// The binary's main loop: serve, save an edit, shut down on SIGTERM with
// 1012, and serve the edit again after a restart on the same data.
func TestRunServesShutsDownOnSIGTERMAndRestarts(t *testing.T) {
	dir := t.TempDir()
	addr, done, logs := startServer(t, dir)
	c := dialDoc(t, addr, "notes")
	ctx := context.Background()
	doc := crdt.NewDoc()
	update := doc.Transact(func() { doc.GetText("t").Insert(0, "kept across restarts") })
	if err := c.Write(ctx, websocket.MessageBinary, frame(2, update)); err != nil {
		t.Fatal(err)
	}
	readSync(t, c, 2) // the echo: saved

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	for err == nil {
		_, _, err = c.Read(ctx)
	}
	if code := websocket.CloseStatus(err); code != websocket.StatusServiceRestart {
		t.Errorf("close at shutdown: %v, want 1012", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not stop:\n%s", logs)
	}

	addr, done, logs = startServer(t, dir)
	c2 := dialDoc(t, addr, "notes")
	if err := c2.Write(ctx, websocket.MessageBinary, frame(0, crdt.EncodeStateVector(nil))); err != nil {
		t.Fatal(err)
	}
	fresh := crdt.NewDoc()
	if err := fresh.ApplyUpdate(readSync(t, c2, 1)); err != nil {
		t.Fatal(err)
	}
	if got := fresh.GetText("t").String(); got != "kept across restarts" {
		t.Errorf("after restart: %q", got)
	}
	c2.Close(websocket.StatusNormalClosure, "")
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not stop:\n%s", logs)
	}
}
