package origin_test

import (
	"net/http"
	"testing"
)

// Lists refuse a limit or cursor they cannot use with a 400 saying what
// to send, videos and live streams alike.
func TestLists_RefuseABadLimitOrCursor(t *testing.T) {
	b := startBackend(t)
	base := startOriginOn(t, b, 0, withLive(t)).URL
	for _, path := range []string{"/api/v1/videos", "/api/v1/live"} {
		for _, q := range []string{"?limit=0", "?limit=101", "?limit=ten", "?cursor=not*an*id"} {
			if code, _, body := liveCall(t, http.MethodGet, base+path+q, ""); code != http.StatusBadRequest {
				t.Errorf("GET %s%s: %d %s, want 400", path, q, code, body)
			}
		}
		if code, _, body := liveCall(t, http.MethodGet, base+path+"?limit=5", ""); code != http.StatusOK {
			t.Errorf("GET %s?limit=5: %d %s", path, code, body)
		}
	}
}
