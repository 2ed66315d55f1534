package live

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

var _ http.Handler = (*Manager)(nil)

// ServeHTTP serves the HLS of live broadcasts:
//
//	/live/{id}/index.m3u8            multivariant playlist
//	/live/{id}/video1_stream.m3u8    video media playlist (LL-HLS for "low")
//	/live/{id}/audio2_stream.m3u8    audio media playlist, when there is sound
//	/live/{id}/{prefix}_{track}_init.mp4, _seg{n}.mp4, _part{n}.mp4
//	                                 init segments, segments and parts
//	/live/{id}/{rung}/…              a rung of the ladder (ladder.go): its
//	                                 video playlist, init, segments, parts
//
// The multivariant playlist is ours (multivariant.go): the source and the
// rungs on air, all with the source's audio.
//
// The file names after /live/{id}/ are gohlslib's, listed by the
// playlists; {prefix} is random per muxer, so a URL never names media of an
// earlier broadcast (or of a muxer restarted for new codec parameters) and
// segments can be cached as immutable. Media playlists of low-latency
// streams answer blocking reloads (_HLS_msn, _HLS_part) and delta updates
// (_HLS_skip=YES). A stream without a broadcast on answers 404.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, rungName, file, ok := livePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	current := func() (*gohlslib.Muxer, *programDates) {
		if rungName != "" {
			return m.rungFor(id, rungName)
		}
		return m.muxerFor(id)
	}
	mux, dates := current()
	if mux == nil {
		http.Error(w, "no live broadcast on this stream", http.StatusNotFound)
		return
	}
	m.viewers.note(id, r.Header, time.Now())
	if rungName == "" && file == multivariantName {
		m.serveMultivariant(w, r, id, mux)
		return
	}
	if strings.HasSuffix(file, mediaPlaylistSuffix) {
		serveDatedPlaylist(w, r, mux, dates, func() bool {
			now, _ := current()
			return now != mux
		})
		return
	}
	if track, ok := partTrack(file); ok {
		m.servePart(w, r, mux, track, file)
		return
	}
	// gohlslib's handler picks the file by the last path element and writes
	// nothing at all for a name it does not know: say 404 then.
	tw := &trackingWriter{ResponseWriter: w}
	mux.Handle(tw, r)
	if !tw.wrote {
		http.NotFound(w, r)
	}
}

// mediaPlaylistSuffix ends the names of gohlslib's media playlists.
const mediaPlaylistSuffix = "_stream.m3u8"

// serveDatedPlaylist serves a media playlist with a program date-time on
// every segment: gohlslib's playlist (after any blocking wait it does),
// parsed, dated (see programDates) and written again. gone tells whether
// mux closed since: a blocking reload it was holding then ends with
// gohlslib's 500, which is the broadcast ending, not a server fault, and
// is answered 404 like any request after the end.
func serveDatedPlaylist(w http.ResponseWriter, r *http.Request, mux *gohlslib.Muxer, dates *programDates, gone func() bool) {
	resp := &memoryResponse{header: http.Header{}}
	mux.Handle(resp, r)
	if resp.code == 0 || (resp.code == http.StatusInternalServerError && gone()) {
		http.Error(w, "no live broadcast on this stream", http.StatusNotFound)
		return
	}
	body := resp.body.Bytes()
	if resp.code == http.StatusOK {
		if parsed, err := playlist.Unmarshal(body); err == nil {
			if pl, ok := parsed.(*playlist.Media); ok {
				dates.fill(pl)
				if b, err := pl.Marshal(); err == nil {
					body = b
				}
			}
		}
	}
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// partTrack returns the gohlslib stream ("video1") a part file
// ({prefix}_{stream}_part{n}.mp4) belongs to.
func partTrack(file string) (string, bool) {
	rest, ok := strings.CutSuffix(file, ".mp4")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "_part")
	if i < 0 {
		return "", false
	}
	_, track, ok := strings.Cut(rest[:i], "_")
	return track, ok && track != ""
}

// servePart serves a part, waiting for it when it is the preload hint.
//
// gohlslib's own preload-hint handler returns without unlocking the
// muxer's mutex when the muxer closes while it waits (gohlslib v2.4.1,
// muxer_stream.go, rotateParts), which leaves every other request on that
// muxer waiting forever: every broadcast that ends with a viewer waiting
// for the next part would leak its waiting requests. So the hint is never
// passed to it: the wait is a blocking playlist reload (whose handler
// unlocks properly, and answers 500 when the muxer closes), and the part
// is handed to gohlslib only once the playlist lists it, when its path
// serves the finished part.
func (m *Manager) servePart(w http.ResponseWriter, r *http.Request, mux *gohlslib.Muxer, track, file string) {
	playlistName := track + mediaPlaylistSuffix
	// A part becomes available at most once per wait; two rounds cover a
	// hint announced just as the previous part completed.
	for range 3 {
		pl, code := mediaPlaylistOf(mux, playlistName)
		if pl == nil {
			http.Error(w, "no such part", code)
			return
		}
		if !pl.listsPart(file) {
			if pl.PreloadHint == nil || plainURI(pl.PreloadHint.URI) != file {
				// Not announced: a part of an older segment (still served
				// by gohlslib, without waiting) or nothing at all.
				break
			}
			// The hint: wait for the next part.
			msn, part := pl.MediaSequence+len(pl.Segments), len(pl.Parts)
			if _, code := mediaPlaylistOf(mux, fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", playlistName, msn, part)); code != http.StatusOK {
				http.Error(w, "the broadcast ended", http.StatusNotFound)
				return
			}
			continue
		}
		break
	}
	tw := &trackingWriter{ResponseWriter: w}
	mux.Handle(tw, r)
	if !tw.wrote {
		http.NotFound(w, r)
	}
}

// playlistOf asks mux, in process, for the playlist at target (a path,
// with the query gohlslib passes into URIs) and parses it; the status
// says why there is none.
func playlistOf(mux *gohlslib.Muxer, target string) (playlist.Playlist, int) {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, http.StatusBadRequest
	}
	resp := &memoryResponse{header: http.Header{}}
	mux.Handle(resp, req)
	if resp.code != http.StatusOK && resp.code != 0 {
		return nil, resp.code
	}
	parsed, err := playlist.Unmarshal(resp.body.Bytes())
	if err != nil {
		return nil, http.StatusInternalServerError
	}
	return parsed, http.StatusOK
}

// mediaPlaylist is a parsed media playlist of a muxer.
type mediaPlaylist struct{ *playlist.Media }

// mediaPlaylistOf asks mux, in process, for a media playlist (name may
// carry a query) and parses it.
func mediaPlaylistOf(mux *gohlslib.Muxer, name string) (*mediaPlaylist, int) {
	parsed, code := playlistOf(mux, "/"+name)
	if code != http.StatusOK {
		return nil, code
	}
	pl, ok := parsed.(*playlist.Media)
	if !ok {
		return nil, http.StatusInternalServerError
	}
	return &mediaPlaylist{pl}, http.StatusOK
}

// listsPart reports whether the playlist lists the finished part file.
func (pl *mediaPlaylist) listsPart(file string) bool {
	for _, p := range pl.Parts {
		if plainURI(p.URI) == file {
			return true
		}
	}
	for _, s := range pl.Segments {
		for _, p := range s.Parts {
			if plainURI(p.URI) == file {
				return true
			}
		}
	}
	return false
}

// plainURI drops the query gohlslib copies from requests into URIs.
func plainURI(uri string) string {
	u, _, _ := strings.Cut(uri, "?")
	return u
}

// livePath splits /live/{id}/{file} and /live/{id}/{rung}/{file}. Every
// part is a plain name (letters, digits, '_', '-', '.'; no "..") and a
// rung is a rung's name, so nothing else reaches the muxer.
func livePath(p string) (id, rung, file string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/live/")
	if !ok {
		return "", "", "", false
	}
	id, file, ok = strings.Cut(rest, "/")
	if !ok || !plainName(id) {
		return "", "", "", false
	}
	if r, f, nested := strings.Cut(file, "/"); nested {
		if !rungName(r) {
			return "", "", "", false
		}
		rung, file = r, f
	}
	if !plainName(file) {
		return "", "", "", false
	}
	return id, rung, file, true
}

func plainName(s string) bool {
	if s == "" || len(s) > 128 || strings.Contains(s, "..") {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// trackingWriter notes whether a handler wrote anything.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush lets parts stream to the client as gohlslib writes them.
func (w *trackingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
