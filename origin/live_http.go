package origin

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// Live HLS is served under the media URLs of videos, so edges cache it and
// the router steers it like any video:
//
//	/videos/{live id}/master.m3u8         gohlslib's multivariant playlist
//	/videos/{live id}/{name}_stream.m3u8  media playlists (blocking reload,
//	                                      _HLS_msn/_HLS_part/_HLS_skip)
//	/videos/{live id}/{prefix}_{track}_{init|seg{n}|part{n}}.mp4
//
// The names after the ID are gohlslib's, relative in its playlists.

// liveMaster serves a live stream's multivariant playlist at master.m3u8
// while it broadcasts, and hands every other ID to next (the videos).
func (s *Server) liveMaster(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if s.live == nil || !s.live.m.Broadcasting(id) {
			next.ServeHTTP(w, r)
			return
		}
		s.serveLive(w, r, id, "index.m3u8")
	})
}

// serveLiveFile serves a live stream's playlists, parts and segments.
func (s *Server) serveLiveFile(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if s.live == nil {
		writeError(w, r, http.StatusNotFound, "Nothing is at this address.")
		return
	}
	s.serveLive(w, r, id, chi.URLParam(r, "file"))
}

func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, id, file string) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/live/" + id + "/" + file
	r2.URL.RawPath = ""
	s.live.m.ServeHTTP(&liveCacheWriter{ResponseWriter: w, policy: liveCachePolicy(file, r.URL.Query())}, r2)
}

// Cache lifetimes of live HLS, for the edges and players.
const (
	// livePlaylistCache: a playlist changes with every part; one second
	// is the least max-age can say (edges should hold it no longer than a
	// part target: edge work, not done here).
	livePlaylistCache = "public, max-age=1"
	// liveBlockingCache: a blocking reload names the part it waits for,
	// so its answer never changes (Apple's LL-HLS spec lets caches keep
	// it).
	liveBlockingCache = "public, max-age=60"
	// liveMediaCache: gohlslib names every segment and part uniquely (a
	// random prefix per muxer), so they never change.
	liveMediaCache = "public, max-age=31536000, immutable"
	// liveErrorCache lets edges absorb a burst of 404s (a broadcast not
	// on) for a moment only.
	liveErrorCache = "public, max-age=1"
)

// liveCachePolicy is the Cache-Control of a successful answer for file.
func liveCachePolicy(file string, q map[string][]string) string {
	switch {
	case strings.HasSuffix(file, ".m3u8"):
		if _, ok := q["_HLS_msn"]; ok {
			return liveBlockingCache
		}
		return livePlaylistCache
	case strings.HasSuffix(file, ".mp4"):
		return liveMediaCache
	}
	return livePlaylistCache
}

// liveCacheWriter replaces gohlslib's Cache-Control with ours as the
// answer starts.
type liveCacheWriter struct {
	http.ResponseWriter
	policy string
	wrote  bool
}

func (w *liveCacheWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code >= 200 && code < 300 {
			w.Header().Set("Cache-Control", w.policy)
		} else {
			w.Header().Set("Cache-Control", liveErrorCache)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *liveCacheWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets parts stream to edges as gohlslib writes them.
func (w *liveCacheWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
