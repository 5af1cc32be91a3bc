package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	gosync "sync"
	"time"

	"github.com/google/uuid"
)

// Webhooks tell other systems what the REST API changed. Each event is
// POSTed as JSON to every configured URL, signed with HMAC-SHA256 of the
// body under the shared secret (header X-Quire-Signature: sha256=<hex>),
// retried with backoff on failure. Delivery is asynchronous and bounded: a
// request never waits for a receiver, and when the queue is full events
// are dropped with a warning. Content changes from any source (live
// typing, imports, restores) are debounced per document into one
// document.changed event once the document has been quiet for a while (or
// has kept changing for MaxWait), so a receiver is not called per keystroke.

// Event types.
const (
	EventDocCreated      = "document.created"
	EventDocRenamed      = "document.renamed"
	EventDocDeleted      = "document.deleted"
	EventContentImported = "document.content_imported"
	EventVersionCreated  = "version.created"
	EventVersionRestored = "version.restored"
	EventShareCreated    = "share.created"
	EventShareRevoked    = "share.revoked"
	EventDocChanged      = "document.changed" // debounced; content changed and is durable
)

// WebhookEvent is the body of a webhook POST.
type WebhookEvent struct {
	ID    string         `json:"id"` // unique per event: receivers can drop repeats
	Type  string         `json:"type"`
	DocID string         `json:"doc_id"`
	Time  string         `json:"time"` // RFC 3339
	Data  map[string]any `json:"data,omitempty"`
}

// WebhookConfig configures delivery.
type WebhookConfig struct {
	URLs   []string
	Secret string // signs each body; empty: unsigned
	// Attempts per URL (default 4) and the first retry delay (default 1 s,
	// doubling).
	Attempts   int
	RetryDelay time.Duration
	QueueSize  int // events waiting for delivery (default 1024)
	Client     *http.Client
	// A document.changed event goes out once a document has had no change
	// for Debounce (default 2 s), or MaxWait (default 30 s) after its first
	// unreported change if it keeps changing.
	Debounce time.Duration
	MaxWait  time.Duration
}

type webhooks struct {
	cfg   WebhookConfig
	log   *slog.Logger
	queue chan WebhookEvent
	stop  chan struct{}
	done  chan struct{}
	once  gosync.Once

	mu      gosync.Mutex
	changes map[string]pendingChange // documents changed since their last document.changed
}

type pendingChange struct{ first, last time.Time }

func newWebhooks(cfg WebhookConfig, log *slog.Logger) *webhooks {
	if len(cfg.URLs) == 0 {
		return nil
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 2 * time.Second
	}
	if cfg.MaxWait < cfg.Debounce {
		cfg.MaxWait = max(30*time.Second, cfg.Debounce)
	}
	w := &webhooks{cfg: cfg, log: log, queue: make(chan WebhookEvent, cfg.QueueSize), stop: make(chan struct{}), done: make(chan struct{}),
		changes: make(map[string]pendingChange)}
	go w.run()
	return w
}

// emit queues an event without waiting.
func (w *webhooks) emit(typ, docID string, data map[string]any) {
	if w == nil {
		return
	}
	ev := WebhookEvent{ID: uuid.NewString(), Type: typ, DocID: docID, Time: time.Now().UTC().Format(time.RFC3339Nano), Data: data}
	select {
	case w.queue <- ev:
	default:
		w.log.Warn("webhook queue full: event dropped", "type", typ, "doc", docID, "queue", w.cfg.QueueSize)
	}
}

// changed records that a document's content changed. It never blocks: it
// is called on the committer's goroutine after every durable commit.
func (w *webhooks) changed(docID string) {
	if w == nil {
		return
	}
	now := time.Now()
	w.mu.Lock()
	c, ok := w.changes[docID]
	if !ok {
		c.first = now
	}
	c.last = now
	w.changes[docID] = c
	w.mu.Unlock()
}

// emitSettled queues document.changed for every document quiet for
// Debounce or waiting for MaxWait (all of them with flush).
func (w *webhooks) emitSettled(now time.Time, flush bool) {
	var ready []string
	w.mu.Lock()
	for id, c := range w.changes {
		if flush || now.Sub(c.last) >= w.cfg.Debounce || now.Sub(c.first) >= w.cfg.MaxWait {
			ready = append(ready, id)
			delete(w.changes, id)
		}
	}
	w.mu.Unlock()
	for _, id := range ready {
		w.emit(EventDocChanged, id, nil)
	}
}

func (w *webhooks) run() {
	defer close(w.done)
	tick := time.NewTicker(max(w.cfg.Debounce/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			w.emitSettled(now, false)
		case ev := <-w.queue:
			w.deliver(ev)
		case <-w.stop:
			w.emitSettled(time.Now(), true)
			// Deliver what is queued, once, without retries.
			for {
				select {
				case ev := <-w.queue:
					w.send(ev, 1)
				default:
					return
				}
			}
		}
	}
}

func (w *webhooks) deliver(ev WebhookEvent) { w.send(ev, w.cfg.Attempts) }

func (w *webhooks) send(ev WebhookEvent, attempts int) {
	body, err := json.Marshal(ev)
	if err != nil {
		w.log.Error("webhook: encode event", "type", ev.Type, "err", err)
		return
	}
	for _, url := range w.cfg.URLs {
		delay := w.cfg.RetryDelay
		for attempt := 1; ; attempt++ {
			err := w.post(url, ev, body)
			if err == nil {
				break
			}
			if attempt >= attempts {
				w.log.Warn("webhook delivery failed", "url", url, "type", ev.Type, "doc", ev.DocID, "attempts", attempt, "err", err)
				break
			}
			select {
			case <-time.After(delay):
			case <-w.stop:
				attempts = attempt + 1 // one last try, then move on
			}
			delay *= 2
		}
	}
}

func (w *webhooks) post(url string, ev WebhookEvent, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Quire-Webhook/1")
	req.Header.Set("X-Quire-Event", ev.Type)
	req.Header.Set("X-Quire-Delivery", ev.ID)
	if w.cfg.Secret != "" {
		req.Header.Set("X-Quire-Signature", "sha256="+SignWebhook(w.cfg.Secret, body))
	}
	res, err := w.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", res.Status)
	}
	return nil
}

// SignWebhook is the hex HMAC-SHA256 of body under secret, as sent in
// X-Quire-Signature (after "sha256="). Receivers compute it to check a
// delivery came from this server.
func SignWebhook(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// close stops delivery after one last try of what is queued, or when ctx
// ends.
func (w *webhooks) close(ctx context.Context) error {
	if w == nil {
		return nil
	}
	w.once.Do(func() { close(w.stop) })
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
