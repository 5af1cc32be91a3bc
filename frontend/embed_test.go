package frontend

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func TestAppRoutesServeIndex(t *testing.T) {
	index, err := dist.ReadFile("dist/index.html")
	if err != nil {
		t.Fatalf("read index: %v", err)
	}
	for _, route := range []string{"/", "/d/5f0c1f2e-8a4e-4c51-9f1e-0d4b3c2a1908", "/d/demo-doc/", "/demo/cursors", "/index.html"} {
		rec := get(t, http.MethodGet, route, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", route, rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", route, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache so new versions load at once", route, got)
		}
		if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s: missing Content-Security-Policy", route)
		}
		if !bytes.Equal(rec.Body.Bytes(), index) {
			t.Errorf("GET %s: body is not index.html", route)
		}
	}
}

func TestUnknownPathsAre404(t *testing.T) {
	for _, p := range []string{"/nope", "/d/", "/d/a/b", "/assets/missing.js", "/api/v1/docs", "/demo/other"} {
		if rec := get(t, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, rec.Code)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	rec := get(t, http.MethodPost, "/", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST /: status %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	head := get(t, http.MethodHead, "/assets/app.js", nil)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Length") == "" {
		t.Fatalf("HEAD: status %d, body %d bytes, length %q", head.Code, head.Body.Len(), head.Header().Get("Content-Length"))
	}
}

// Every asset the page and the entry script reference must be embedded, with the right
// type and caching: this catches a dist/ built by hand or half-committed.
func TestReferencedAssetsExist(t *testing.T) {
	index := get(t, http.MethodGet, "/", nil).Body.String()
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 3 {
		t.Fatalf("index.html references %d assets, want the script, the stylesheet and the icon", len(refs))
	}
	seen := map[string]bool{}
	queue := []string{}
	for _, m := range refs {
		queue = append(queue, m[1])
	}
	importRe := regexp.MustCompile(`"\./(chunk-[A-Z0-9]+\.js)"`)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		rec := get(t, http.MethodGet, p, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d", p, rec.Code)
		}
		wantType := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}[p[strings.LastIndex(p, "."):]]
		if got := rec.Header().Get("Content-Type"); got != wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", p, got, wantType)
		}
		cache := rec.Header().Get("Cache-Control")
		if strings.Contains(p, "/chunk-") != strings.Contains(cache, "immutable") {
			t.Errorf("GET %s: Cache-Control %q (only hashed chunks are immutable)", p, cache)
		}
		if strings.HasSuffix(p, ".js") {
			for _, m := range importRe.FindAllStringSubmatch(rec.Body.String(), -1) {
				queue = append(queue, "/assets/"+m[1])
			}
		}
	}
	chunks := 0
	for p := range seen {
		if strings.Contains(p, "/chunk-") {
			chunks++
		}
	}
	if chunks == 0 {
		t.Fatalf("app.js imports no chunks; the pages are expected to load lazily")
	}
}

func TestGzipAndETag(t *testing.T) {
	plain := get(t, http.MethodGet, "/assets/app.css", nil)
	zipped := get(t, http.MethodGet, "/assets/app.css", map[string]string{"Accept-Encoding": "br, gzip"})
	if zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", zipped.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatalf("gzip reader: %v", err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	if !bytes.Equal(unzipped, plain.Body.Bytes()) {
		t.Fatalf("gzipped body differs from the plain one")
	}
	if got := get(t, http.MethodGet, "/assets/app.css", map[string]string{"Accept-Encoding": "gzip;q=0"}).Header().Get("Content-Encoding"); got != "" {
		t.Fatalf("gzip;q=0 must not be gzipped, got %q", got)
	}
	etag := plain.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := get(t, http.MethodGet, "/assets/app.css", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Fatalf("If-None-Match: status %d, %d bytes", again.Code, again.Body.Len())
	}
}
