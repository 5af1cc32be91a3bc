package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/storage"
)

func TestWebSocketTokens(t *testing.T) {
	e := newEnv(t, envOptions{adminKey: "admin-secret"})
	ctx := context.Background()
	for _, id := range []string{"doc", "other"} {
		if err := e.store.CreateDoc(ctx, storage.DocMeta{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	share := func(id, doc string, role storage.Role, secret string) {
		if err := e.store.CreateShareToken(ctx, storage.ShareToken{ID: id, DocID: doc, Role: role}, secret); err != nil {
			t.Fatal(err)
		}
	}
	share("00000000-0000-0000-0000-000000000001", "doc", storage.RoleEditor, "editor-secret")
	share("00000000-0000-0000-0000-000000000002", "doc", storage.RoleViewer, "viewer-secret")
	withToken := func(doc, tok string) string { return doc + "?token=" + url.QueryEscape(tok) }

	none := e.dial("none", "doc", dialOptions{})
	if code := none.waitClosed(); code != 4401 {
		t.Errorf("no token: close %d, want 4401", code)
	}
	if len(none.denied) != 1 || !strings.Contains(none.denied[0], "token") {
		t.Errorf("no permission-denied message before the close: %q", none.denied)
	}
	wrongDoc := e.dial("wrong-doc", withToken("other", "editor-secret"), dialOptions{})
	if code := wrongDoc.waitClosed(); code != 4403 {
		t.Errorf("share token of another doc: close %d, want 4403", code)
	}

	admin := e.dial("admin", withToken("doc", "admin-secret"), dialOptions{})
	editor := e.dial("editor", withToken("doc", "editor-secret"), dialOptions{})
	viewer := e.dial("viewer", withToken("doc", "viewer-secret"), dialOptions{})
	for _, c := range []*wsClient{admin, editor, viewer} {
		c.waitSynced()
	}
	editor.edit(insert("by editor "))
	viewer.waitText("t", "by editor ")
	// A viewer's edits are not applied: nobody sees them, nothing is stored.
	viewer.edit(func(d *crdt.Doc) { d.GetText("t").Insert(0, "VIEWER ") })
	// Awareness sent after it on the same connection: once the editor has
	// it, the room has handled the viewer's edit.
	marker := awEntry{clientID: 55, clock: 1, state: `{"viewer":true}`}
	viewer.send(awarenessFrame(marker))
	checkFor(t, 5*time.Second, func() error {
		if !editor.hasAwareness(marker) {
			return errors.New("viewer's awareness not relayed")
		}
		return nil
	})
	admin.edit(func(d *crdt.Doc) { d.GetText("t").Insert(10, "+admin") })
	editor.waitText("t", "by editor +admin")
	admin.waitText("t", "by editor +admin")
	stored, _ := e.storedDoc("doc")
	if got := stored.GetText("t").String(); got != "by editor +admin" {
		t.Errorf("stored %q", got)
	}
}

// A viewer receives everything live, but its edits are refused: the
// document is unchanged, the client is told with y-protocols' auth
// permission-denied message (once per burst, not once per keystroke) and
// stays connected. Syncing what it already has is not an edit.
func TestViewerEditsRefusedWithPermissionDenied(t *testing.T) {
	e := newEnv(t, envOptions{adminKey: "admin-secret"})
	ctx := context.Background()
	if err := e.store.CreateDoc(ctx, storage.DocMeta{ID: "doc"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateShareToken(ctx, storage.ShareToken{ID: "00000000-0000-0000-0000-000000000003",
		DocID: "doc", Role: storage.RoleViewer}, "viewer-secret"); err != nil {
		t.Fatal(err)
	}
	editor := e.dial("editor", "doc?token=admin-secret", dialOptions{})
	editor.waitSynced()
	editor.edit(insert("shared "))
	editor.waitEchoes(1)

	// A viewer whose doc already holds the whole document (a reconnect):
	// its sync step 2 carries nothing new and is not refused.
	known := crdt.NewDoc()
	full, _ := e.storedDoc("doc")
	u, err := full.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := known.ApplyUpdate(u); err != nil {
		t.Fatal(err)
	}
	viewer := e.dial("viewer", "doc?token=viewer-secret", dialOptions{doc: known})
	viewer.waitSynced()
	viewer.barrier() // its step 2 has been handled
	if d := viewer.deniedReasons(); len(d) != 0 {
		t.Fatalf("a viewer syncing what it has was refused: %q", d)
	}
	editor.edit(insert("live "))
	viewer.waitText("t", "live shared ")

	// A burst of edits: refused, one notice, still connected.
	for i := 0; i < 20; i++ {
		viewer.edit(insert("V"))
	}
	viewer.barrier()
	checkFor(t, 5*time.Second, func() error {
		if d := viewer.deniedReasons(); len(d) != 1 || !strings.Contains(d[0], "read-only") {
			return fmt.Errorf("permission-denied messages %q, want one", d)
		}
		return nil
	})
	editor.edit(insert("more"))
	editor.waitText("t", "morelive shared ")  // the viewer's edits reach nobody…
	checkFor(t, 5*time.Second, func() error { // …and it still receives the others' live
		if got := viewer.text("t"); !strings.Contains(got, "more") {
			return fmt.Errorf("viewer has %q", got)
		}
		return nil
	})
	select {
	case <-viewer.done:
		t.Fatalf("viewer disconnected: %v", viewer.closeErr)
	default:
	}
	stored, _ := e.storedDoc("doc")
	if got := stored.GetText("t").String(); got != "morelive shared " {
		t.Errorf("stored %q, want the editor's text only", got)
	}
}

func (c *wsClient) deniedReasons() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.denied...)
}
