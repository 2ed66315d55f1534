package live

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/streamfront/streamfront/internal/livehdr"
)

func TestCacheHeaders(t *testing.T) {
	for _, tc := range []struct {
		file, query  string
		status       int
		cacheControl string
		kind         string
	}{
		{"index.m3u8", "", 200, playlistCache, livehdr.KindPlaylist},
		{"video1_stream.m3u8", "", 200, playlistCache, livehdr.KindPlaylist},
		{"video1_stream.m3u8", "_HLS_msn=4&_HLS_part=1", 200, blockingCache, livehdr.KindPlaylist},
		{"video1_stream.m3u8", "_HLS_skip=YES", 200, playlistCache, livehdr.KindPlaylist},
		{"abc_video1_part7.mp4", "", 200, mediaCache, livehdr.KindPart},
		{"abc_video1_seg3.mp4", "", 200, mediaCache, livehdr.KindSegment},
		{"abc_video1_init.mp4", "", 200, mediaCache, livehdr.KindInit},
		{"abc_video1_seg3.mp4", "", 404, errorCache, ""},
	} {
		q, _ := url.ParseQuery(tc.query)
		rec := httptest.NewRecorder()
		w := CacheHeaders(rec, tc.file, q)
		w.Header().Set("Cache-Control", "no-cache") // gohlslib's, replaced
		w.WriteHeader(tc.status)
		if got := rec.Header().Get("Cache-Control"); got != tc.cacheControl {
			t.Errorf("%s?%s %d: Cache-Control %q, want %q", tc.file, tc.query, tc.status, got, tc.cacheControl)
		}
		if got := rec.Header().Get(livehdr.Kind); got != tc.kind {
			t.Errorf("%s?%s %d: %s %q, want %q", tc.file, tc.query, tc.status, livehdr.Kind, got, tc.kind)
		}
	}
	// A body without WriteHeader is a 200 with the headers.
	rec := httptest.NewRecorder()
	_, _ = CacheHeaders(rec, "abc_video1_part1.mp4", nil).Write([]byte("x"))
	if rec.Code != http.StatusOK || rec.Header().Get(livehdr.Kind) != livehdr.KindPart {
		t.Errorf("implicit 200: %d %v", rec.Code, rec.Header())
	}
}
