package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	gosync "sync"
	"testing"
	"time"

	"github.com/quire/quire/crdt"
	qsync "github.com/quire/quire/sync"
)

// Live typing over WebSockets changes a document too: the webhook receiver
// gets one signed document.changed per burst of edits (debounced per
// document), not one per keystroke, and a later edit gets another.
func TestWebhookDocumentChangedIsDebouncedPerDocument(t *testing.T) {
	var mu gosync.Mutex
	changed := map[string]int{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		if r.Header.Get("X-Quire-Signature") != "sha256="+SignWebhook("k", body) {
			t.Errorf("bad signature on %s", ev.Type)
		}
		if ev.Type == EventDocChanged {
			mu.Lock()
			changed[ev.DocID]++
			mu.Unlock()
		}
	}))
	defer receiver.Close()
	count := func(id string) int {
		mu.Lock()
		defer mu.Unlock()
		return changed[id]
	}

	const debounce = 300 * time.Millisecond
	e := newRESTEnvWith(t, func(cfg *qsync.Config, changed func(string)) { cfg.Changed = changed }, func(_ *qsync.Hub, rc *RESTConfig) {
		rc.Webhooks = WebhookConfig{URLs: []string{receiver.URL}, Secret: "k", Debounce: debounce, MaxWait: 20 * time.Second}
	})

	a := e.create("Typed", "", "").ID
	quiet := e.create("Untouched", "", "").ID
	c := e.dial(a, 41)
	type1 := func(n int) {
		for i := range n {
			c.edit(func(d *crdt.Doc) { d.GetText("t").Insert(0, string(rune('a'+i%26))) })
			time.Sleep(5 * time.Millisecond) // well inside the debounce window
		}
	}
	type1(40)
	waitFor(t, 5*time.Second, "one document.changed after the burst", func() bool { return count(a) >= 1 })
	time.Sleep(3 * debounce)
	if n := count(a); n != 1 {
		t.Fatalf("%d document.changed events for one burst of 40 edits, want 1", n)
	}
	type1(1)
	waitFor(t, 5*time.Second, "a second document.changed after a later edit", func() bool { return count(a) == 2 })
	if n := count(quiet); n != 0 {
		t.Errorf("%d document.changed events for a document nobody edited", n)
	}
}
