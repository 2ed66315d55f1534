package live

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// TestLive_ManyBlockingClientsGetEveryPart runs a bounded crowd of
// low-latency clients, each following the stream part by part with
// blocking reloads and fetching every part: each must see every part, in
// order, none skipped.
func TestLive_ManyBlockingClientsGetEveryPart(t *testing.T) {
	const clients, parts = 100, 10
	l := startLive(t, LatencyLow, Config{})
	push(t, l.rtmpURL+"/"+testKey, 14, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	first := l.waitSegments(t, videoPlaylist, 2, true)

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			if err := followParts(hc, l.http.URL+videoPlaylist, first, parts); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// followParts asks for each next part with _HLS_msn/_HLS_part, checks the
// playlist lists it and fetches it, n times.
func followParts(hc *http.Client, url string, pl *playlist.Media, n int) error {
	msn, part := pl.MediaSequence+len(pl.Segments), len(pl.Parts)
	for range n {
		resp, err := hc.Get(fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", url, msn, part))
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("msn %d part %d: %d %v", msn, part, resp.StatusCode, err)
		}
		parsed, err := playlist.Unmarshal(body)
		if err != nil {
			return err
		}
		next := parsed.(*playlist.Media)
		// A segment may have completed with fewer parts than the client
		// hoped: the server then answers for the next segment's first
		// part (RFC 8216bis, 6.2.5.2), and so does the client.
		if i := msn - next.MediaSequence; i >= 0 && i < len(next.Segments) && part >= len(next.Segments[i].Parts) {
			msn, part = msn+1, 0
		}
		uri, ok := partURI(next, msn, part)
		if !ok {
			return fmt.Errorf("blocking reload for msn %d part %d returned a playlist without it", msn, part)
		}
		presp, err := hc.Get(url[:len(url)-len("video1_stream.m3u8")] + uri)
		if err != nil {
			return err
		}
		n, _ := io.Copy(io.Discard, presp.Body)
		presp.Body.Close()
		if presp.StatusCode != http.StatusOK || n == 0 {
			return fmt.Errorf("part %s: %d, %d bytes", uri, presp.StatusCode, n)
		}
		// The next part: in the same segment, or the first of the next.
		if seg := msn - next.MediaSequence; seg < len(next.Segments) && part+1 >= len(next.Segments[seg].Parts) {
			msn, part = msn+1, 0
		} else {
			part++
		}
	}
	return nil
}

// partURI finds part `part` of segment msn in pl.
func partURI(pl *playlist.Media, msn, part int) (string, bool) {
	if i := msn - pl.MediaSequence; i >= 0 && i < len(pl.Segments) {
		if part < len(pl.Segments[i].Parts) {
			return pl.Segments[i].Parts[part].URI, true
		}
		return "", false
	}
	if msn == pl.MediaSequence+len(pl.Segments) && part < len(pl.Parts) {
		return pl.Parts[part].URI, true
	}
	return "", false
}
