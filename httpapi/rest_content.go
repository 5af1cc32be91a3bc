package httpapi

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/httpapi/content"
	"github.com/quire/quire/storage"
)

// Export formats beyond the content package's: every root as JSON, and
// the raw Yjs state.
const (
	formatJSON = "json"
	formatYjs  = "yjs"
)

var exportFormats = "text, json, prosemirror, markdown, html or yjs"

// contentTypes maps an import Content-Type to a format when ?format= is
// absent.
var contentTypes = map[string]string{
	"text/markdown":            string(content.FormatMarkdown),
	"text/x-markdown":          string(content.FormatMarkdown),
	"text/html":                string(content.FormatHTML),
	"text/plain":               string(content.FormatText),
	"application/json":         string(content.FormatProseMirror),
	"application/octet-stream": formatYjs,
}

// readState returns the document's current state as one Yjs update, read
// through its room so that it includes everything acknowledged so far.
func (a *REST) readState(r *http.Request, id string) ([]byte, error) {
	if _, err := a.store.GetDoc(r.Context(), id); err != nil {
		return nil, err
	}
	var state []byte
	err := a.roomDo(r.Context(), id, func(d *crdt.Doc) ([]byte, error) {
		s, err := d.EncodeStateAsUpdate(nil)
		state = s
		return nil, err
	})
	return state, err
}

func (a *REST) getContent(w http.ResponseWriter, r *http.Request) {
	format, err := exportFormat(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	state, err := a.readState(r, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeContent(w, r, format, state)
}

func exportFormat(r *http.Request) (string, error) {
	f := r.URL.Query().Get("format")
	switch f {
	case "":
		return string(content.FormatProseMirror), nil
	case "text", "json", "prosemirror", "markdown", "html", "yjs":
		return f, nil
	}
	return "", errorf(http.StatusUnsupportedMediaType, "unsupported_format", "format is %q; use %s", f, exportFormats)
}

// writeContent renders a document state (a Yjs update) in format.
func (a *REST) writeContent(w http.ResponseWriter, r *http.Request, format string, state []byte) {
	if format == formatYjs {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(state)
		return
	}
	d := crdt.NewDoc()
	if err := d.ApplyUpdate(state); err != nil {
		a.fail(w, r, fmt.Errorf("decode stored state: %w", err))
		return
	}
	if root := r.URL.Query().Get("root"); root != "" {
		if format != string(content.FormatText) {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_parameter", "root names a Y.Text root and goes with format=text only"))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(d.GetText(root).String()))
		return
	}
	if format == formatJSON {
		// A Yjs document only knows a root's type once it is asked for by
		// type; these are the roots Quire's editor uses.
		d.GetXmlFragment(BodyRoot)
		d.GetMap(MetaRoot)
		writeJSON(w, http.StatusOK, d.ToJSON())
		return
	}
	body, err := content.FromFragment(d.GetXmlFragment(BodyRoot))
	if err != nil {
		a.fail(w, r, fmt.Errorf("read document body: %w", err))
		return
	}
	out, err := content.Render(content.Format(format), body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	switch content.Format(format) {
	case content.FormatProseMirror:
		h.Set("Content-Type", "application/json; charset=utf-8")
	case content.FormatMarkdown:
		h.Set("Content-Type", "text/markdown; charset=utf-8")
	case content.FormatHTML:
		h.Set("Content-Type", "text/html; charset=utf-8")
		// Exported HTML is the document's, not the app's: never run it here.
		h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	_, _ = w.Write(out)
}

func (a *REST) putContent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		format = contentTypes[mt]
		if format == "" {
			a.fail(w, r, errorf(http.StatusUnsupportedMediaType, "unsupported_format",
				"say what the body is with ?format=markdown|html|prosemirror|text|yjs (or a Content-Type such as text/markdown)"))
			return
		}
	}
	switch format {
	case "markdown", "html", "prosemirror", "text", "yjs":
	default:
		a.fail(w, r, errorf(http.StatusUnsupportedMediaType, "unsupported_format", "format is %q; import markdown, html, prosemirror, text or yjs", format))
		return
	}
	mode := q.Get("mode")
	switch mode {
	case "":
		mode = "replace"
	case "replace", "append":
	default:
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_parameter", "mode is %q; use replace or append", mode))
		return
	}
	if format == formatYjs && q.Get("mode") == "append" {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_parameter", "a yjs update is merged into the document; mode does not apply to it"))
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ctx := r.Context()
	if _, err := a.store.GetDoc(ctx, id); err != nil {
		a.fail(w, r, err)
		return
	}
	root := q.Get("root")
	if root != "" && format != string(content.FormatText) {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_parameter", "root names a Y.Text root and goes with format=text only"))
		return
	}
	if root != "" {
		text, terr := content.ParseTextRaw(raw)
		if terr != nil {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_content", "the body is not valid text: %v", terr))
			return
		}
		err = a.roomDo(ctx, id, func(d *crdt.Doc) ([]byte, error) {
			t := d.GetText(root)
			return d.Transact(func() {
				if mode == "append" {
					t.Insert(t.Len(), text)
				} else {
					content.SpliceText(t, text)
				}
			}), nil
		})
	} else if format == formatYjs {
		// Check the update on a scratch document first: a malformed one
		// must change nothing and say so.
		if err := crdt.NewDoc().ApplyUpdate(raw); err != nil {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_content", "the body is not a valid Yjs v1 update: %v", err))
			return
		}
		err = a.roomDo(ctx, id, func(d *crdt.Doc) ([]byte, error) {
			if err := d.ApplyUpdate(raw); err != nil {
				return nil, err
			}
			return raw, nil
		})
	} else {
		var doc *content.Node
		doc, err = content.Parse(content.Format(format), raw)
		if err != nil {
			a.fail(w, r, errorf(http.StatusBadRequest, "invalid_content", "the body is not valid %s: %v", format, err))
			return
		}
		err = a.roomDo(ctx, id, func(d *crdt.Doc) ([]byte, error) {
			var werr error
			u := d.Transact(func() {
				frag := d.GetXmlFragment(BodyRoot)
				if mode == "append" {
					werr = content.AppendToFragment(frag, doc)
				} else {
					werr = content.UpdateFragment(frag, doc)
				}
			})
			return u, werr
		})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	data := map[string]any{"format": format, "mode": mode}
	if root != "" {
		data["root"] = root
	}
	a.hooks.emit(EventContentImported, id, data)
	meta, err := a.store.GetDoc(ctx, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.docView(r, meta))
}

type versionJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	SizeBytes int64  `json:"size_bytes"`
}

func versionView(v storage.Version) versionJSON {
	return versionJSON{ID: v.ID, Name: v.Name, CreatedAt: v.Created.UTC().Format(time.RFC3339), SizeBytes: v.Size}
}

type createVersionRequest struct {
	Name *string `json:"name"`
}

const maxVersionNameLen = 200

func (a *REST) createVersion(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req createVersionRequest
	if err := a.readJSON(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_field", "field \"name\" is required: say what this version is (\"Sent to review\")"))
		return
	}
	name, err := checkTitle("name", *req.Name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if len([]rune(name)) > maxVersionNameLen {
		a.fail(w, r, errorf(http.StatusBadRequest, "invalid_field", "field \"name\" is longer than %d characters", maxVersionNameLen))
		return
	}
	state, err := a.readState(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := storage.Version{ID: uuid.NewString(), DocID: id, Name: name, Created: time.Now().UTC(), State: state, Size: int64(len(state))}
	if err := a.store.CreateVersion(r.Context(), v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.hooks.emit(EventVersionCreated, id, map[string]any{"version_id": v.ID, "name": v.Name})
	writeJSON(w, http.StatusCreated, versionView(v))
}

func (a *REST) listVersions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.store.GetDoc(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	vs, err := a.store.ListVersions(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]versionJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, versionView(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
}

func (a *REST) getVersionContent(w http.ResponseWriter, r *http.Request) {
	format, err := exportFormat(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := a.store.GetVersion(r.Context(), r.PathValue("id"), r.PathValue("vid"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeContent(w, r, format, v.State)
}

// restoreVersion makes the document's body equal to the version's again
// with a forward edit: the difference between the current body and the
// version's, as CRDT operations that every editor receives. History is
// kept; paragraphs that did not change are left alone, so edits people
// make in them meanwhile survive.
func (a *REST) restoreVersion(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	v, err := a.store.GetVersion(ctx, id, r.PathValue("vid"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	old := crdt.NewDoc()
	if err := old.ApplyUpdate(v.State); err != nil {
		a.fail(w, r, fmt.Errorf("decode version %s: %w", v.ID, err))
		return
	}
	body, err := content.FromFragment(old.GetXmlFragment(BodyRoot))
	if err != nil {
		a.fail(w, r, fmt.Errorf("read version %s: %w", v.ID, err))
		return
	}
	err = a.roomDo(ctx, id, func(d *crdt.Doc) ([]byte, error) {
		var werr error
		u := d.Transact(func() { werr = content.UpdateFragment(d.GetXmlFragment(BodyRoot), body) })
		return u, werr
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.hooks.emit(EventVersionRestored, id, map[string]any{"version_id": v.ID, "name": v.Name})
	meta, err := a.store.GetDoc(ctx, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.docView(r, meta))
}
