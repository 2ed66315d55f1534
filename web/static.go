package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed static
var staticFiles embed.FS

// staticAssets serves the site's own CSS, scripts and icon from memory with
// an ETag. Pages link them with ?v=<content hash> (see url), so a browser
// may keep them for a year and still picks up a new release at once.
type staticAssets struct {
	files   map[string]staticFile
	version string
}

var _ http.Handler = (*staticAssets)(nil)

type staticFile struct {
	body        []byte
	etag        string
	contentType string
}

var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func newStaticAssets() (*staticAssets, error) {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	a := &staticAssets{files: map[string]staticFile{}}
	whole := sha256.New()
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			return nil, fmt.Errorf("static files: %w", err)
		}
		sum := sha256.Sum256(body)
		ct, ok := staticTypes[path.Ext(e.Name())]
		if !ok {
			return nil, fmt.Errorf("static files: %s has no known content type; add its extension to staticTypes", e.Name())
		}
		a.files[e.Name()] = staticFile{body: body, etag: `"` + hex.EncodeToString(sum[:10]) + `"`, contentType: ct}
		whole.Write(sum[:])
	}
	a.version = hex.EncodeToString(whole.Sum(nil))[:12]
	return a, nil
}

// url is the cache-busting address of a static file under /static/.
func (a *staticAssets) url(name string) string {
	return "/static/" + name + "?v=" + a.version
}

func (a *staticAssets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
