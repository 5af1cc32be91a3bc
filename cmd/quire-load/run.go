package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"time"
)

// runner holds one load run: its documents, editors and counters.
type runner struct {
	cfg   config
	proto protocol
	base  *url.URL
	epoch time.Time

	docs    []*docRun
	editors []*editor // in connection order
	readers gosync.WaitGroup
	closing atomic.Bool

	connected, connectFailed, synced atomic.Int64
	sent, writeErrors                atomic.Uint64
	delivered, echoes                atomic.Uint64
	duplicates, gaps, foreign        atomic.Uint64
	malformed, protocolErrors        atomic.Uint64
	disconnects                      atomic.Int64

	latency, echoLatency, scheduleLag histogram
	errs                              errorLog

	// Largest kernel receive queues seen during editing (see socketBacklog).
	maxBacklog socketBacklog
}

// sampleBacklog reads the kernel's socket queues for the server's port and
// keeps the largest values seen.
func (r *runner) sampleBacklog() socketBacklog {
	port, err := strconv.Atoi(r.base.Port())
	if err != nil {
		return socketBacklog{}
	}
	b, err := readSocketBacklog(port)
	if err != nil {
		r.noteError("read /proc/net/tcp", err)
		return b
	}
	r.maxBacklog.ToolRxBytes = max(r.maxBacklog.ToolRxBytes, b.ToolRxBytes)
	r.maxBacklog.ServerRxBytes = max(r.maxBacklog.ServerRxBytes, b.ServerRxBytes)
	return b
}

func (r *runner) noteError(kind string, err error) { r.errs.note(kind, err) }

func newRunner(cfg config, proto protocol, base *url.URL) *runner {
	r := &runner{cfg: cfg, proto: proto, base: base, epoch: time.Now()}
	for d := range cfg.docs {
		doc := &docRun{
			name:        fmt.Sprintf("%s-%d", cfg.docPrefix, d),
			firstClient: uint64(d*cfg.clients + 1),
		}
		doc.url = proto.docURL(base, doc.name, cfg.token)
		for p := range cfg.clients {
			e := &editor{r: r, doc: doc, peer: p, clientID: doc.firstClient + uint64(p)}
			e.applied.Store(-1)
			doc.editors = append(doc.editors, e)
		}
		r.docs = append(r.docs, doc)
	}
	// Connect round-robin over documents so every room fills gradually.
	for p := range cfg.clients {
		for _, doc := range r.docs {
			r.editors = append(r.editors, doc.editors[p])
		}
	}
	return r
}

// connectAll opens every editor's connection at cfg.ramp per second, then
// waits for each to finish its first sync.
func (r *runner) connectAll(ctx context.Context) time.Duration {
	start := time.Now()
	interval := time.Duration(float64(time.Second) / r.cfg.ramp)
	inflight := make(chan struct{}, 256) // caps concurrent handshakes
	var wg gosync.WaitGroup
	lastLog := start
	for i, e := range r.editors {
		if ctx.Err() != nil {
			break
		}
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		inflight <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			if err := e.connect(ctx); err != nil {
				e.dead.Store(true)
				r.connectFailed.Add(1)
				r.noteError("connect", err)
				return
			}
			r.connected.Add(1)
		}()
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			slog.Info("connecting", "started", i+1, "of", len(r.editors), "connected", r.connected.Load(), "failed", r.connectFailed.Load())
		}
	}
	wg.Wait()
	deadline := time.Now().Add(r.cfg.syncTimeout)
	for r.synced.Load() < r.connected.Load()-r.disconnects.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	slog.Info("connected", "connected", r.connected.Load(), "synced", r.synced.Load(), "failed", r.connectFailed.Load(), "took", took.Round(time.Millisecond))
	return took
}

// editPhase sends edits for cfg.duration from every synced editor.
func (r *runner) editPhase(ctx context.Context) {
	var live []*editor
	for _, e := range r.editors {
		if e.synced.Load() && !e.dead.Load() {
			live = append(live, e)
		}
	}
	if len(live) == 0 {
		return
	}
	shards := make([]*shard, min(r.cfg.shards, len(live)))
	for i := range shards {
		shards[i] = &shard{r: r, rng: newRand(r.cfg.seed, uint64(i))}
	}
	for i, e := range live {
		s := shards[i%len(shards)]
		s.editors = append(s.editors, e)
	}
	stop := time.Since(r.epoch) + r.cfg.duration
	var wg gosync.WaitGroup
	for _, s := range shards {
		wg.Go(func() { s.run(stop) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	prev := r.latency.snapshot()
	prevLag := r.scheduleLag.snapshot()
	for {
		select {
		case <-done:
			r.sampleBacklog()
			return
		case <-ctx.Done():
			<-done
			return
		case <-tick.C:
			// Figures for the last interval, to see when latency moved.
			p99, n := r.latency.quantileSince(prev, 0.99)
			lag, _ := r.scheduleLag.quantileSince(prevLag, 0.99)
			backlog := r.sampleBacklog()
			slog.Info("editing", "sent", r.sent.Load(), "delivered", r.delivered.Load(), "delivered_5s", n,
				"p99_5s_ms", float64(p99.Microseconds())/1000, "lag_p99_5s_ms", float64(lag.Microseconds())/1000,
				"tool_rx_queued", backlog.ToolRxBytes, "server_rx_queued", backlog.ServerRxBytes,
				"disconnects", r.disconnects.Load())
		}
	}
}

// expectedDeliveries is what every sent edit owes: one observation by each
// other editor of its document.
func (r *runner) expectedDeliveries() uint64 {
	var n uint64
	for _, d := range r.docs {
		for _, e := range d.editors {
			n += e.sentN.Load() * uint64(len(d.editors)-1)
		}
	}
	return n
}

// taken is how many of e's edits the server took: all it sent while its
// connection held; for a dropped connection the final state tells (before
// the check, the edits echoed back are a lower bound).
func (e *editor) taken() uint64 {
	if a := e.applied.Load(); a >= 0 {
		return uint64(a)
	}
	if e.dead.Load() {
		return e.echoed.Load()
	}
	return e.sentN.Load()
}

// live reports whether e edited and kept its connection to the end.
func (e *editor) live() bool { return e.synced.Load() && !e.dead.Load() }

// liveDeliveries counts what editors whose connection held received from the
// others and what they were owed: every edit the server took.
func (r *runner) liveDeliveries() (got, want, echoesMissing uint64) {
	for _, d := range r.docs {
		var total uint64
		taken := make([]uint64, len(d.editors))
		for p, e := range d.editors {
			taken[p] = e.taken()
			total += taken[p]
		}
		for p, e := range d.editors {
			if !e.live() {
				continue
			}
			want += total - taken[p]
			got += min(e.received.Load(), total-taken[p])
			echoesMissing += e.sentN.Load() - min(e.echoed.Load(), e.sentN.Load())
		}
	}
	return got, want, echoesMissing
}

// drain waits, up to cfg.drain, until every live editor has received all it
// is owed and its own echoes; it returns how long it took and how many
// deliveries had arrived by its end.
func (r *runner) drain(ctx context.Context) (time.Duration, uint64) {
	start := time.Now()
	for time.Since(start) < r.cfg.drain && ctx.Err() == nil {
		got, want, echoesMissing := r.liveDeliveries()
		if got >= want && echoesMissing == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start), r.delivered.Load()
}

// closeAll closes every connection and waits for the readers to stop.
func (r *runner) closeAll() {
	r.closing.Store(true)
	for _, e := range r.editors {
		if e.conn != nil {
			_ = e.conn.Close()
		}
	}
	done := make(chan struct{})
	go func() { r.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		slog.Warn("some connections did not close within 10s")
	}
}

// fetchState opens a fresh connection to doc, asks for the whole document
// and returns the update the server answers with.
func (r *runner) fetchState(ctx context.Context, doc *docRun) ([]byte, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.verifyTimeout)
	defer cancel()
	conn, err := dialWebSocket(cctx, doc.url, 4096, r.cfg.readLimit, r.cfg.writeTimeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(cctx, func() { _ = conn.nc.Close() })
	defer stop()
	for _, m := range r.proto.hello(doc.name) {
		if err := conn.WriteBinary(m); err != nil {
			return nil, fmt.Errorf("request state: %w", err)
		}
	}
	for {
		msg, err := conn.ReadMessage()
		if err != nil {
			if cctx.Err() != nil {
				return nil, fmt.Errorf("no state within %s: %w", r.cfg.verifyTimeout, cctx.Err())
			}
			return nil, fmt.Errorf("read state: %w", err)
		}
		in, err := r.proto.parse(doc.name, msg)
		if err != nil {
			return nil, err
		}
		if in.reply != nil {
			if err := conn.WriteBinary(in.reply); err != nil {
				return nil, fmt.Errorf("reply: %w", err)
			}
		}
		switch in.kind {
		case msgSyncDone:
			return append([]byte(nil), in.update...), nil
		case msgDenied:
			return nil, fmt.Errorf("access denied: %s", in.text)
		}
	}
}

// verifyResult sums the final-state check over all documents.
type verifyResult struct {
	Docs     int `json:"docs"`
	Diverged int `json:"diverged"`
	// Unverified documents: the server did not hand over their state in
	// time (-verify-timeout), so they could not be checked.
	Unverified int      `json:"unverified"`
	Problems   []string `json:"problems,omitempty"` // the first few, one per doc
}

// verifyAll fetches each document's final state and checks that it holds
// every edit sent exactly once, in each editor's order, and nothing else.
func (r *runner) verifyAll(ctx context.Context) verifyResult {
	res := verifyResult{Docs: len(r.docs)}
	var mu gosync.Mutex
	work := make(chan *docRun)
	var wg gosync.WaitGroup
	for range min(8, len(r.docs)) {
		wg.Go(func() {
			for doc := range work {
				err := r.verifyDoc(ctx, doc)
				if err == nil {
					continue
				}
				mu.Lock()
				if errors.Is(err, errDiverged) {
					res.Diverged++
				} else {
					res.Unverified++
				}
				if len(res.Problems) < 10 {
					res.Problems = append(res.Problems, fmt.Sprintf("%s: %v", doc.name, err))
				}
				mu.Unlock()
			}
		})
	}
	for _, doc := range r.docs {
		work <- doc
	}
	close(work)
	wg.Wait()
	return res
}

func (r *runner) verifyDoc(ctx context.Context, doc *docRun) error {
	update, err := r.fetchState(ctx, doc)
	if err != nil {
		return fmt.Errorf("fetch final state: %w", err)
	}
	counts, err := checkDocState(update, doc)
	for p, n := range counts {
		doc.editors[p].applied.Store(int64(n))
	}
	if err != nil {
		// The state is fetched after the drain; if the server had not even
		// echoed some edits by then, say so beside the difference.
		var unconfirmed uint64
		for _, e := range doc.editors {
			if e.live() {
				unconfirmed += e.sentN.Load() - min(e.echoed.Load(), e.sentN.Load())
			}
		}
		if unconfirmed > 0 {
			err = fmt.Errorf("%w (%d of its edits not yet echoed when the state was fetched)", err, unconfirmed)
		}
	}
	return err
}

// errDiverged marks a document whose final state does not match what was sent.
var errDiverged = errors.New("final state differs from the edits sent")

// tokenCheck verifies a stream of tokens against what a document's editors
// sent: each editor's tokens in order 0…sent-1, nothing else.
type tokenCheck struct {
	doc  *docRun
	next []uint64
	err  error

	// contiguous also requires each editor's tokens to form one run.
	contiguous bool
	last       uint64 // client of the previous token
}

func newTokenCheck(doc *docRun) *tokenCheck {
	return &tokenCheck{doc: doc, next: make([]uint64, len(doc.editors))}
}

func (c *tokenCheck) add(t token) {
	if c.err != nil {
		return
	}
	peer := t.client - c.doc.firstClient
	if t.client < c.doc.firstClient || peer >= uint64(len(c.next)) {
		c.err = fmt.Errorf("%w: token of client %d, not an editor of this document", errDiverged, t.client)
		return
	}
	if c.contiguous && t.client != c.last && c.next[peer] > 0 {
		c.err = fmt.Errorf("%w: client %d: its text is split (edit %d after another editor's)", errDiverged, t.client, t.seq)
		return
	}
	c.last = t.client
	if t.seq != c.next[peer] {
		c.err = fmt.Errorf("%w: client %d: edit %d where edit %d was due (duplicate, reordered or lost)", errDiverged, t.client, t.seq, c.next[peer])
		return
	}
	c.next[peer]++
}

// finish checks the counts: all edits of an editor whose connection held
// (plus the one whose write failed, if it arrived); for a connection the
// server dropped, at least those it echoed: the rest were never
// acknowledged, and a real client would send them again on reconnecting.
func (c *tokenCheck) finish() error {
	if c.err != nil {
		return c.err
	}
	for p, e := range c.doc.editors {
		sent := e.sentN.Load()
		lo, hi := sent, sent
		if e.uncertain.Load() {
			hi++
		}
		if e.dead.Load() {
			lo = min(e.echoed.Load(), sent)
		}
		if got := c.next[p]; got < lo || got > hi {
			if lo < sent {
				return fmt.Errorf("%w: client %d (connection dropped): %d edits present, want %d to %d (echoed to sent)", errDiverged, e.clientID, got, lo, hi)
			}
			return fmt.Errorf("%w: client %d: %d of %d edits present", errDiverged, e.clientID, got, sent)
		}
	}
	return nil
}
