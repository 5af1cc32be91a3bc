package httpapi

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/storage"
	qsync "github.com/quire/quire/sync"
)

// failingStore fails Append while failing is set, as a full or broken disk would.
type failingStore struct {
	storage.Store
	mu      gosync.Mutex
	failing bool
}

var errDiskFull = errors.New("disk full (test)")

func (f *failingStore) setFailing(on bool) {
	f.mu.Lock()
	f.failing = on
	f.mu.Unlock()
}

func (f *failingStore) Append(ctx context.Context, entries []storage.Entry) ([]uint64, error) {
	f.mu.Lock()
	failing := f.failing
	f.mu.Unlock()
	if failing {
		return nil, errDiskFull
	}
	return f.Store.Append(ctx, entries)
}

func TestFailedCommitDropsRoomAndClientsPushAgain(t *testing.T) {
	var fs *failingStore
	e := newEnv(t, envOptions{wrap: func(s storage.Store) storage.Store {
		fs = &failingStore{Store: s}
		return fs
	}})
	a := e.dial("a", "doc", dialOptions{})
	b := e.dial("b", "doc", dialOptions{})
	a.waitSynced()
	b.waitSynced()
	a.edit(insert("saved "))
	b.waitText("t", "saved ")
	a.waitEchoes(1)

	fs.setFailing(true)
	a.edit(insert("unsaved "))
	// Never acknowledged nor forwarded; both clients are told to come back later.
	if code := a.waitClosed(); code != 1013 {
		t.Fatalf("a: close %d, want 1013", code)
	}
	if code := b.waitClosed(); code != 1013 {
		t.Fatalf("b: close %d, want 1013", code)
	}
	if got := b.text("t"); got != "saved " {
		t.Errorf("b got an update that was not durable: %q", got)
	}
	fs.setFailing(false)
	// a reconnects with its document (as a provider does) and pushes the
	// edit the server never stored, in its sync step 2.
	a.mu.Lock()
	aDoc := a.doc
	a.mu.Unlock()
	a2 := e.dial("a again", "doc", dialOptions{doc: aDoc})
	b2 := e.dial("b again", "doc", dialOptions{})
	b2.waitText("t", "unsaved saved ")
	a2.waitSynced()
	d, _ := e.storedDoc("doc")
	if got := d.GetText("t").String(); got != "unsaved saved " {
		t.Errorf("stored %q", got)
	}
	if n := e.sessionEnds(qsync.StorageFailed); n != 2 {
		t.Errorf("storage_failed ends %v, want 2", n)
	}
}

func TestCorruptLogEntryIsAnErrorNamingTheDocument(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if err := e.store.CreateDoc(ctx, storage.DocMeta{ID: "broken"}); err != nil {
		t.Fatal(err)
	}
	good := crdt.NewDoc()
	u := good.Transact(func() { good.GetText("t").Insert(0, "fine") })
	if _, err := e.store.Append(ctx, []storage.Entry{{DocID: "broken", Update: u}, {DocID: "broken", Update: []byte{9, 9, 9}}}); err != nil {
		t.Fatal(err)
	}
	err := e.hub.Do(ctx, "broken", func(*crdt.Doc) ([]byte, error) { return nil, nil })
	if !errors.Is(err, qsync.ErrCorrupt) || !strings.Contains(err.Error(), `"broken"`) || !strings.Contains(err.Error(), "log entry 2 of 2") {
		t.Fatalf("Do on a corrupt document: %v", err)
	}
	c := e.dial("c", "broken", dialOptions{})
	if code := c.waitClosed(); code != 1011 {
		t.Errorf("close %d, want 1011", code)
	}
}
