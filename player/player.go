package player

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// dist holds what `npm run build` wrote; "all:" keeps dist/.gitkeep, so the
// pattern matches even before the first build.
//
//go:embed all:dist
var dist embed.FS

// Cache lifetimes. A request whose ?v= names the current Version gets a
// content-addressed URL and may be cached for good; a bare URL (a third-party
// embed that wrote /player/player.js by hand) is cached for a day so that a
// new release reaches it without anyone clearing caches.
const (
	versionedCacheControl   = "public, max-age=31536000, immutable"
	unversionedCacheControl = "public, max-age=86400, stale-while-revalidate=604800"
)

// notBuiltMessage is the 503 body when dist/ holds no build.
const notBuiltMessage = "The Streamfront player is not built into this binary: run `make build` " +
	"(it runs `cd player && npm ci && npm run build`), then rebuild the Go binary.\n"

// Assets serves the built player files (player.js, player.css, the hls.js
// worker and their source maps) with exact content types, an ETag and long
// cache headers, gzip-compressed for clients that accept it.
// Build it with New; it is safe for concurrent use and never changes.
type Assets struct {
	files   map[string]*asset
	version string
}

var _ http.Handler = (*Assets)(nil)

// asset is one file held in memory. Its gzip form is made on the first
// request that accepts it (compressing the source maps up front would cost
// every process start a second), and kept.
type asset struct {
	contentType string
	body        []byte
	etag        string

	gzipOnce sync.Once
	gzipBody []byte // nil when compression does not pay
	gzipETag string
}

// New returns the handler for the player built into this binary.
func New() (*Assets, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("player assets: %w", err)
	}
	return newAssets(sub)
}

// newAssets reads every file of fsys (the dist folder) into memory. The
// build is a handful of files of a few hundred kilobytes.
func newAssets(fsys fs.FS) (*Assets, error) {
	a := &Assets{files: map[string]*asset{}}
	var names []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Base(name) == ".gitkeep" {
			return nil
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("player assets: list the build: %w", err)
	}
	sort.Strings(names)
	whole := sha256.New()
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("player assets: read %s: %w", name, err)
		}
		f := newAsset(name, body)
		a.files[name] = f
		fmt.Fprintf(whole, "%s\x00%s\x00", name, f.etag)
	}
	if len(a.files) > 0 {
		a.version = hex.EncodeToString(whole.Sum(nil))[:12]
	}
	return a, nil
}

func newAsset(name string, body []byte) *asset {
	sum := sha256.Sum256(body)
	return &asset{
		contentType: contentTypeFor(name, body),
		body:        body,
		etag:        `"` + hex.EncodeToString(sum[:])[:20] + `"`,
	}
}

// gzipped returns the gzip form and its ETag, or nil when the file is not
// worth compressing.
func (f *asset) gzipped() ([]byte, string) {
	f.gzipOnce.Do(func() {
		if !compressible(f.contentType) || len(f.body) <= 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		_, _ = zw.Write(f.body)                                  // a bytes.Buffer does not fail
		_ = zw.Close()
		if buf.Len() < len(f.body) {
			f.gzipBody = buf.Bytes()
			f.gzipETag = strings.TrimSuffix(f.etag, `"`) + `-gz"`
		}
	})
	return f.gzipBody, f.gzipETag
}

// contentTypes is fixed here rather than taken from mime.TypeByExtension,
// whose answers depend on the machine's /etc/mime.types.
var contentTypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".map":   "application/json; charset=utf-8",
	".json":  "application/json; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".html":  "text/html; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".woff2": "font/woff2",
}

func contentTypeFor(name string, body []byte) string {
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		return ct
	}
	return http.DetectContentType(body)
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") ||
		strings.HasPrefix(contentType, "application/json") ||
		strings.HasPrefix(contentType, "image/svg")
}

// Built reports whether a player build is embedded (false when dist/ held
// only .gitkeep at compile time).
func (a *Assets) Built() bool { return len(a.files) > 0 }

// Version is a short hash of every built file, "" when not built. Put it in
// asset URLs as ?v= so that browsers cache them for a year and still fetch a
// new build the moment the page names it.
func (a *Assets) Version() string { return a.version }

// ServeHTTP serves the file named by the request path (relative to where
// the handler is mounted; strip the prefix with http.StripPrefix).
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "The player assets are read-only: use GET or HEAD.", http.StatusMethodNotAllowed)
		return
	}
	if !a.Built() {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, notBuiltMessage, http.StatusServiceUnavailable)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	f, ok := a.files[name]
	if !ok {
		http.Error(w, fmt.Sprintf("The player has no file %q.", name), http.StatusNotFound)
		return
	}

	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	// Embeds on other sites load the player too.
	h.Set("Access-Control-Allow-Origin", "*")
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", versionedCacheControl)
	} else {
		h.Set("Cache-Control", unversionedCacheControl)
	}
	body, etag := f.body, f.etag
	if compressible(f.contentType) {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			if zbody, zetag := f.gzipped(); zbody != nil {
				body, etag = zbody, zetag
				h.Set("Content-Encoding", "gzip")
			}
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match with 304 and serves Range requests.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (present and not refused with q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
