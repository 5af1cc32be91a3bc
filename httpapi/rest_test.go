package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/httpapi/content"
	"github.com/quire/quire/storage"
	qsync "github.com/quire/quire/sync"
)

// restEnv is a whole Quire HTTP surface on a real bbolt file: the REST API
// and the WebSocket endpoint on one test server (NewHandler's router),
// sharing one hub.
type restEnv struct {
	t     *testing.T
	srv   *httptest.Server
	store *storage.BoltStore
	hub   *qsync.Hub
	token string // sent as Authorization: Bearer when set
}

func newRESTEnv(t *testing.T, maxBody int64) *restEnv {
	return newRESTEnvAuth(t, maxBody, "")
}

func newRESTEnvAuth(t *testing.T, maxBody int64, adminKey string) *restEnv {
	t.Helper()
	return newRESTEnvWith(t, func(cfg *qsync.Config, _ func(string)) {
		cfg.CreateOnConnect = false
		cfg.TickInterval = 50 * time.Millisecond
	}, func(hub *qsync.Hub, rc *RESTConfig) {
		rc.Editors, rc.MaxBodyBytes, rc.Version, rc.AdminKey = hub.Editors, maxBody, "test", adminKey
		rc.CloseDeleted = func(ctx context.Context, id string) error { return hub.CloseDoc(ctx, id, qsync.DocumentDeleted) }
		rc.Unavailable = func(err error) bool { return errors.Is(err, qsync.ErrShuttingDown) }
	})
}

// newRESTEnvWith serves the real router (REST and WebSockets on one
// server, as cmd/quire wires them) on a fresh bbolt file. hubCfg adjusts
// qsync.DefaultConfig; setting Changed to the function it is given makes
// durable changes reach the REST API (document.changed webhooks), as in
// cmd/quire. restCfg fills the RESTConfig beyond Store and Rooms.
// Everything is shut down in cmd/quire's order after the test.
func newRESTEnvWith(t *testing.T, hubCfg func(cfg *qsync.Config, changed func(docID string)), restCfg func(*qsync.Hub, *RESTConfig)) *restEnv {
	t.Helper()
	store, err := storage.OpenBolt(filepath.Join(t.TempDir(), "quire.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rest *REST // set below, before anything is served
	cfg := qsync.DefaultConfig
	cfg.Store = store
	hubCfg(&cfg, func(id string) { rest.DocumentChanged(id) })
	hub, err := qsync.NewHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc := RESTConfig{Store: store, Rooms: hub}
	restCfg(hub, &rc)
	rest = NewREST(rc)
	e := &restEnv{t: t, srv: httptest.NewServer(NewHandler(Config{Hub: hub, Store: store, REST: rest})), store: store, hub: hub}
	t.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		if err := rest.Close(ctx); err != nil {
			t.Errorf("webhooks close: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return e
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.body)
	}
}

func (r apiResponse) errorCode(t *testing.T) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	r.json(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body lacks code or message: %s", r.body)
	}
	return e.Error.Code, e.Error.Message
}

func (e *restEnv) do(method, path, contentType string, body []byte) apiResponse {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return apiResponse{status: res.StatusCode, header: res.Header, body: b}
}

func (e *restEnv) doJSON(method, path string, v any) apiResponse {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(method, path, "application/json", b)
}

func (e *restEnv) must(status int, r apiResponse) apiResponse {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (e *restEnv) create(title, body, format string) docJSON {
	e.t.Helper()
	req := map[string]any{"title": title}
	if body != "" {
		req["content"] = body
		req["format"] = format
	}
	var d docJSON
	e.must(http.StatusCreated, e.doJSON("POST", "/api/v1/docs", req)).json(e.t, &d)
	return d
}

func (e *restEnv) content(id, format string) string {
	e.t.Helper()
	return string(e.must(http.StatusOK, e.do("GET", "/api/v1/docs/"+id+"/content?format="+format, "", nil)).body)
}

func TestRESTDocumentLife(t *testing.T) {
	e := newRESTEnv(t, 0)
	var info map[string]any
	e.must(200, e.do("GET", "/api/v1/info", "", nil)).json(t, &info)
	if info["version"] != "test" || info["auth_required"] != false {
		t.Errorf("info: %v", info)
	}

	// Create with Markdown content.
	md := "# Plan\n\nShip **fast**, _test_ well.\n\n- one\n- two\n"
	r := e.must(201, e.doJSON("POST", "/api/v1/docs", map[string]any{"title": "Plan", "content": md, "format": "markdown"}))
	var doc docJSON
	r.json(t, &doc)
	if doc.ID == "" || doc.Title != "Plan" || doc.SizeBytes == 0 || doc.Editors != 0 {
		t.Fatalf("created: %+v", doc)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/docs/"+doc.ID {
		t.Errorf("Location %q", loc)
	}
	for _, ts := range []string{doc.CreatedAt, doc.UpdatedAt} {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("timestamp %q: %v", ts, err)
		}
	}
	var got docJSON
	e.must(200, e.do("GET", "/api/v1/docs/"+doc.ID, "", nil)).json(t, &got)
	if got != doc {
		t.Errorf("get: %+v, created %+v", got, doc)
	}

	// Every export format.
	if out := e.content(doc.ID, "markdown"); out != md {
		t.Errorf("markdown: %q", out)
	}
	if out := e.content(doc.ID, "html"); out != "<h1>Plan</h1><p>Ship <strong>fast</strong>, <em>test</em> well.</p><ul><li><p>one</p></li><li><p>two</p></li></ul><p></p>" {
		t.Errorf("html: %s", out)
	}
	if out := e.content(doc.ID, "text"); out != "Plan\nShip fast, test well.\none\ntwo\n" {
		t.Errorf("text: %q", out)
	}
	pm, err := content.ParseProseMirror([]byte(e.content(doc.ID, "prosemirror")))
	if err != nil {
		t.Fatalf("prosemirror export does not parse: %v", err)
	}
	want, _ := content.ParseMarkdown([]byte(md))
	if !reflect.DeepEqual(pm, content.WithTrailingParagraph(want)) {
		t.Errorf("prosemirror export differs from the import")
	}
	var roots map[string]any
	if err := json.Unmarshal([]byte(e.content(doc.ID, "json")), &roots); err != nil {
		t.Fatal(err)
	}
	if roots["meta"].(map[string]any)["title"] != "Plan" || !strings.Contains(roots["default"].(string), "<heading level=\"1\">Plan</heading>") {
		t.Errorf("json: %v", roots)
	}
	ydoc := crdt.NewDoc()
	if err := ydoc.ApplyUpdate([]byte(e.content(doc.ID, "yjs"))); err != nil {
		t.Fatalf("yjs export: %v", err)
	}

	// Rename: storage and the document's meta map.
	var renamed docJSON
	e.must(200, e.doJSON("PATCH", "/api/v1/docs/"+doc.ID, map[string]any{"title": "Plan B"})).json(t, &renamed)
	if renamed.Title != "Plan B" {
		t.Errorf("renamed: %+v", renamed)
	}
	if err := json.Unmarshal([]byte(e.content(doc.ID, "json")), &roots); err != nil || roots["meta"].(map[string]any)["title"] != "Plan B" {
		t.Errorf("meta title after rename: %v %v", roots, err)
	}

	// Import: replace with HTML, append text, merge a Yjs update.
	e.must(200, e.do("PUT", "/api/v1/docs/"+doc.ID+"/content?format=html", "", []byte("<h2>New</h2><p>Body <a href=\"https://q.example\">link</a></p>")))
	if out := e.content(doc.ID, "markdown"); out != "## New\n\nBody [link](https://q.example)\n" {
		t.Errorf("after replace: %q", out)
	}
	e.must(200, e.do("PUT", "/api/v1/docs/"+doc.ID+"/content?mode=append", "text/plain", []byte("tail 1\ntail 2\n")))
	if out := e.content(doc.ID, "text"); out != "New\nBody link\ntail 1\ntail 2" {
		t.Errorf("after append: %q", out)
	}
	local := crdt.NewDoc()
	if err := local.ApplyUpdate([]byte(e.content(doc.ID, "yjs"))); err != nil {
		t.Fatal(err)
	}
	upd := local.Transact(func() {
		frag := local.GetXmlFragment("default")
		p, err := frag.InsertElement(frag.Len(), "paragraph")
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := p.InsertText(0)
		tx.Insert(0, "from yjs")
	})
	e.must(200, e.do("PUT", "/api/v1/docs/"+doc.ID+"/content?format=yjs", "", upd))
	if out := e.content(doc.ID, "text"); out != "New\nBody link\ntail 1\ntail 2\nfrom yjs" {
		t.Errorf("after yjs: %q", out)
	}

	// A plain-text root beside the body (?root=, format=text only).
	e.must(200, e.do("PUT", "/api/v1/docs/"+doc.ID+"/content?format=text&root=code", "", []byte("package main\r\n\nfunc main() {}\n")))
	e.must(200, e.do("PUT", "/api/v1/docs/"+doc.ID+"/content?format=text&root=code", "", []byte("package main\n\nfunc main() { run() }\n")))
	e.must(200, e.do("PUT", "/api/v1/docs/"+doc.ID+"/content?format=text&root=code&mode=append", "", []byte("// end\n")))
	if out := string(e.must(200, e.do("GET", "/api/v1/docs/"+doc.ID+"/content?format=text&root=code", "", nil)).body); out != "package main\n\nfunc main() { run() }\n// end\n" {
		t.Errorf("text root: %q", out)
	}
	if out := e.content(doc.ID, "text"); out != "New\nBody link\ntail 1\ntail 2\nfrom yjs" {
		t.Errorf("body changed by a text root import: %q", out)
	}

	// Versions: name, change, read the old one, restore.
	var v versionJSON
	e.must(201, e.doJSON("POST", "/api/v1/docs/"+doc.ID+"/versions", map[string]any{"name": "Before cut"})).json(t, &v)
	if v.ID == "" || v.Name != "Before cut" || v.SizeBytes == 0 {
		t.Fatalf("version: %+v", v)
	}
	before := e.content(doc.ID, "prosemirror")
	e.must(200, e.do("PUT", "/api/v1/docs/"+doc.ID+"/content?format=markdown", "", []byte("Cut down.\n")))
	if out := e.content(doc.ID, "markdown"); out != "Cut down.\n" {
		t.Errorf("after cut: %q", out)
	}
	var vs struct{ Versions []versionJSON }
	e.must(200, e.do("GET", "/api/v1/docs/"+doc.ID+"/versions", "", nil)).json(t, &vs)
	if len(vs.Versions) != 1 || vs.Versions[0] != v {
		t.Errorf("versions: %+v", vs)
	}
	if out := string(e.must(200, e.do("GET", "/api/v1/docs/"+doc.ID+"/versions/"+v.ID+"/content?format=prosemirror", "", nil)).body); out != before {
		t.Errorf("version content:\n%s\nwant\n%s", out, before)
	}
	e.must(200, e.do("POST", "/api/v1/docs/"+doc.ID+"/versions/"+v.ID+"/restore", "", nil))
	if out := e.content(doc.ID, "prosemirror"); out != before {
		t.Errorf("after restore:\n%s\nwant\n%s", out, before)
	}

	// Delete: gone everywhere.
	e.must(204, e.do("DELETE", "/api/v1/docs/"+doc.ID, "", nil))
	for _, p := range []string{"", "/content", "/versions", "/versions/" + v.ID + "/content"} {
		r := e.must(404, e.do("GET", "/api/v1/docs/"+doc.ID+p, "", nil))
		if code, _ := r.errorCode(t); code != "not_found" {
			t.Errorf("GET %s after delete: code %q", p, code)
		}
	}
	if _, err := e.store.GetDoc(context.Background(), doc.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("store still has the document: %v", err)
	}
	if _, err := e.store.ListVersions(context.Background(), doc.ID); err == nil {
		vs, _ := e.store.ListVersions(context.Background(), doc.ID)
		if len(vs) != 0 {
			t.Errorf("versions survive the delete: %v", vs)
		}
	}
}

func TestRESTList(t *testing.T) {
	e := newRESTEnv(t, 0)
	titles := []string{"banana split", "Apple pie", "cherry tart", "apple crumble", "Damson jam"}
	ids := map[string]string{}
	for _, title := range titles {
		ids[title] = e.create(title, "", "").ID
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	list := func(q string) ([]string, string) {
		var res struct {
			Docs       []docJSON `json:"docs"`
			NextCursor string    `json:"next_cursor"`
		}
		e.must(200, e.do("GET", "/api/v1/docs?"+q, "", nil)).json(t, &res)
		var out []string
		for _, d := range res.Docs {
			out = append(out, d.Title)
		}
		return out, res.NextCursor
	}
	if got, next := list("sort=title"); !reflect.DeepEqual(got, []string{"apple crumble", "Apple pie", "banana split", "cherry tart", "Damson jam"}) || next != "" {
		t.Errorf("by title: %q next %q", got, next)
	}
	if got, _ := list("sort=created"); !reflect.DeepEqual(got, []string{"Damson jam", "apple crumble", "cherry tart", "Apple pie", "banana split"}) {
		t.Errorf("by created: %q", got)
	}
	if got, _ := list("q=APPLE&sort=title"); !reflect.DeepEqual(got, []string{"apple crumble", "Apple pie"}) {
		t.Errorf("filter: %q", got)
	}
	// Pages of two, following the cursor.
	var all []string
	cursor := ""
	for range 10 {
		page, next := list("sort=title&limit=2&cursor=" + cursor)
		if len(page) > 2 {
			t.Fatalf("page of %d", len(page))
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != len(titles) {
		t.Errorf("paged through %q", all)
	}
	// Renaming moves a document in the title order and to the front by update.
	e.must(200, e.doJSON("PATCH", "/api/v1/docs/"+ids["cherry tart"], map[string]any{"title": "Aardvark"}))
	if got, _ := list("sort=updated&limit=1"); !reflect.DeepEqual(got, []string{"Aardvark"}) {
		t.Errorf("updated first: %q", got)
	}
}

func TestRESTErrors(t *testing.T) {
	e := newRESTEnv(t, 4096)
	id := e.create("Doc", "text", "text").ID
	missing := "/api/v1/docs/00000000-0000-0000-0000-000000000000"
	big := bytes.Repeat([]byte("x"), 5000)
	cases := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		code                      string
		says                      string
	}{
		{"bad json", "POST", "/api/v1/docs", "application/json", []byte(`{"title":`), 400, "invalid_json", "not a valid JSON object"},
		{"unknown field", "POST", "/api/v1/docs", "application/json", []byte(`{"titel":"x"}`), 400, "invalid_field", `"titel"`},
		{"title not a string", "POST", "/api/v1/docs", "application/json", []byte(`{"title":5}`), 400, "invalid_field", `"title" must be a string`},
		{"control character in title", "POST", "/api/v1/docs", "application/json", []byte(`{"title":"a\nb"}`), 400, "invalid_field", "control character"},
		{"unknown import format", "POST", "/api/v1/docs", "application/json", []byte(`{"content":"x","format":"docx"}`), 415, "unsupported_format", "docx"},
		{"format without content", "POST", "/api/v1/docs", "application/json", []byte(`{"format":"html"}`), 400, "invalid_field", "without \"content\""},
		{"invalid prosemirror", "POST", "/api/v1/docs", "application/json", []byte(`{"content":"{\"type\":\"doc\",\"content\":[{\"type\":\"heading\",\"attrs\":{\"level\":9}}]}","format":"prosemirror"}`), 400, "invalid_content", "doc.content[0]: heading attrs.level"},
		{"not json", "POST", "/api/v1/docs", "text/plain", []byte(`{}`), 415, "unsupported_media_type", "application/json"},
		{"body too big", "POST", "/api/v1/docs", "application/json", append(append([]byte(`{"content":"`), big...), `"}`...), 413, "too_large", "4096 bytes"},
		{"bad sort", "GET", "/api/v1/docs?sort=size", "", nil, 400, "invalid_parameter", "sort"},
		{"bad limit", "GET", "/api/v1/docs?limit=0", "", nil, 400, "invalid_parameter", "limit"},
		{"bad cursor", "GET", "/api/v1/docs?cursor=garbage", "", nil, 400, "invalid_parameter", "cursor"},
		{"empty rename", "PATCH", "/api/v1/docs/" + id, "application/json", []byte(`{"title":"  "}`), 400, "invalid_field", "must not be empty"},
		{"rename without title", "PATCH", "/api/v1/docs/" + id, "application/json", []byte(`{}`), 400, "invalid_field", "required"},
		{"export format", "GET", "/api/v1/docs/" + id + "/content?format=pdf", "", nil, 415, "unsupported_format", "pdf"},
		{"import format", "PUT", "/api/v1/docs/" + id + "/content?format=pdf", "", []byte("x"), 415, "unsupported_format", "pdf"},
		{"import without format", "PUT", "/api/v1/docs/" + id + "/content", "image/png", []byte("x"), 415, "unsupported_format", "?format="},
		{"bad mode", "PUT", "/api/v1/docs/" + id + "/content?format=text&mode=prepend", "", []byte("x"), 400, "invalid_parameter", "mode"},
		{"root with markdown", "PUT", "/api/v1/docs/" + id + "/content?format=markdown&root=code", "", []byte("x"), 400, "invalid_parameter", "format=text"},
		{"root export with html", "GET", "/api/v1/docs/" + id + "/content?format=html&root=code", "", nil, 400, "invalid_parameter", "format=text"},
		{"bad yjs", "PUT", "/api/v1/docs/" + id + "/content?format=yjs", "", []byte{1, 2, 3}, 400, "invalid_content", "Yjs"},
		{"bad html", "PUT", "/api/v1/docs/" + id + "/content?format=html", "", []byte("<p>\xff</p>"), 400, "invalid_content", "UTF-8"},
		{"import too big", "PUT", "/api/v1/docs/" + id + "/content?format=text", "", big, 413, "too_large", "limit"},
		{"version without name", "POST", "/api/v1/docs/" + id + "/versions", "application/json", []byte(`{}`), 400, "invalid_field", `"name" is required`},
		{"missing doc", "GET", missing, "", nil, 404, "not_found", "no such document"},
		{"missing doc content", "GET", missing + "/content", "", nil, 404, "not_found", ""},
		{"missing doc import", "PUT", missing + "/content?format=text", "", []byte("x"), 404, "not_found", ""},
		{"missing doc rename", "PATCH", missing, "application/json", []byte(`{"title":"x"}`), 404, "not_found", ""},
		{"missing doc delete", "DELETE", missing, "", nil, 404, "not_found", ""},
		{"missing version", "GET", "/api/v1/docs/" + id + "/versions/nope/content", "", nil, 404, "not_found", ""},
		{"missing version restore", "POST", "/api/v1/docs/" + id + "/versions/nope/restore", "", nil, 404, "not_found", ""},
		{"wrong method", "PUT", "/api/v1/docs/" + id, "", nil, 405, "method_not_allowed", "GET"},
		{"unknown route", "GET", "/api/v1/nothing", "", nil, 404, "not_found", "no API endpoint"},
	}
	before := e.content(id, "yjs")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.ctype, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			code, msg := r.errorCode(t)
			if code != c.code || !strings.Contains(msg, c.says) {
				t.Errorf("got %q %q, want code %q saying %q", code, msg, c.code, c.says)
			}
		})
	}
	if after := e.content(id, "yjs"); after != before {
		t.Errorf("failed requests changed the document")
	}
}

// restClient is a y-websocket client built on the Go CRDT: it syncs, applies
// what the server sends and sends its own edits, as a browser editor does.
type restClient struct {
	t      *testing.T
	conn   *websocket.Conn
	mu     gosync.Mutex
	doc    *crdt.Doc
	closed chan websocket.CloseError
}

func (e *restEnv) dial(id string, clientID uint64) *restClient {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(e.srv.URL, "http", "ws", 1)+"/ws/"+id, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20)
	c := &restClient{t: e.t, conn: conn, doc: crdt.NewDoc(crdt.WithClientID(clientID)), closed: make(chan websocket.CloseError, 1)}
	go c.readLoop()
	var enc crdt.Encoder
	enc.WriteVarUint(0) // sync
	enc.WriteVarUint(0) // step 1
	enc.WriteVarBytes(c.doc.EncodeStateVector())
	c.send(enc.Bytes())
	e.t.Cleanup(func() { _ = conn.CloseNow() })
	return c
}

func (c *restClient) send(msg []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageBinary, msg); err != nil {
		c.t.Errorf("client write: %v", err)
	}
}

func (c *restClient) readLoop() {
	for {
		_, msg, err := c.conn.Read(context.Background())
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				c.closed <- ce
			}
			close(c.closed)
			return
		}
		d := crdt.NewDecoder(msg)
		kind, _ := d.ReadVarUint()
		if kind != 0 {
			continue // awareness and the rest
		}
		sub, _ := d.ReadVarUint()
		payload, err := d.ReadVarBytes()
		if err != nil {
			c.t.Errorf("client: bad sync message: %v", err)
			continue
		}
		c.mu.Lock()
		switch sub {
		case 0: // the server's step 1: answer with what it lacks
			u, err := c.doc.EncodeStateAsUpdate(payload)
			c.mu.Unlock()
			if err != nil {
				c.t.Errorf("client: %v", err)
				continue
			}
			var enc crdt.Encoder
			enc.WriteVarUint(0)
			enc.WriteVarUint(1)
			enc.WriteVarBytes(u)
			c.send(enc.Bytes())
			continue
		case 1, 2:
			if err := c.doc.ApplyUpdate(payload); err != nil {
				c.t.Errorf("client: apply: %v", err)
			}
		}
		c.mu.Unlock()
	}
}

// edit changes the client's document and sends the update.
func (c *restClient) edit(fn func(d *crdt.Doc)) {
	c.mu.Lock()
	u := c.doc.Transact(func() { fn(c.doc) })
	c.mu.Unlock()
	if u != nil {
		var enc crdt.Encoder
		enc.WriteVarUint(0)
		enc.WriteVarUint(2)
		enc.WriteVarBytes(u)
		c.send(enc.Bytes())
	}
}

func (c *restClient) body() *content.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := content.FromFragment(c.doc.GetXmlFragment("default"))
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

func (c *restClient) markdown() string { return content.RenderMarkdown(c.body()) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A REST import reaches a connected editor within a second while it keeps
// typing, and neither side loses anything.
func TestRESTImportReachesTypingClient(t *testing.T) {
	e := newRESTEnv(t, 0)
	id := e.create("Live", "Typed here:\n\nSecond paragraph.\n", "markdown").ID
	c := e.dial(id, 77)
	waitFor(t, 2*time.Second, "client synced", func() bool { return strings.HasPrefix(c.markdown(), "Typed here:") })
	var live docJSON
	e.must(200, e.do("GET", "/api/v1/docs/"+id, "", nil)).json(t, &live)
	if live.Editors != 1 {
		t.Errorf("editors = %d with one client connected", live.Editors)
	}

	var typed strings.Builder
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
			}
			ch := string(rune('a' + i%26))
			typed.WriteString(ch)
			c.edit(func(d *crdt.Doc) {
				p := d.GetXmlFragment("default").Children()[0].(*crdt.XmlElement)
				tx := p.Children()[0].(*crdt.XmlText)
				tx.Insert(tx.Len(), ch)
			})
		}
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	e.must(200, e.do("PUT", "/api/v1/docs/"+id+"/content?format=markdown&mode=append", "", []byte("Imported **block**.\n\n- item\n")))
	waitFor(t, time.Second, "import visible to the typing client", func() bool {
		return strings.HasSuffix(c.markdown(), "Second paragraph.\n\nImported **block**.\n\n- item\n")
	})
	t.Logf("import reached the client %v after the PUT began", time.Since(start))
	time.Sleep(50 * time.Millisecond)
	close(stop)
	<-done
	want := "Typed here:" + typed.String() + "\n\nSecond paragraph.\n\nImported **block**.\n\n- item\n"
	waitFor(t, 2*time.Second, "server has every keystroke", func() bool { return e.content(id, "markdown") == want })
	if got := c.markdown(); got != want {
		t.Errorf("client:\n%q\nwant\n%q", got, want)
	}
}

// Rename, restore and delete reach connected editors.
func TestRESTChangesReachClients(t *testing.T) {
	e := newRESTEnv(t, 0)
	id := e.create("First", "Version one.\n", "markdown").ID
	c := e.dial(id, 5)
	waitFor(t, 2*time.Second, "client synced", func() bool { return c.markdown() == "Version one.\n" })

	e.must(200, e.doJSON("PATCH", "/api/v1/docs/"+id, map[string]any{"title": "Second"}))
	waitFor(t, time.Second, "title in the client's meta map", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		v, _ := c.doc.GetMap("meta").Get("title")
		return v == "Second"
	})

	var v versionJSON
	e.must(201, e.doJSON("POST", "/api/v1/docs/"+id+"/versions", map[string]any{"name": "v1"})).json(t, &v)
	c.edit(func(d *crdt.Doc) {
		p := d.GetXmlFragment("default").Children()[0].(*crdt.XmlElement)
		tx := p.Children()[0].(*crdt.XmlText)
		tx.Delete(0, tx.Len())
		tx.Insert(0, "Rewritten by the client.")
	})
	waitFor(t, time.Second, "server has the client's edit", func() bool { return e.content(id, "markdown") == "Rewritten by the client.\n" })
	e.must(200, e.do("POST", "/api/v1/docs/"+id+"/versions/"+v.ID+"/restore", "", nil))
	waitFor(t, time.Second, "restore reaches the client", func() bool { return c.markdown() == "Version one.\n" })

	e.must(204, e.do("DELETE", "/api/v1/docs/"+id, "", nil))
	select {
	case ce, ok := <-c.closed:
		if !ok {
			t.Fatal("connection ended without a close frame")
		}
		if int(ce.Code) != qsync.DocumentDeleted.Code() || !strings.Contains(ce.Reason, "deleted") {
			t.Errorf("closed with %d %q", ce.Code, ce.Reason)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("client not closed after delete")
	}
}

func TestRESTAuthAndShares(t *testing.T) {
	const admin = "admin-key-for-tests"
	e := newRESTEnvAuth(t, 0, admin)
	var info map[string]any
	e.must(200, e.do("GET", "/api/v1/info", "", nil)).json(t, &info)
	if info["auth_required"] != true {
		t.Errorf("info: %v", info)
	}
	r := e.must(401, e.do("GET", "/api/v1/docs", "", nil))
	if code, _ := r.errorCode(t); code != "unauthorized" || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %q %v", code, r.header)
	}
	e.token = "wrong"
	e.must(401, e.do("GET", "/api/v1/docs", "", nil))
	e.token = ""
	e.must(200, e.do("GET", "/api/v1/docs?token="+admin, "", nil)) // ?token= works too

	e.token = admin
	doc := e.create("Shared", "Hello.\n", "markdown").ID
	other := e.create("Other", "", "").ID
	share := func(body string) shareJSON {
		var s shareJSON
		e.must(201, e.do("POST", "/api/v1/docs/"+doc+"/shares", "application/json", []byte(body))).json(t, &s)
		if s.Token == "" || s.ID == "" || s.URL != "/d/"+doc+"?token="+s.Token {
			t.Fatalf("share: %+v", s)
		}
		return s
	}
	viewer := share(`{"role":"viewer"}`)
	editor := share(`{"role":"editor","expires_in_seconds":3600}`)
	if viewer.ExpiresAt != nil || editor.ExpiresAt == nil {
		t.Errorf("expiry: viewer %v editor %v", viewer.ExpiresAt, editor.ExpiresAt)
	}
	for _, bad := range []string{`{"role":"owner"}`, `{"expires_in_seconds":0}`, `{"expires_in_seconds":"soon"}`} {
		e.must(400, e.do("POST", "/api/v1/docs/"+doc+"/shares", "application/json", []byte(bad)))
	}

	type step struct {
		method, path, body string
		status             int
	}
	check := func(token string, steps []step) {
		t.Helper()
		e.token = token
		for _, s := range steps {
			ct := ""
			if strings.HasPrefix(s.body, "{") {
				ct = "application/json"
			}
			r := e.do(s.method, s.path, ct, []byte(s.body))
			if r.status != s.status {
				t.Errorf("%s %s: status %d, want %d: %s", s.method, s.path, r.status, s.status, r.body)
			}
		}
	}
	d := "/api/v1/docs/" + doc
	check(viewer.Token, []step{
		{"GET", d, "", 200},
		{"GET", d + "/content?format=markdown", "", 200},
		{"GET", d + "/versions", "", 200},
		{"PUT", d + "/content?format=text", "x", 403},
		{"PATCH", d, `{"title":"x"}`, 403},
		{"POST", d + "/versions", `{"name":"v"}`, 403},
		{"DELETE", d, "", 403},
		{"GET", d + "/shares", "", 403},
		{"GET", "/api/v1/docs", "", 403},
		{"POST", "/api/v1/docs", `{"title":"x"}`, 403},
		{"GET", "/api/v1/docs/" + other, "", 403},
	})
	check(editor.Token, []step{
		{"PUT", d + "/content?format=text", "Edited by a link.", 200},
		{"PATCH", d, `{"title":"Renamed by a link"}`, 200},
		{"POST", d + "/versions", `{"name":"v"}`, 201},
		{"DELETE", d, "", 403},
		{"POST", d + "/shares", `{"role":"editor"}`, 403},
		{"GET", "/api/v1/docs/" + other + "/content", "", 403},
	})

	e.token = admin
	var list struct{ Shares []shareJSON }
	e.must(200, e.do("GET", d+"/shares", "", nil)).json(t, &list)
	if len(list.Shares) != 2 || list.Shares[0].Token != "" {
		t.Fatalf("shares: %+v", list)
	}
	e.must(204, e.do("DELETE", d+"/shares/"+viewer.ID, "", nil))
	e.must(404, e.do("DELETE", d+"/shares/nope", "", nil))
	e.token = viewer.Token
	r = e.must(401, e.do("GET", d, "", nil))
	if _, msg := r.errorCode(t); !strings.Contains(msg, "revoked") {
		t.Errorf("revoked token: %s", msg)
	}
	// An expired link.
	expired := storage.ShareToken{ID: "expired", DocID: doc, Role: storage.RoleEditor, ExpiresAt: time.Now().Add(-time.Minute)}
	if err := e.store.CreateShareToken(context.Background(), expired, "expired-secret"); err != nil {
		t.Fatal(err)
	}
	e.token = "expired-secret"
	r = e.must(401, e.do("GET", d, "", nil))
	if _, msg := r.errorCode(t); !strings.Contains(msg, "expired") {
		t.Errorf("expired token: %s", msg)
	}
	e.token = admin
	if out := e.content(doc, "text"); out != "Edited by a link." {
		t.Errorf("content: %q", out)
	}
}

// The OpenAPI document describes exactly the routes the API serves.
func TestRESTOpenAPIMatchesRoutes(t *testing.T) {
	e := newRESTEnv(t, 0)
	var spec struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	e.must(200, e.do("GET", "/api/v1/openapi.json", "", nil)).json(t, &spec)
	if spec.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", spec.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range spec.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range NewREST(RESTConfig{}).routes() {
		served[rt.method+" "+rt.path] = true
	}
	if !reflect.DeepEqual(documented, served) {
		t.Errorf("documented %v\nserved %v", documented, served)
	}
}

// Every change made through the API reaches the webhook receivers, signed,
// and a receiver that fails at first gets the event again.
func TestRESTWebhooks(t *testing.T) {
	type delivery struct {
		ev  WebhookEvent
		sig string
	}
	var mu gosync.Mutex
	var got []delivery
	failures := 1
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		var ev WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		if r.Header.Get("X-Quire-Signature") != "sha256="+SignWebhook("s3cret", body) || r.Header.Get("X-Quire-Event") != ev.Type {
			t.Errorf("bad signature or event header: %v", r.Header)
		}
		got = append(got, delivery{ev: ev, sig: r.Header.Get("X-Quire-Signature")})
	}))
	defer receiver.Close()

	e := newRESTEnvWith(t, func(*qsync.Config, func(string)) {}, func(_ *qsync.Hub, rc *RESTConfig) {
		rc.Webhooks = WebhookConfig{URLs: []string{receiver.URL}, Secret: "s3cret", RetryDelay: 10 * time.Millisecond}
	})

	id := e.create("Hooked", "One.", "text").ID
	e.must(200, e.doJSON("PATCH", "/api/v1/docs/"+id, map[string]any{"title": "Hooked 2"}))
	e.must(200, e.do("PUT", "/api/v1/docs/"+id+"/content?format=markdown&mode=append", "", []byte("Two.")))
	var v versionJSON
	e.must(201, e.doJSON("POST", "/api/v1/docs/"+id+"/versions", map[string]any{"name": "v1"})).json(t, &v)
	e.must(200, e.do("POST", "/api/v1/docs/"+id+"/versions/"+v.ID+"/restore", "", nil))
	var sh shareJSON
	e.must(201, e.doJSON("POST", "/api/v1/docs/"+id+"/shares", map[string]any{"role": "viewer"})).json(t, &sh)
	e.must(204, e.do("DELETE", "/api/v1/docs/"+id+"/shares/"+sh.ID, "", nil))
	e.must(204, e.do("DELETE", "/api/v1/docs/"+id, "", nil))
	want := []string{EventDocCreated, EventDocRenamed, EventContentImported, EventVersionCreated, EventVersionRestored, EventShareCreated, EventShareRevoked, EventDocDeleted}
	waitFor(t, 5*time.Second, "every webhook delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	for i, d := range got {
		if d.ev.Type != want[i] || d.ev.DocID != id || d.ev.ID == "" {
			t.Errorf("event %d: %+v, want type %s", i, d.ev, want[i])
		}
	}
	if got[1].ev.Data["title"] != "Hooked 2" || got[2].ev.Data["mode"] != "append" || got[3].ev.Data["version_id"] != v.ID {
		t.Errorf("event data: %+v %+v %+v", got[1].ev.Data, got[2].ev.Data, got[3].ev.Data)
	}
	for _, d := range got {
		if strings.Contains(fmt.Sprint(d.ev.Data), sh.Token) {
			t.Errorf("a webhook carries the share token: %+v", d.ev)
		}
	}
}

// Every document the API returns says what the caller may do with it
// ("role"), so a client opened with a bare share link knows whether to let
// its user type.
func TestRESTDocRole(t *testing.T) {
	roleOf := func(r apiResponse) string {
		t.Helper()
		var d docJSON
		r.json(t, &d)
		return d.Role
	}
	listRoles := func(e *restEnv) []string {
		t.Helper()
		var list struct{ Docs []docJSON }
		e.must(200, e.do("GET", "/api/v1/docs", "", nil)).json(t, &list)
		var roles []string
		for _, d := range list.Docs {
			roles = append(roles, d.Role)
		}
		return roles
	}

	t.Run("no auth: everyone is admin, as Authorize says", func(t *testing.T) {
		e := newRESTEnv(t, 0)
		if got := e.create("Open", "", "").Role; got != "admin" {
			t.Errorf("create: role %q", got)
		}
		id := e.create("Open 2", "", "").ID
		if got := roleOf(e.must(200, e.do("GET", "/api/v1/docs/"+id, "", nil))); got != "admin" {
			t.Errorf("get: role %q", got)
		}
		if got := listRoles(e); !reflect.DeepEqual(got, []string{"admin", "admin"}) {
			t.Errorf("list: roles %v", got)
		}
		if access, err := NewREST(RESTConfig{Store: e.store}).Authorize(context.Background(), id, ""); err != nil || access.Role() != "admin" {
			t.Errorf("Authorize without a key: %v %v", access, err)
		}
	})

	t.Run("admin key and share tokens", func(t *testing.T) {
		const admin = "admin-key-for-role-tests"
		e := newRESTEnvAuth(t, 0, admin)
		e.token = admin
		doc := e.create("Shared", "Hello.\n", "markdown")
		if doc.Role != "admin" {
			t.Errorf("create: role %q", doc.Role)
		}
		if got := listRoles(e); !reflect.DeepEqual(got, []string{"admin"}) {
			t.Errorf("list: roles %v", got)
		}
		d := "/api/v1/docs/" + doc.ID
		token := func(role string) string {
			var s shareJSON
			e.token = admin
			e.must(201, e.doJSON("POST", d+"/shares", map[string]any{"role": role})).json(t, &s)
			return s.Token
		}
		viewer, editor := token("viewer"), token("editor")

		e.token = admin
		if got := roleOf(e.must(200, e.do("GET", d, "", nil))); got != "admin" {
			t.Errorf("admin get: role %q", got)
		}
		e.token = editor
		if got := roleOf(e.must(200, e.do("GET", d, "", nil))); got != "editor" {
			t.Errorf("editor get: role %q", got)
		}
		if got := roleOf(e.must(200, e.doJSON("PATCH", d, map[string]any{"title": "By the editor"}))); got != "editor" {
			t.Errorf("editor rename: role %q", got)
		}
		if got := roleOf(e.must(200, e.do("PUT", d+"/content?format=text", "", []byte("Edited.")))); got != "editor" {
			t.Errorf("editor import: role %q", got)
		}
		// A bare link, as the share's url gives it: ?token= only.
		e.token = ""
		if got := roleOf(e.must(200, e.do("GET", d+"?token="+viewer, "", nil))); got != "viewer" {
			t.Errorf("viewer get (?token=): role %q", got)
		}
	})
}

// The OpenAPI Doc schema lists exactly the fields a document has, all
// required (docJSON has no omitempty), and the roles Access.Role gives.
func TestRESTOpenAPIDocSchema(t *testing.T) {
	var spec struct {
		Components struct {
			Schemas struct {
				Doc struct {
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
					Required []string `json:"required"`
				} `json:"Doc"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPISpec, &spec); err != nil {
		t.Fatal(err)
	}
	doc := spec.Components.Schemas.Doc
	var fields []string
	rt := reflect.TypeFor[docJSON]()
	for i := range rt.NumField() {
		fields = append(fields, rt.Field(i).Tag.Get("json"))
	}
	var props []string
	for name := range doc.Properties {
		props = append(props, name)
	}
	slices.Sort(fields)
	slices.Sort(props)
	required := slices.Sorted(slices.Values(doc.Required))
	if !slices.Equal(props, fields) || !slices.Equal(required, fields) {
		t.Errorf("Doc schema properties %v, required %v; docJSON has %v", props, required, fields)
	}
	var roles []string
	for _, a := range []Access{AccessViewer, AccessEditor, AccessAdmin} {
		roles = append(roles, a.Role())
	}
	if got := slices.Sorted(slices.Values(doc.Properties["role"].Enum)); !slices.Equal(got, slices.Sorted(slices.Values(roles))) {
		t.Errorf("role enum %v, Access.Role gives %v", got, roles)
	}
}
