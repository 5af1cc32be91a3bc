// Package frontend serves Quire's browser app: the document list (/), the editor
// (/d/{id}) and the shared-cursors demo (/demo/cursors).
//
// The app's sources live in src/ and are built with Node (see README.md in this folder)
// into dist/, which is committed and embedded here, so `go run ./cmd/quire` needs no Node.
package frontend

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	gosync "sync"
)

//go:embed dist
var dist embed.FS

// asset is one file of the built app, ready to serve.
type asset struct {
	body        []byte
	gzipped     []byte // nil when compression does not pay off
	contentType string
	etag        string
	// immutable assets have a content hash in their name and may be cached forever.
	immutable bool
}

var (
	loadOnce gosync.Once
	assets   map[string]*asset
	loadErr  error
)

// load reads and gzips every embedded file once; the embedded bytes never change.
func load() {
	assets = make(map[string]*asset)
	loadErr = fs.WalkDir(dist, "dist", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := dist.ReadFile(name)
		if err != nil {
			return fmt.Errorf("frontend: read embedded %s: %w", name, err)
		}
		urlPath := strings.TrimPrefix(name, "dist")
		sum := sha256.Sum256(body)
		a := &asset{
			body:        body,
			contentType: contentType(urlPath),
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			immutable:   strings.HasPrefix(path.Base(urlPath), "chunk-"),
		}
		if compressible(a.contentType) && len(body) > 512 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			if _, err := zw.Write(body); err != nil {
				return fmt.Errorf("frontend: gzip %s: %w", name, err)
			}
			if err := zw.Close(); err != nil {
				return fmt.Errorf("frontend: gzip %s: %w", name, err)
			}
			if buf.Len() < len(body) {
				a.gzipped = buf.Bytes()
			}
		}
		assets[urlPath] = a
		return nil
	})
	if loadErr == nil && assets["/index.html"] == nil {
		loadErr = fmt.Errorf("frontend: dist/index.html is missing: run `make frontend-build`")
	}
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || contentType == "image/svg+xml" || contentType == "application/json"
}

// contentSecurityPolicy allows only this origin's scripts and connections. Inline style
// attributes are needed: ProseMirror decorations colour collaborators' selections with them.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; " +
	"img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// isAppRoute reports whether p is a page of the single-page app, answered with index.html.
func isAppRoute(p string) bool {
	switch {
	case p == "/", p == "/demo/cursors", p == "/demo/cursors/":
		return true
	case strings.HasPrefix(p, "/d/"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/d/"), "/")
		return id != "" && !strings.Contains(id, "/")
	}
	return false
}

// Handler serves the built app: files under /assets/ and index.html for the app's routes
// (/, /d/{id}, /demo/cursors). Anything else is 404. Only GET and HEAD are allowed.
//
// Caching: content-hashed chunks (/assets/chunk-*) are immutable for a year; everything
// else (index.html, the entry script and stylesheet, whose names are stable) is revalidated
// on each load with its ETag, so a new server version is picked up at once.
func Handler() http.Handler {
	loadOnce.Do(load)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if loadErr != nil {
			http.Error(w, loadErr.Error(), http.StatusInternalServerError)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the app's pages and assets are read-only (GET or HEAD)", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		a := assets[p]
		if a == nil || p == "/index.html" {
			if !isAppRoute(p) && p != "/index.html" {
				http.NotFound(w, r)
				return
			}
			a = assets["/index.html"]
		}
		serve(w, r, a)
	})
}

func serve(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if a.contentType == "text/html; charset=utf-8" {
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gzipped != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzipped
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		// "gzip;q=0" means "never gzip"; any other weight accepts it.
		q := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(params), "q="))
		return params == "" || strings.Trim(q, "0.") != ""
	}
	return false
}
