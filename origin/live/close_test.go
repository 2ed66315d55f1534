package live

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLive_EndAnswersWaitingRequests ends a broadcast while requests wait
// on it (a preload hint, blocking reloads): every one must be answered, the
// playlists with 404 (the broadcast ended), never a 500 that would read as
// a server fault at the edges and in players.
func TestLive_EndAnswersWaitingRequests(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})
	enc := push(t, l.rtmpURL+"/"+testKey, 12, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	pl := l.waitSegments(t, videoPlaylist, 2, true)
	_ = enc.stop()
	l.waitEvent(t, EventDisconnected, 20*time.Second)

	// Nothing more comes: these wait until the muxer closes.
	msn := pl.MediaSequence + len(pl.Segments) + 1
	paths := []string{"/live/s1/" + pl.PreloadHint.URI}
	for range 5 {
		paths = append(paths, fmt.Sprintf("%s?_HLS_msn=%d", videoPlaylist, msn))
		paths = append(paths, fmt.Sprintf("/live/s1/audio2_stream.m3u8?_HLS_msn=%d", msn))
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Go(func() {
			resp, err := hc.Get(l.http.URL + p)
			if err != nil {
				t.Errorf("GET %s: %v", p, err)
				return
			}
			resp.Body.Close()
			if strings.Contains(p, ".m3u8") && resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s held across the end: %d, want 404", p, resp.StatusCode)
			}
		})
	}
	// Let the requests reach the muxer. (Were one late, it would get a 404
	// at once: the test would pass without testing; it cannot fail.)
	time.Sleep(500 * time.Millisecond)
	l.m.End("s1")
	l.waitEvent(t, EventEnded, 20*time.Second)
	wg.Wait()
}
