package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/storage"
	qsync "github.com/quire/quire/sync"
)

func insert(s string) func(*crdt.Doc) {
	return func(d *crdt.Doc) { d.GetText("t").Insert(0, s) }
}

func TestTwoClientsConvergeAndSenderGetsEcho(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.dial("a", "doc-1", dialOptions{})
	b := e.dial("b", "doc-1", dialOptions{})
	a.waitSynced()
	b.waitSynced()
	a.edit(insert("hello "))
	b.waitText("t", "hello ")
	b.edit(func(d *crdt.Doc) { d.GetText("t").Insert(6, "world") })
	a.waitText("t", "hello world")
	a.waitEchoes(2) // its own echo plus b's edit
	if n := e.hub.Editors("doc-1"); n != 2 {
		t.Errorf("editors %d, want 2", n)
	}
	// Offline edits are pushed on connect: a client with content joins.
	offline := crdt.NewDoc()
	offline.GetText("t").Insert(0, ">")
	c := e.dial("c", "doc-1", dialOptions{doc: offline})
	checkFor(t, 5*time.Second, func() error {
		if got := c.text("t"); len(got) != 12 || a.text("t") != got || b.text("t") != got {
			return fmt.Errorf("a %q, b %q, c %q", a.text("t"), b.text("t"), got)
		}
		return nil
	})
}

// gatedStore holds Append calls while the gate is shut, to show what the
// server does while a commit is on its way to disk.
type gatedStore struct {
	storage.Store
	mu      gosync.Mutex
	gate    chan struct{} // nil: open
	batches [][]storage.Entry
	entered chan struct{}
}

func (g *gatedStore) shut() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedStore) open() {
	g.mu.Lock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
	g.mu.Unlock()
}

func (g *gatedStore) Append(ctx context.Context, entries []storage.Entry) ([]uint64, error) {
	g.mu.Lock()
	gate := g.gate
	g.batches = append(g.batches, append([]storage.Entry(nil), entries...))
	g.mu.Unlock()
	select {
	case g.entered <- struct{}{}:
	default:
	}
	if gate != nil {
		<-gate
	}
	return g.Store.Append(ctx, entries)
}

func (g *gatedStore) batchCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.batches)
}

// durableCheck fails the test when a client holds state the store does not.
func durableCheck(t *testing.T, e *testEnv, docID string, violations *int) func(*crdt.Doc) {
	return func(d *crdt.Doc) {
		st, err := e.bolt.Load(context.Background(), docID)
		if err != nil {
			t.Errorf("load: %v", err)
			return
		}
		stored := crdt.NewDoc()
		if st.Snapshot != nil {
			_ = stored.ApplyUpdate(st.Snapshot)
		}
		for _, u := range st.Updates {
			_ = stored.ApplyUpdate(u)
		}
		have := stored.StateVector()
		for client, clock := range d.StateVector() {
			if have[client] < clock {
				*violations++
				t.Errorf("client received client %d up to clock %d, store has %d", client, clock, have[client])
			}
		}
	}
}

func TestNothingForwardedBeforeDurable(t *testing.T) {
	var gs *gatedStore
	e := newEnv(t, envOptions{wrap: func(s storage.Store) storage.Store {
		gs = &gatedStore{Store: s, entered: make(chan struct{}, 16)}
		return gs
	}})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	var violations int
	var vmu gosync.Mutex
	check := durableCheck(t, e, "doc", &violations)
	locked := func(d *crdt.Doc) { vmu.Lock(); check(d); vmu.Unlock() }
	b := e.dial("b", "doc", dialOptions{onUpdate: locked})
	b.waitSynced()

	gs.shut()
	before := gs.batchCount()
	a.edit(insert("one "))
	select {
	case <-gs.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no Append")
	}
	// The first commit is stuck on its way to disk; the room keeps going.
	a.edit(insert("two "))
	a.barrier()
	// A newcomer's step 1 (sent at once) counts both updates: the room
	// applied the second while the first waits for disk...
	c := e.dial("c", "doc", dialOptions{onUpdate: locked})
	c.waitServerClock(a.clientID(), uint64(len("one two ")))
	// ...but nothing containing them has left: no echo, no forward, no step 2.
	a.mu.Lock()
	aUpdates := a.updates
	a.mu.Unlock()
	c.mu.Lock()
	cSynced := c.synced
	c.mu.Unlock()
	if aUpdates != 0 || b.text("t") != "" || c.text("t") != "" || cSynced {
		t.Fatalf("sent before durable: a echoes %d, b %q, c %q (synced %v)", aUpdates, b.text("t"), c.text("t"), cSynced)
	}
	gs.open()
	b.waitText("t", "two one ")
	c.waitText("t", "two one ")
	c.waitSynced()
	a.waitEchoes(2)
	if n := gs.batchCount() - before; n != 2 {
		t.Errorf("%d commits for two updates, want 2 (one stuck, one for the rest)", n)
	}
	vmu.Lock()
	defer vmu.Unlock()
	if violations != 0 {
		t.Errorf("%d deliveries before durability", violations)
	}
}

func TestGroupCommitAcrossRooms(t *testing.T) {
	var gs *gatedStore
	e := newEnv(t, envOptions{wrap: func(s storage.Store) storage.Store {
		gs = &gatedStore{Store: s, entered: make(chan struct{}, 64)}
		return gs
	}})
	var clients []*wsClient
	for i := range 4 {
		c := e.dial(fmt.Sprint("c", i), fmt.Sprint("doc-", i), dialOptions{})
		c.waitSynced()
		clients = append(clients, c)
	}
	gs.shut()
	clients[0].edit(insert("x"))
	<-gs.entered
	for _, c := range clients {
		c.edit(insert("y"))
		c.barrier()
	}
	// Wait until every room has applied its edit (a newcomer's step 1 says
	// so), so all four wait for the stuck commit.
	for i, c := range clients {
		probe := e.dial("probe", fmt.Sprint("doc-", i), dialOptions{})
		want := uint64(1)
		if i == 0 {
			want = 2
		}
		probe.waitServerClock(c.clientID(), want)
	}
	gs.open()
	for i, c := range clients {
		want := 1
		if i == 0 {
			want = 2
		}
		c.waitEchoes(want)
	}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	docs := map[string]bool{}
	for _, b := range gs.batches[1:] {
		for _, en := range b {
			docs[en.DocID] = true
		}
	}
	if len(gs.batches) != 2 || len(docs) != 4 {
		t.Errorf("%d commits, second covering %d documents; want 2 commits, the second with all 4 documents", len(gs.batches), len(docs))
	}
}

func TestSlowConsumerIsCutOffOthersKeepGoing(t *testing.T) {
	hc := fastHubConfig()
	hc.SessionQueueBytes = 1 << 20
	hc.WriteTimeout = 30 * time.Second // the queue limit must be what cuts it off
	e := newEnv(t, envOptions{hub: hc})
	a := e.dial("a", "doc", dialOptions{})
	b := e.dial("b", "doc", dialOptions{})
	a.waitSynced()
	b.waitSynced()
	stuck := e.dial("stuck", "doc", dialOptions{noRead: true, readBuffer: 4096})
	_ = stuck
	chunk := strings.Repeat("z", 8<<10)
	var want strings.Builder
	// Send until the stuck client's queue overflows (the kernel buffers
	// take a few MB first). Waiting for a's echoes now and then keeps the
	// live clients far below the limit.
	for i := 0; i < 3000 && testutil.ToFloat64(e.metrics.droppedMsgs) == 0; i++ {
		a.edit(insert(chunk))
		want.WriteString(chunk)
		if i%10 == 9 {
			a.waitEchoes(i + 1)
		}
	}
	if testutil.ToFloat64(e.metrics.droppedMsgs) == 0 {
		t.Fatal("the stuck client's queue never overflowed")
	}
	checkFor(t, 20*time.Second, func() error {
		if n := e.sessionEnds(qsync.SlowConsumer); n != 1 {
			return fmt.Errorf("slow consumer ends: %v", n)
		}
		return nil
	})
	b.waitText("t", want.String())
	a.waitText("t", want.String())
	// The cut-off client comes back and resynchronises by state vector.
	again := e.dial("again", "doc", dialOptions{})
	again.waitText("t", want.String())
}

func TestMalformedUpdateClosesOnlyThatSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.dial("a", "doc", dialOptions{})
	b := e.dial("b", "doc", dialOptions{})
	a.waitSynced()
	b.waitSynced()
	a.edit(insert("keep"))
	b.waitText("t", "keep")

	other := crdt.NewDoc()
	good := other.Transact(func() { other.GetText("t").Insert(0, "bad") })
	a.send(syncFrame(2, good[:len(good)-3])) // truncated: does not decode
	if code := a.waitClosed(); code != 4400 {
		t.Fatalf("close code %d, want 4400", code)
	}
	if r := a.closeReason(); !strings.HasPrefix(r, "malformed message: update:") {
		t.Errorf("close reason %q", r)
	}
	// b is still served, and the document is unchanged.
	b.edit(func(d *crdt.Doc) { d.GetText("t").Insert(4, "!") })
	b.waitText("t", "keep!")
	fresh := e.dial("fresh", "doc", dialOptions{})
	fresh.waitText("t", "keep!")
	err := e.hub.Do(context.Background(), "doc", func(d *crdt.Doc) ([]byte, error) {
		if got := d.GetText("t").String(); got != "keep!" {
			return nil, fmt.Errorf("room text %q", got)
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.sessionEnds(qsync.MalformedMessage); n != 1 {
		t.Errorf("malformed ends %v", n)
	}
}

func TestOversizedMessageCloses1009(t *testing.T) {
	e := newEnv(t, envOptions{http: Config{MaxMessageBytes: 1024}})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	a.edit(insert(strings.Repeat("q", 4096)))
	if code := a.waitClosed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	checkFor(t, 5*time.Second, func() error {
		if n := e.sessionEnds(qsync.MessageTooBig); n != 1 {
			return fmt.Errorf("message_too_big ends %v", n)
		}
		return nil
	})
}

func TestOriginCheck(t *testing.T) {
	e := newEnv(t, envOptions{http: Config{AllowedOrigins: []string{"https://app.example.com", "*.trusted.test"}}})
	for origin, ok := range map[string]bool{
		"":                          true, // not a browser
		"https://evil.example":      false,
		"http://localhost:5173":     true,
		"http://127.0.0.1:3000":     true,
		"https://app.example.com":   true,
		"http://app.example.com":    false, // scheme is part of the origin
		"https://x.trusted.test":    true,
		"https://trusted.test.evil": false,
		e.srv.URL:                   true, // same origin
	} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := e.tryDial("doc", dialOptions{header: h})
		if ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", origin, err)
				continue
			}
			c.CloseNow()
			continue
		}
		if err == nil {
			c.CloseNow()
			t.Errorf("origin %q accepted", origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", origin, err)
		}
	}
}

func TestAwarenessRelayAndRemovalOnLeave(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.dial("a", "doc", dialOptions{})
	b := e.dial("b", "doc", dialOptions{})
	a.waitSynced()
	b.waitSynced()
	state := awEntry{clientID: 100, clock: 1, state: `{"user":{"name":"Ann"}}`}
	a.send(awarenessFrame(state))
	checkFor(t, 5*time.Second, func() error {
		if !a.hasAwareness(state) || !b.hasAwareness(state) {
			return errors.New("awareness not relayed to both (the sender too)")
		}
		return nil
	})
	// A newcomer gets the current states on join.
	c := e.dial("c", "doc", dialOptions{})
	checkFor(t, 5*time.Second, func() error {
		if !c.hasAwareness(state) {
			return errors.New("newcomer did not get current awareness")
		}
		return nil
	})
	a.c.Close(websocket.StatusNormalClosure, "bye")
	removal := awEntry{clientID: 100, clock: 1, state: "null"}
	checkFor(t, 5*time.Second, func() error {
		if !b.hasAwareness(removal) || !c.hasAwareness(removal) {
			return errors.New("removal not broadcast")
		}
		return nil
	})
}

func TestAwarenessTimesOut(t *testing.T) {
	hc := fastHubConfig()
	hc.AwarenessTimeout = 100 * time.Millisecond
	e := newEnv(t, envOptions{hub: hc})
	a := e.dial("a", "doc", dialOptions{})
	b := e.dial("b", "doc", dialOptions{})
	a.waitSynced()
	b.waitSynced()
	a.send(awarenessFrame(awEntry{7, 3, `{"x":1}`}))
	checkFor(t, 5*time.Second, func() error {
		if !b.hasAwareness(awEntry{7, 3, "null"}) {
			return errors.New("stale state not removed")
		}
		return nil
	})
}

func TestIdleRoomUnloadsAndReloads(t *testing.T) {
	hc := fastHubConfig()
	hc.IdleTimeout = 50 * time.Millisecond
	hc.CompactIdle, hc.CompactUpdates, hc.CompactBytes = 0, 0, 0
	e := newEnv(t, envOptions{hub: hc})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	a.edit(insert("persisted"))
	a.waitText("t", "persisted")
	a.waitEchoes(1)
	a.c.Close(websocket.StatusNormalClosure, "")
	checkFor(t, 5*time.Second, func() error {
		if n := e.hub.OpenRooms(); n != 0 {
			return fmt.Errorf("%d rooms open", n)
		}
		return nil
	})
	d, st := e.storedDoc("doc")
	if st.Snapshot == nil || len(st.Updates) != 0 {
		t.Errorf("unload did not snapshot: snapshot %d bytes, %d log entries", len(st.Snapshot), len(st.Updates))
	}
	if got := d.GetText("t").String(); got != "persisted" {
		t.Errorf("stored %q", got)
	}
	b := e.dial("b", "doc", dialOptions{})
	b.waitText("t", "persisted")
}

func TestCompactionByUpdateCount(t *testing.T) {
	hc := fastHubConfig()
	hc.CompactUpdates = 5
	e := newEnv(t, envOptions{hub: hc})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	for i := range 12 {
		a.edit(insert(fmt.Sprint(i % 10)))
	}
	a.waitEchoes(12)
	checkFor(t, 5*time.Second, func() error {
		_, st := e.storedDoc("doc")
		if st.SnapshotSeq < 5 || st.LastSeq != 12 || uint64(len(st.Updates)) != 12-st.SnapshotSeq {
			return fmt.Errorf("snapshot covers seq %d of %d, %d log entries", st.SnapshotSeq, st.LastSeq, len(st.Updates))
		}
		return nil
	})
	d, _ := e.storedDoc("doc")
	if got := d.GetText("t").String(); got != "109876543210" {
		t.Errorf("stored %q", got)
	}
}

func TestRestartKeepsContent(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, envOptions{dir: dir})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	a.edit(insert("survives"))
	a.waitText("t", "survives")
	a.waitEchoes(1)
	e.stop()
	if code := a.waitClosed(); code != websocket.StatusServiceRestart {
		t.Errorf("close code at shutdown %d, want 1012", code)
	}
	e2 := newEnv(t, envOptions{dir: dir})
	b := e2.dial("b", "doc", dialOptions{})
	b.waitText("t", "survives")
}

func TestGracefulShutdownSends1012AndFlushes(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, envOptions{dir: dir})
	clients := []*wsClient{e.dial("a", "doc-a", dialOptions{}), e.dial("b", "doc-b", dialOptions{})}
	for _, c := range clients {
		c.waitSynced()
		c.edit(insert("last words"))
	}
	// Wait for both echoes, then shut down.
	for _, c := range clients {
		c.waitEchoes(1)
	}
	e.stop()
	for _, c := range clients {
		if code := c.waitClosed(); code != websocket.StatusServiceRestart {
			t.Errorf("%s: close code %d, want 1012", c.name, code)
		}
	}
	if _, _, err := e.tryDial("doc-a", dialOptions{}); err == nil {
		t.Error("dial after shutdown succeeded")
	}
	e2 := newEnv(t, envOptions{dir: dir})
	for _, id := range []string{"doc-a", "doc-b"} {
		d, st := e2.storedDoc(id)
		if got := d.GetText("t").String(); got != "last words" {
			t.Errorf("%s: stored %q", id, got)
		}
		if st.Snapshot == nil {
			t.Errorf("%s: no snapshot written at shutdown", id)
		}
	}
}

func TestUnknownDocumentWithoutCreateOnConnect(t *testing.T) {
	hc := fastHubConfig()
	hc.CreateOnConnect = false
	e := newEnv(t, envOptions{hub: hc})
	a := e.dial("a", "missing", dialOptions{})
	if code := a.waitClosed(); code != 4404 {
		t.Fatalf("close code %d, want 4404", code)
	}
	if err := e.store.CreateDoc(context.Background(), storage.DocMeta{ID: "exists"}); err != nil {
		t.Fatal(err)
	}
	b := e.dial("b", "exists", dialOptions{})
	b.waitSynced()
}

func TestCloseDocSends4410(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	if err := e.store.DeleteDoc(context.Background(), "doc"); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.CloseDoc(context.Background(), "doc", qsync.DocumentDeleted); err != nil {
		t.Fatal(err)
	}
	if code := a.waitClosed(); code != 4410 {
		t.Fatalf("close code %d, want 4410", code)
	}
}

func TestServerSideEditThroughDo(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	err := e.hub.Do(context.Background(), "doc", func(d *crdt.Doc) ([]byte, error) {
		return d.Transact(func() { d.GetText("t").Insert(0, "from REST") }), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Do returned: the edit is durable.
	d, _ := e.storedDoc("doc")
	if got := d.GetText("t").String(); got != "from REST" {
		t.Errorf("stored %q", got)
	}
	a.waitText("t", "from REST")
	if err := e.hub.Do(context.Background(), "nope", func(*crdt.Doc) ([]byte, error) { return nil, nil }); !errors.Is(err, qsync.ErrDocNotFound) {
		t.Errorf("Do on a missing doc: %v", err)
	}
}

func TestSilentClientIsPingedAndDropped(t *testing.T) {
	hc := fastHubConfig()
	hc.PingInterval = 50 * time.Millisecond
	hc.PongTimeout = time.Second // generous: a live client on a loaded machine must not look dead
	e := newEnv(t, envOptions{hub: hc})
	// A client that reads answers pings and stays.
	alive := e.dial("alive", "doc", dialOptions{})
	alive.waitSynced()
	// One that never reads never answers.
	e.dial("dead", "doc", dialOptions{noRead: true})
	checkFor(t, 10*time.Second, func() error {
		if n := e.sessionEnds(qsync.PingTimeout); n != 1 {
			return fmt.Errorf("ping timeouts %v", n)
		}
		return nil
	})
	select {
	case <-alive.done:
		t.Fatalf("live client dropped: %v", alive.closeErr)
	default:
	}
}

func TestBadDocumentIDRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, resp, err := e.tryDial("", dialOptions{})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty doc id: %v", err)
	}
	// Names may contain slashes and escaped characters.
	a := e.dial("a", "team/notes%20today", dialOptions{})
	a.waitSynced()
	if _, err := e.store.GetDoc(context.Background(), "team/notes today"); err != nil {
		t.Errorf("doc with a slash and space: %v", err)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.dial("a", "doc", dialOptions{})
	a.waitSynced()
	a.edit(insert("m"))
	a.waitText("t", "m")
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": "quire_sessions_open 1",
	} {
		checkFor(t, 5*time.Second, func() error {
			resp, err := http.Get(e.srv.URL + path)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var sb strings.Builder
			buf := make([]byte, 1<<16)
			for {
				n, err := resp.Body.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if resp.StatusCode != 200 || !strings.Contains(sb.String(), want) {
				return fmt.Errorf("%s: %d, body lacks %q", path, resp.StatusCode, want)
			}
			return nil
		})
	}
}
