package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/storage"
	qsync "github.com/quire/quire/sync"
)

// checkFor polls fn until it returns nil or the time is up.
func checkFor(t testing.TB, wait time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", wait, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testEnv is a real server: bbolt in a temp dir, a hub, the HTTP handler.
type testEnv struct {
	t       testing.TB
	dir     string
	bolt    *storage.BoltStore
	store   storage.Store // bolt, possibly wrapped
	hub     *qsync.Hub
	metrics *Metrics
	srv     *httptest.Server
	stopped bool
}

type envOptions struct {
	hub      qsync.Config
	http     Config
	wrap     func(storage.Store) storage.Store
	dir      string
	verbose  bool
	adminKey string // serve the REST API with this key (WebSockets then need tokens)
}

func fastHubConfig() qsync.Config {
	c := qsync.DefaultConfig
	c.TickInterval = 10 * time.Millisecond
	return c
}

func newEnv(t testing.TB, opt envOptions) *testEnv {
	t.Helper()
	dir := opt.dir
	if dir == "" {
		dir = t.TempDir()
	}
	bolt, err := storage.OpenBolt(filepath.Join(dir, "quire.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var store storage.Store = bolt
	if opt.wrap != nil {
		store = opt.wrap(bolt)
	}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	level := slog.LevelWarn + 4
	if opt.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	hc := opt.hub
	if hc.TickInterval == 0 {
		hc = fastHubConfig()
	}
	hc.CloseGrace = 300 * time.Millisecond
	hc.Store, hc.Logger, hc.Metrics = store, log, m
	hub, err := qsync.NewHub(hc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := opt.http
	cfg.Hub, cfg.Store, cfg.Logger, cfg.Gatherer = hub, store, log, reg
	if opt.adminKey != "" {
		cfg.REST = NewREST(RESTConfig{Store: store, Rooms: hub, Logger: log, AdminKey: opt.adminKey, Editors: hub.Editors})
	}
	srv := httptest.NewServer(NewHandler(cfg))
	e := &testEnv{t: t, dir: dir, bolt: bolt, store: store, hub: hub, metrics: m, srv: srv}
	t.Cleanup(e.stop)
	return e
}

// stop shuts the hub down gracefully, checks the store's consistency and closes it.
func (e *testEnv) stop() {
	if e.stopped {
		return
	}
	e.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.hub.Shutdown(ctx); err != nil {
		e.t.Errorf("hub shutdown: %v", err)
	}
	e.srv.Close()
	if err := e.bolt.Check(); err != nil {
		e.t.Errorf("store check: %v", err)
	}
	if err := e.bolt.Close(); err != nil {
		e.t.Errorf("store close: %v", err)
	}
}

func (e *testEnv) wsURL(doc string) string {
	return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/" + doc
}

func (e *testEnv) sessionEnds(r qsync.CloseReason) float64 {
	return testutil.ToFloat64(e.metrics.sessionEnds.WithLabelValues(r.String()))
}

// storedText loads docID from the store into a fresh doc and returns it.
func (e *testEnv) storedDoc(docID string) (*crdt.Doc, storage.Stored) {
	e.t.Helper()
	st, err := e.bolt.Load(context.Background(), docID)
	if err != nil {
		e.t.Fatalf("load %s: %v", docID, err)
	}
	d := crdt.NewDoc()
	if st.Snapshot != nil {
		if err := d.ApplyUpdate(st.Snapshot); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, u := range st.Updates {
		if err := d.ApplyUpdate(u); err != nil {
			e.t.Fatal(err)
		}
	}
	return d, st
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// awEntry is an awareness entry as a client received it.
type awEntry struct {
	clientID, clock uint64
	state           string
}

// wsClient is a y-websocket client written against the protocol: it sends
// its state vector on open, answers the server's step 1, applies step 2 and
// updates to its own crdt.Doc, and records awareness.
type wsClient struct {
	t    testing.TB
	name string
	c    *websocket.Conn

	mu        gosync.Mutex
	doc       *crdt.Doc
	synced    bool
	denied    []string          // auth permission-denied reasons received
	updates   int               // update messages received (echoes included)
	serverSV  map[uint64]uint64 // state vector of the server's last sync step 1
	awareness []awEntry
	onUpdate  func(doc *crdt.Doc) // called with mu held after each received update
	changed   chan struct{}       // signalled after each received update
	closeErr  error
	done      chan struct{}
}

type dialOptions struct {
	header     http.Header
	readBuffer int  // SO_RCVBUF of the client socket (0: default)
	noRead     bool // never read (a stuck client)
	doc        *crdt.Doc
	onUpdate   func(doc *crdt.Doc)
}

func (e *testEnv) dial(name, docID string, opt dialOptions) *wsClient {
	e.t.Helper()
	c, resp, err := e.tryDial(docID, opt)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial %s: %v (status %d)", name, err, status)
	}
	cl := &wsClient{t: e.t, name: name, c: c, doc: opt.doc, onUpdate: opt.onUpdate, done: make(chan struct{}),
		changed: make(chan struct{}, 1)}
	if cl.doc == nil {
		cl.doc = crdt.NewDoc()
	}
	c.SetReadLimit(64 << 20)
	e.t.Cleanup(func() { c.CloseNow() })
	if opt.noRead {
		return cl
	}
	cl.mu.Lock()
	sv := cl.doc.EncodeStateVector()
	cl.mu.Unlock()
	cl.send(syncFrame(0, sv))
	go cl.readLoop()
	return cl
}

func (e *testEnv) tryDial(docID string, opt dialOptions) (*websocket.Conn, *http.Response, error) {
	dopts := &websocket.DialOptions{HTTPHeader: opt.header}
	if opt.readBuffer > 0 {
		dopts.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var d net.Dialer
				c, err := d.DialContext(ctx, network, addr)
				if err == nil {
					err = c.(*net.TCPConn).SetReadBuffer(opt.readBuffer)
				}
				return c, err
			},
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, e.wsURL(docID), dopts)
}

func syncFrame(sub uint64, payload []byte) []byte {
	var enc crdt.Encoder
	enc.WriteVarUint(0)
	enc.WriteVarUint(sub)
	enc.WriteVarBytes(payload)
	return enc.Bytes()
}

func awarenessFrame(entries ...awEntry) []byte {
	var inner crdt.Encoder
	inner.WriteVarUint(uint64(len(entries)))
	for _, en := range entries {
		inner.WriteVarUint(en.clientID)
		inner.WriteVarUint(en.clock)
		inner.WriteVarString(en.state)
	}
	var enc crdt.Encoder
	enc.WriteVarUint(1)
	enc.WriteVarBytes(inner.Bytes())
	return enc.Bytes()
}

func (c *wsClient) send(frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageBinary, frame); err != nil {
		c.t.Errorf("%s: write: %v", c.name, err)
	}
}

// edit changes the client's doc and sends the update, as a provider does.
func (c *wsClient) edit(fn func(doc *crdt.Doc)) []byte {
	c.mu.Lock()
	u := c.doc.Transact(func() { fn(c.doc) })
	c.mu.Unlock()
	c.send(syncFrame(2, u))
	return u
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	for {
		_, b, err := c.c.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			return
		}
		if err := c.handle(b); err != nil {
			c.t.Errorf("%s: %v", c.name, err)
		}
	}
}

func (c *wsClient) handle(b []byte) error {
	d := crdt.NewDecoder(b)
	typ, err := d.ReadVarUint()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch typ {
	case 0:
		sub, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		payload, err := d.ReadVarBytes()
		if err != nil {
			return err
		}
		switch sub {
		case 0:
			if c.serverSV, err = crdt.DecodeStateVector(payload); err != nil {
				return err
			}
			u, err := c.doc.EncodeStateAsUpdate(payload)
			if err != nil {
				return err
			}
			// Answered off the read loop; a failure here shows up as a
			// missing sync in the test itself (and is normal at teardown).
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = c.c.Write(ctx, websocket.MessageBinary, syncFrame(1, u))
			}()
		case 1, 2:
			if err := c.doc.ApplyUpdate(payload); err != nil {
				return fmt.Errorf("apply: %w", err)
			}
			if sub == 1 {
				c.synced = true
			} else {
				c.updates++
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
			if c.onUpdate != nil {
				c.onUpdate(c.doc)
			}
		}
	case 2:
		if sub, err := d.ReadVarUint(); err == nil && sub == 0 {
			reason, err := d.ReadVarString()
			if err != nil {
				return err
			}
			c.denied = append(c.denied, reason)
		}
	case 1:
		inner, err := d.ReadVarBytes()
		if err != nil {
			return err
		}
		id := crdt.NewDecoder(inner)
		n, err := id.ReadVarUint()
		if err != nil {
			return err
		}
		for i := uint64(0); i < n; i++ {
			var en awEntry
			if en.clientID, err = id.ReadVarUint(); err != nil {
				return err
			}
			if en.clock, err = id.ReadVarUint(); err != nil {
				return err
			}
			if en.state, err = id.ReadVarString(); err != nil {
				return err
			}
			c.awareness = append(c.awareness, en)
		}
	}
	return nil
}

func (c *wsClient) text(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc.GetText(name).String()
}

func (c *wsClient) waitSynced() {
	c.t.Helper()
	checkFor(c.t, 5*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.synced {
			return fmt.Errorf("%s not synced", c.name)
		}
		return nil
	})
}

func (c *wsClient) waitText(name, want string) {
	c.t.Helper()
	checkFor(c.t, 10*time.Second, func() error {
		if got := c.text(name); got != want {
			return fmt.Errorf("%s: text %q, want %q", c.name, short(got), short(want))
		}
		return nil
	})
}

func short(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%s…(%d bytes)", s[:80], len(s))
	}
	return s
}

// waitEchoes waits until the client has received at least n updates.
func (c *wsClient) waitEchoes(n int) {
	c.t.Helper()
	checkFor(c.t, 10*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.updates < n {
			return fmt.Errorf("%s: %d updates received, want %d", c.name, c.updates, n)
		}
		return nil
	})
}

// waitServerClock waits until the server's step 1 to c reports client at
// clock >= want: proof that the room has applied those edits.
func (c *wsClient) waitServerClock(client, want uint64) {
	c.t.Helper()
	checkFor(c.t, 10*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.serverSV[client] < want {
			return fmt.Errorf("%s: server state vector %v, want client %d at %d", c.name, c.serverSV, client, want)
		}
		return nil
	})
}

func (c *wsClient) clientID() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc.ClientID()
}

// waitClosed waits for the connection to end and returns its close status
// (-1 if it ended without a close frame).
func (c *wsClient) waitClosed() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s still open", c.name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return websocket.CloseStatus(c.closeErr)
}

func (c *wsClient) closeReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ce websocket.CloseError
	if errors.As(c.closeErr, &ce) {
		return ce.Reason
	}
	return ""
}

func (c *wsClient) hasAwareness(want awEntry) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, en := range c.awareness {
		if en == want {
			return true
		}
	}
	return false
}

var barrierClock atomic.Uint64

// barrier returns once the room has handled everything c sent before it:
// it sends an awareness state and waits for the room's relay of it back to
// c (one connection's messages are handled in order).
func (c *wsClient) barrier() {
	c.t.Helper()
	marker := awEntry{clientID: 1<<40 + barrierClock.Add(1), clock: 1, state: `{"barrier":true}`}
	c.send(awarenessFrame(marker))
	checkFor(c.t, 10*time.Second, func() error {
		if !c.hasAwareness(marker) {
			return fmt.Errorf("%s: barrier not relayed", c.name)
		}
		return nil
	})
}
