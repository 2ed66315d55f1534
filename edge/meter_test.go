package edge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

// usageRecorder is a usage.Sink that keeps the rows it is given.
type usageRecorder struct {
	mu     sync.Mutex
	rows   []usage.ReportRow
	closed bool
}

func (r *usageRecorder) Put(_ context.Context, rep *usage.Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, rep.Rows...)
	return nil
}

func (r *usageRecorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

// sums adds the rows up by video and kind.
func (r *usageRecorder) sums() map[[2]string]usage.Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[[2]string]usage.Counts{}
	for _, row := range r.rows {
		k := [2]string{row.Video, row.Kind.String()}
		c := out[k]
		c.Requests += row.Requests
		c.BytesOut += row.BytesOut
		c.OriginBytes += row.OriginBytes
		c.DeliveredNanos += row.DeliveredNanos
		out[k] = c
	}
	return out
}

// An edge meters every answer to a media path — net/http and fast path,
// hit and miss, whole and ranged, HEAD and 404 — with the bytes its client
// received, the media time the origin's duration header gives (a byte
// share for a range), and the bytes its fills fetched; its own endpoints
// are not deliveries. A graceful stop reports everything and closes the
// Sink.
func TestEdge_MetersWhatItSends(t *testing.T) {
	o := newTestOrigin(t)
	const seg, mp4 = "/videos/v1/hls/src/video/0.m4s", "/videos/v1/r/src.mp4"
	segBody, mp4Body := pattern(300_000), pattern(3<<20)
	withDuration := func(body []byte, seconds string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "video/mp4")
			w.Header().Set("Cache-Control", "public, max-age=3600")
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set(mediaDurationHeader, seconds)
			http.ServeContent(w, r, "", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), bytes.NewReader(body))
		}
	}
	o.handle(seg, withDuration(segBody, "4.000"))
	o.handle(mp4, withDuration(mp4Body, "12"))
	rec := &usageRecorder{}
	e, base, stop := startEdgeStoppable(t, o.URL(), func(c *Config) {
		c.UsageSink, c.UsageInterval = rec, time.Hour // only the stop flushes
		c.SliceSize = 1 << 20
	})
	// A connection per request, so hits meet the fast path (a connection
	// that missed once stays with net/http).
	tr := &http.Transport{DisableCompression: true, DisableKeepAlives: true}
	c := &http.Client{Transport: tr}
	var segSent, mp4Sent, otherSent int64
	var segReqs, mp4Reqs, otherReqs int64
	for range 3 { // miss, then hits
		r := get(t, c, base+seg)
		wantStatus(t, r, http.StatusOK)
		segSent += int64(len(r.body))
		segReqs++
	}
	r := do(t, c, http.MethodHead, base+seg, nil)
	wantStatus(t, r, http.StatusOK)
	segReqs++
	r = do(t, c, http.MethodGet, base+mp4, map[string]string{"Range": "bytes=0-1572863"}) // half
	wantStatus(t, r, http.StatusPartialContent)
	mp4Sent += int64(len(r.body))
	mp4Reqs++
	r = get(t, c, base+"/videos/v1/thumbs/poster.jpg")
	wantStatus(t, r, http.StatusNotFound)
	otherSent += int64(len(r.body))
	otherReqs++
	wantStatus(t, get(t, c, base+"/healthz"), http.StatusOK)
	wantStatus(t, get(t, c, base+"/metrics"), http.StatusOK)
	stop()

	got := rec.sums()
	if !rec.closed {
		t.Error("the edge did not close its usage sink at its stop")
	}
	want := map[[2]string]usage.Counts{
		{"v1", "hls-segment"}: {Requests: segReqs, BytesOut: segSent, OriginBytes: int64(len(segBody)),
			DeliveredNanos: int64(3 * 4 * time.Second)},
		// Two 1 MiB slices fetched for the range (and perhaps one read
		// ahead, checked below); half the file carries half its 12 s.
		{"v1", "mp4"}:   {Requests: mp4Reqs, BytesOut: mp4Sent, DeliveredNanos: int64(6 * time.Second)},
		{"v1", "other"}: {Requests: otherReqs, BytesOut: otherSent},
	}
	if len(got) != len(want) {
		t.Errorf("rows by video and kind: %v, want %v", got, want)
	}
	for k, w := range want {
		g := got[k]
		if k[1] == "mp4" {
			if g.OriginBytes < 2<<20 || g.OriginBytes > int64(len(mp4Body)) {
				t.Errorf("mp4 origin bytes %d, want the slices fetched: 2-3 MiB", g.OriginBytes)
			}
			g.OriginBytes = 0
		}
		if k[1] == "other" {
			g.OriginBytes = 0 // the 404's JSON body
		}
		if g != w {
			t.Errorf("%v: %+v, want %+v", k, g, w)
		}
	}
	if fast := counterValue(e.metrics.fastAnswered); !fastPathOffInTests && fast < 2 {
		t.Errorf("the fast path answered %v requests, want the 2 segment hits", fast)
	}
}

// An aborted transfer counts what went out, not what the answer's
// Content-Length promised: a viewer who reads a little of a large hit and
// leaves is metered for about what it read (plus what socket buffers took),
// on either serving path.
func TestEdge_MetersAnAbortedTransferAsSent(t *testing.T) {
	const size = 32 << 20 // past what loopback socket buffers hold
	for _, fast := range []bool{true, false} {
		t.Run(map[bool]string{true: "fast path", false: "net/http"}[fast], func(t *testing.T) {
			o := newTestOrigin(t)
			const path = "/videos/v1/hls/src/video/big.m4s"
			o.put(path, &testObject{body: pattern(size), contentType: "video/mp4", cacheControl: "public, max-age=3600"})
			rec := &usageRecorder{}
			e, base, stop := startEdgeStoppable(t, o.URL(), func(c *Config) {
				c.UsageSink, c.UsageInterval = rec, time.Hour
				c.DisableFastPath = !fast
			})
			c := &http.Client{Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true}}
			wantStatus(t, get(t, c, base+path), http.StatusOK) // the miss fills the memory tier
			waitIdle(t, e)
			before := counterValue(e.metrics.fastAnswered)
			resp, err := c.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 100<<10)); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close() // leaves mid-body: the connection closes
			stop()
			if fast && counterValue(e.metrics.fastAnswered) == before {
				t.Fatal("the hit did not go out on the fast path")
			}
			var hit usage.Counts
			for _, row := range rec.rows {
				if row.Result == usage.ResultHit {
					hit.Requests += row.Requests
					hit.BytesOut += row.BytesOut
				}
			}
			t.Logf("aborted hit metered as %d bytes of %d", hit.BytesOut, size)
			if hit.Requests != 1 || hit.BytesOut < 100<<10 || hit.BytesOut >= size {
				t.Errorf("aborted hit metered as %d requests, %d bytes; want 1 request of at least the 100 KiB read and less than the %d bytes promised",
					hit.Requests, hit.BytesOut, size)
			}
		})
	}
}
