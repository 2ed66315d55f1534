package live

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/streamfront/streamfront/internal/livehdr"
)

// Cache lifetimes of live HLS, for the edges and players. The manager
// names the files, so it says how long each may be kept.
const (
	// playlistCache: a playlist changes with every part; one second is
	// the least max-age can say. Edges keep a low-latency playlist for one
	// part target at most (they read it in the playlist, see package edge).
	playlistCache = "public, max-age=1"
	// blockingCache: a blocking reload names the part it waits for, so its
	// answer never changes (Apple's LL-HLS spec lets caches keep it).
	blockingCache = "public, max-age=60"
	// mediaCache: gohlslib names every segment and part uniquely (a random
	// prefix per muxer), so they never change.
	mediaCache = "public, max-age=31536000, immutable"
	// errorCache lets edges absorb a burst of 404s (a broadcast not on)
	// for a moment only.
	errorCache = "public, max-age=1"
)

// CacheControl is the Cache-Control of a successful answer for file (a
// name ServeHTTP serves after /live/{id}/) asked with query q.
func CacheControl(file string, q url.Values) string {
	switch {
	case strings.HasSuffix(file, ".m3u8"):
		if _, ok := q["_HLS_msn"]; ok {
			return blockingCache
		}
		return playlistCache
	case strings.HasSuffix(file, ".mp4"):
		return mediaCache
	}
	return playlistCache
}

// Kind is the livehdr.Kind value of file, or "" for none.
func Kind(file string) string {
	switch {
	case strings.HasSuffix(file, ".m3u8"):
		return livehdr.KindPlaylist
	case strings.HasSuffix(file, "_init.mp4"):
		return livehdr.KindInit
	case strings.HasSuffix(file, ".mp4"):
		if _, ok := partTrack(file); ok {
			return livehdr.KindPart
		}
		return livehdr.KindSegment
	}
	return ""
}

// CacheHeaders wraps w so the answer for file, asked with q, carries
// Cache-Control and livehdr.Kind as above (gohlslib's own Cache-Control is
// replaced as the answer starts).
func CacheHeaders(w http.ResponseWriter, file string, q url.Values) http.ResponseWriter {
	return &cacheWriter{ResponseWriter: w, policy: CacheControl(file, q), kind: Kind(file)}
}

// cacheWriter sets the headers of CacheHeaders as the answer starts.
type cacheWriter struct {
	http.ResponseWriter
	policy, kind string
	wrote        bool
}

func (w *cacheWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code >= 200 && code < 300 {
			w.Header().Set("Cache-Control", w.policy)
			if w.kind != "" {
				w.Header().Set(livehdr.Kind, w.kind)
			}
		} else {
			w.Header().Set("Cache-Control", errorCache)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *cacheWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets parts stream to edges as gohlslib writes them.
func (w *cacheWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
