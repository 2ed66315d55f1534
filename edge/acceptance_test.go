package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The edge acceptance of the "Edge" issue, each check as the issue states
// it. Behaviours are tested in detail beside their code; these are the
// headline numbers, at full size.

func TestAcceptance_1000ConcurrentMissesMakeOneOriginFetch(t *testing.T) {
	o := newTestOrigin(t)
	body := pattern(1 << 20)
	o.put("/videos/v1/hls/src/video/3.m4s", &testObject{body: body, contentType: "video/mp4",
		cacheControl: "public, max-age=31536000, immutable", etag: `"seg3"`})
	// A thousand client goroutines under -race on a loaded machine can take
	// longer than the 10 s ReadHeaderTimeout between dialling and sending
	// their request; the edge then closes the connection and the client
	// reads EOF (seen twice in full -race runs, at load average 19).
	_, base := startEdge(t, o.URL(), func(c *Config) { c.ReadHeaderTimeout = 10 * time.Second * timeoutScale })
	tr := &http.Transport{MaxIdleConnsPerHost: 1000, MaxConnsPerHost: 0, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 2 * time.Minute}

	const clients = 1000
	var wg sync.WaitGroup
	errs := make([]error, clients)
	start := make(chan struct{})
	for i := range clients {
		wg.Go(func() {
			<-start
			resp, err := c.Get(base + "/videos/v1/hls/src/video/3.m4s")
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs[i] = fmt.Errorf("status %d", resp.StatusCode)
				return
			}
			errs[i] = sameBytes(resp.Body, body)
		})
	}
	close(start)
	wg.Wait()
	for i := range clients {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
	}
	if n := o.count("/videos/v1/hls/src/video/3.m4s"); n != 1 {
		t.Fatalf("%d origin fetches for %d concurrent misses, want 1", n, clients)
	}
}

func TestAcceptance_RangeDeepInA2GBObjectFetchesAtMostTwoSlices(t *testing.T) {
	// A sparse 2 GB file: the origin serves it for real (http.ServeContent
	// on the file), but it takes no disk space and is not in git.
	path := filepath.Join(t.TempDir(), "big.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size = 2 << 30
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	const at = 1536 << 20 // 1.5 GB
	marker := []byte("streamfront: the bytes at 1.5 GB")
	if _, err := f.WriteAt(marker, at+12345); err != nil {
		t.Fatal(err)
	}
	f.Close()
	o := newTestOrigin(t)
	o.handle("/videos/v1/r/src.mp4", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("ETag", `"big"`)
		http.ServeContent(w, r, "", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), f)
	})
	_, base := startEdge(t, o.URL(), nil) // default 2 MiB slices
	c := testClient(t)
	r := do(t, c, "GET", base+"/videos/v1/r/src.mp4", map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", at, at+(1<<20)-1)})
	wantStatus(t, r, http.StatusPartialContent)
	if len(r.body) != 1<<20 || !bytes.Equal(r.body[12345:12345+len(marker)], marker) {
		t.Fatalf("got %d bytes; the marker at 1.5 GB is not where it should be", len(r.body))
	}
	if want := fmt.Sprintf("bytes %d-%d/%d", at, at+(1<<20)-1, size); r.header.Get("Content-Range") != want {
		t.Fatalf("Content-Range %q, want %q", r.header.Get("Content-Range"), want)
	}
	reqs := o.requestsFor("/videos/v1/r/src.mp4")
	if len(reqs) == 0 || len(reqs) > 2 {
		t.Fatalf("%d origin fetches (%+v), want at most two slices", len(reqs), reqs)
	}
	for _, q := range reqs {
		if !strings.HasPrefix(q.rangeHeader, "bytes=") {
			t.Fatalf("the edge fetched the whole 2 GB object: %+v", q)
		}
	}
}

func TestAcceptance_OriginKilledCachedKeepsPlayingUncachedFailsFast(t *testing.T) {
	o := newTestOrigin(t)
	playlist := []byte("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nvideo/0.m4s\n#EXT-X-ENDLIST\n")
	o.put("/videos/v1/hls/src/video.m3u8", &testObject{body: playlist, contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=1"})
	o.put("/videos/v1/hls/src/video/0.m4s", &testObject{body: pattern(300 << 10), contentType: "video/mp4", cacheControl: "public, max-age=1"})
	mp4 := pattern(5 << 20)
	o.put("/videos/v1/r/src.mp4", &testObject{body: mp4, contentType: "video/mp4", cacheControl: "public, max-age=1", etag: `"mp4"`})
	clock := newTestClock()
	e, base := startEdge(t, o.URL(), func(c *Config) {
		c.OriginConnectTimeout = 500 * time.Millisecond
		c.OriginFirstByteTimeout = time.Second
		c.Now = clock.Now
	})
	c := testClient(t)
	for _, p := range []string{"/videos/v1/hls/src/video.m3u8", "/videos/v1/hls/src/video/0.m4s"} {
		wantStatus(t, get(t, c, base+p), http.StatusOK)
	}
	wantStatus(t, do(t, c, "GET", base+"/videos/v1/r/src.mp4", map[string]string{"Range": "bytes=1000000-1000999"}), http.StatusPartialContent)
	// The client has its 1000 bytes before the slice's 2 MiB are all in:
	// stopping the origin now would break that fill and leave the range
	// uncached (a race this test lost about one run in 13).
	waitIdle(t, e)

	o.stop()
	clock.advance(2 * time.Second) // every entry has expired: served now only as stale
	for _, p := range []string{"/videos/v1/hls/src/video.m3u8", "/videos/v1/hls/src/video/0.m4s"} {
		r := get(t, c, base+p)
		wantStatus(t, r, http.StatusOK)
		wantXCache(t, r, "Stale")
	}
	r := do(t, c, "GET", base+"/videos/v1/r/src.mp4", map[string]string{"Range": "bytes=1000000-1000999"})
	wantStatus(t, r, http.StatusPartialContent)
	if !bytes.Equal(r.body, mp4[1000000:1001000]) {
		t.Fatal("stale MP4 range differs")
	}
	// Uncached: a clear 502/504, not a hang.
	r = get(t, c, base+"/videos/v2/hls/src/video.m3u8")
	if r.status != http.StatusBadGateway && r.status != http.StatusGatewayTimeout {
		t.Fatalf("uncached with the origin down: status %d, want 502 or 504", r.status)
	}
	if !bytes.Contains(r.body, []byte(`"error"`)) {
		t.Fatalf("the failure should say why: %s", r.body)
	}

	o.restart()
	o.put("/videos/v2/hls/src/video.m3u8", &testObject{body: playlist, contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=60"})
	waitFor(t, "the edge to fill from the origin again", func() bool {
		return get(t, c, base+"/videos/v2/hls/src/video.m3u8").status == http.StatusOK
	})
}

func TestAcceptance_StaleSlicedObjectWithAMissingSliceFailsCleanly(t *testing.T) {
	o := newTestOrigin(t)
	mp4 := pattern(5 << 20)
	o.put("/videos/v1/r/src.mp4", &testObject{body: mp4, contentType: "video/mp4", cacheControl: "public, max-age=1", etag: `"mp4"`})
	clock := newTestClock()
	e, base := startEdge(t, o.URL(), func(c *Config) {
		c.OriginConnectTimeout = 500 * time.Millisecond
		c.Now = clock.Now
	})
	c := testClient(t)
	wantStatus(t, do(t, c, "GET", base+"/videos/v1/r/src.mp4", map[string]string{"Range": "bytes=0-999"}), http.StatusPartialContent)
	waitIdle(t, e)
	o.stop()
	clock.advance(2 * time.Second)
	// Slice 0 is cached: served stale. Slice 2 never was: a clear 502, not
	// a status line followed by a cut connection.
	wantStatus(t, do(t, c, "GET", base+"/videos/v1/r/src.mp4", map[string]string{"Range": "bytes=100-199"}), http.StatusPartialContent)
	r := do(t, c, "GET", base+"/videos/v1/r/src.mp4", map[string]string{"Range": "bytes=4500000-4500999"})
	if r.err != nil || (r.status != http.StatusBadGateway && r.status != http.StatusGatewayTimeout) {
		t.Fatalf("missing slice with the origin down: status %d, err %v", r.status, r.err)
	}
}

// sameBytes reads r to its end and compares it with want as it goes:
// a thousand clients holding a copy of a 1 MiB body each (and io.ReadAll
// copying it as it grows) cost a gigabyte and, under the race detector,
// most of the test's minute.
func sameBytes(r io.Reader, want []byte) error {
	buf := make([]byte, 32<<10)
	var off int
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if off+n > len(want) || !bytes.Equal(buf[:n], want[off:off+n]) {
				return fmt.Errorf("the body differs from the origin's at or after byte %d", off)
			}
			off += n
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != len(want) {
		return fmt.Errorf("got %d bytes, the origin has %d", off, len(want))
	}
	return nil
}
