package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/httpapi/content"
	"github.com/quire/quire/storage"
)

// Rooms is what the REST API needs from live collaboration; *sync.Hub
// has it. Every read and edit of a document's content goes through its
// room, so each document has one writer at all times.
type Rooms interface {
	// Do runs fn on the document's crdt.Doc in its room (loading it) and
	// returns once what fn saw or changed is durable; the update fn
	// returns is stored and sent to every connected editor.
	Do(ctx context.Context, docID string, fn func(doc *crdt.Doc) (update []byte, err error)) error
}

// roomDo is Rooms.Do; when it fails because the document went away
// meanwhile, the error says not found.
func (a *REST) roomDo(ctx context.Context, id string, fn func(doc *crdt.Doc) ([]byte, error)) error {
	err := a.rooms.Do(ctx, id, fn)
	if err != nil {
		if _, gerr := a.store.GetDoc(context.WithoutCancel(ctx), id); errors.Is(gerr, storage.ErrNotFound) {
			return gerr
		}
		if a.unavailable != nil && a.unavailable(err) {
			return errorf(http.StatusServiceUnavailable, "unavailable", "the server is restarting; try again in a few seconds")
		}
	}
	return err
}

// Document roots the REST API reads and writes. TipTap keeps its body in
// the XmlFragment "default"; the editor keeps the title in the Y.Map
// "meta" under "title" so that a rename shows live.
const (
	BodyRoot     = "default"
	MetaRoot     = "meta"
	MetaKeyTitle = "title"
)

const maxTitleLen = 500 // characters

func checkTitle(field, t string) (string, error) {
	t = strings.TrimSpace(t)
	if utf8.RuneCountInString(t) > maxTitleLen || len(t) > storage.MaxTitleLen {
		return "", errorf(http.StatusBadRequest, "invalid_field", "field %q is longer than %d characters", field, maxTitleLen)
	}
	for _, r := range t {
		if unicode.IsControl(r) {
			return "", errorf(http.StatusBadRequest, "invalid_field", "field %q contains a control character (U+%04X); titles are one line of text", field, r)
		}
	}
	return t, nil
}

type createDocRequest struct {
	Title   *string `json:"title"`
	Content *string `json:"content"`
	Format  *string `json:"format"`
}

func (a *REST) createDoc(w http.ResponseWriter, r *http.Request) {
	var req createDocRequest
	if err := a.readJSON(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	id := uuid.NewString()
	title := ""
	if req.Title != nil {
		t, err := checkTitle("title", *req.Title)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		title = t
	}
	if title == "" {
		title = id // storage's default: a title is never empty
	}
	var body *content.Node
	if req.Content != nil && *req.Content != "" {
		f := content.FormatMarkdown
		if req.Format != nil && *req.Format != "" {
			f = content.Format(*req.Format)
		}
		if f != content.FormatMarkdown && f != content.FormatHTML && f != content.FormatText && f != content.FormatProseMirror {
			a.fail(w, r, errorf(http.StatusUnsupportedMediaType, "unsupported_format",
				"field \"format\" is %q; use markdown, html, text or prosemirror", f))
			return
		}
		doc, err := content.Parse(f, []byte(*req.Content))
		if err != nil {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_content", "field \"content\" is not valid %s: %v", f, err))
			return
		}
		body = doc
	} else if req.Format != nil && *req.Format != "" && req.Content == nil {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_field", "field \"format\" is given without \"content\""))
		return
	}
	// The first update holds the title (in meta) and the initial body;
	// nobody can be connected to a new id, so it goes straight to the log.
	update, err := initialUpdate(title, body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := time.Now().UTC()
	ctx := r.Context()
	if err := a.store.CreateDoc(ctx, storage.DocMeta{ID: id, Title: title, Created: now, Updated: now}); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.store.Append(ctx, []storage.Entry{{DocID: id, Update: update}}); err != nil {
		// Do not leave a document without its title and content behind.
		if derr := a.store.DeleteDoc(context.WithoutCancel(ctx), id); derr != nil {
			a.log.Error("rest: cleanup after failed create", "doc", id, "err", derr)
		}
		a.fail(w, r, err)
		return
	}
	meta, err := a.store.GetDoc(ctx, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.hooks.emit(EventDocCreated, id, map[string]any{"title": title})
	w.Header().Set("Location", RESTPrefix+"/docs/"+id)
	writeJSON(w, http.StatusCreated, a.docView(r, meta))
}

func initialUpdate(title string, body *content.Node) ([]byte, error) {
	d := crdt.NewDoc()
	var werr error
	update := d.Transact(func() {
		werr = d.GetMap(MetaRoot).Set(MetaKeyTitle, title)
		if body != nil && werr == nil {
			werr = content.WriteFragment(d.GetXmlFragment(BodyRoot), body)
		}
	})
	if werr != nil {
		return nil, fmt.Errorf("build initial document: %w", werr)
	}
	return update, nil
}

func (a *REST) listDocs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := storage.ListOptions{Filter: q.Get("q"), Cursor: q.Get("cursor")}
	switch s := q.Get("sort"); s {
	case "", "updated":
		opts.Sort = storage.SortUpdated
	case "created":
		opts.Sort = storage.SortCreated
	case "title":
		opts.Sort = storage.SortTitle
	default:
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_parameter", "sort is %q; use updated, created or title", s))
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_parameter", "limit is %q; use a whole number from 1 to 500", l))
			return
		}
		opts.Limit = n
	}
	docs, next, err := a.store.ListDocs(r.Context(), opts)
	if err != nil {
		if opts.Cursor != "" && errors.Is(err, storage.ErrInvalid) {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_parameter", "cursor is not one this server gave out for this sort; start again without it"))
			return
		}
		a.fail(w, r, err)
		return
	}
	out := make([]docJSON, 0, len(docs))
	for _, m := range docs {
		out = append(out, a.docView(r, m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"docs": out, "next_cursor": next})
}

func (a *REST) getDoc(w http.ResponseWriter, r *http.Request) {
	meta, err := a.store.GetDoc(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.docView(r, meta))
}

type renameRequest struct {
	Title *string `json:"title"`
}

func (a *REST) renameDoc(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req renameRequest
	if err := a.readJSON(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Title == nil {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_field", "field \"title\" is required"))
		return
	}
	title, err := checkTitle("title", *req.Title)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if title == "" {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_field", "field \"title\" must not be empty"))
		return
	}
	ctx := r.Context()
	if err := a.store.RenameDoc(ctx, id, title); err != nil {
		a.fail(w, r, err)
		return
	}
	// Open editors read the title from the document itself.
	err = a.roomDo(ctx, id, func(d *crdt.Doc) ([]byte, error) {
		m := d.GetMap(MetaRoot)
		if cur, _ := m.Get(MetaKeyTitle); cur == title {
			return nil, nil
		}
		var serr error
		u := d.Transact(func() { serr = m.Set(MetaKeyTitle, title) })
		return u, serr
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.hooks.emit(EventDocRenamed, id, map[string]any{"title": title})
	meta, err := a.store.GetDoc(ctx, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.docView(r, meta))
}

func (a *REST) deleteDoc(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.store.DeleteDoc(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	// Connected editors are told (a final close code: they do not
	// reconnect); the room is dropped without writing anything more.
	if a.closeDeleted != nil {
		if err := a.closeDeleted(context.WithoutCancel(r.Context()), id); err != nil {
			a.log.Warn("rest: closing sessions of a deleted document", "doc", id, "err", err)
		}
	}
	a.hooks.emit(EventDocDeleted, id, nil)
	w.WriteHeader(http.StatusNoContent)
}
