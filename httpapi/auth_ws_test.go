package httpapi

import (
	"context"
	"errors"
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
