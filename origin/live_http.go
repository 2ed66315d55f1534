package origin

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/live"
)

// Live HLS is served under the media URLs of videos, so edges cache it and
// the router steers it like any video:
//
//	/videos/{live id}/master.m3u8         the multivariant playlist (ours:
//	                                      the source, then the ladder's
//	                                      rungs on air, origin/live)
//	/videos/{live id}/{name}_stream.m3u8  media playlists (blocking reload,
//	                                      _HLS_msn/_HLS_part/_HLS_skip)
//	/videos/{live id}/{prefix}_{track}_{init|seg{n}|part{n}}.mp4
//
//	/videos/{live id}/{rung}/…            a rung's playlist, init, segments
//	                                      and parts ("480p/video1_stream.m3u8")
//
// The names after the ID are gohlslib's, relative in its playlists.

// liveMaster serves a live stream's multivariant playlist at master.m3u8
// while it broadcasts, and hands every other ID to next (the videos).
// serveMasterOrLive serves a live stream's multivariant playlist at
// master.m3u8 while it broadcasts here, else a video's; an ID that is no
// video may be a broadcast on another origin (live_forward.go).
func (s *Server) serveMasterOrLive(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if s.live != nil && s.live.m.Broadcasting(id) {
		s.serveLive(w, r, id, "index.m3u8")
		return nil
	}
	err := s.serveMaster(w, r)
	if err == nil || s.live == nil {
		return err
	}
	if status, _ := s.responder().StatusOf(err); status == http.StatusNotFound && s.forwardLive(w, r, id) {
		return nil
	}
	return err
}

// serveLiveFile serves a live stream's playlists, parts and segments.
func (s *Server) serveLiveFile(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if s.live == nil {
		writeError(w, r, http.StatusNotFound, "Nothing is at this address.")
		return
	}
	if s.forwardLive(w, r, id) {
		return
	}
	s.serveLive(w, r, id, chi.URLParam(r, "file"))
}

// serveLiveRungFile serves the files of a live ladder's rung, here or
// from the origin hosting the broadcast (the rungs are where the source
// is).
func (s *Server) serveLiveRungFile(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if s.live == nil {
		writeError(w, r, http.StatusNotFound, "Nothing is at this address.")
		return
	}
	if s.forwardLive(w, r, id) {
		return
	}
	s.serveLive(w, r, id, chi.URLParam(r, "rung")+"/"+chi.URLParam(r, "file"))
}

func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, id, file string) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/live/" + id + "/" + file
	r2.URL.RawPath = ""
	// Cache-Control and the live kind the edges count by: live.CacheHeaders.
	s.live.m.ServeHTTP(live.CacheHeaders(w, file, r.URL.Query()), r2)
}
