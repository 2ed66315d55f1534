package edge

import (
	"bytes"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestTTLPolicy_Apply(t *testing.T) {
	p := ttlPolicy{defaultTTL: time.Hour, minTTL: 5 * time.Second, maxTTL: 24 * time.Hour, negativeTTL: 2 * time.Second, sie: time.Minute}
	date := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		status   int
		hdr      map[string]string
		storable bool
		fresh    time.Duration
		swr, sie time.Duration
	}{
		{"max-age", 200, map[string]string{"Cache-Control": "max-age=60"}, true, time.Minute, 0, time.Minute},
		{"s-maxage wins", 200, map[string]string{"Cache-Control": "max-age=60, s-maxage=120"}, true, 2 * time.Minute, 0, time.Minute},
		{"immutable year is capped", 200, map[string]string{"Cache-Control": "public, max-age=31536000, immutable"}, true, 24 * time.Hour, 0, time.Minute},
		{"min ttl floor", 200, map[string]string{"Cache-Control": "max-age=2"}, true, 5 * time.Second, 0, time.Minute},
		{"no directives: default", 200, nil, true, time.Hour, 0, time.Minute},
		{"expires", 200, map[string]string{"Date": date.Format(http.TimeFormat), "Expires": date.Add(10 * time.Minute).Format(http.TimeFormat)}, true, 10 * time.Minute, 0, time.Minute},
		{"expires invalid is stale (floored)", 200, map[string]string{"Expires": "0"}, true, 5 * time.Second, 0, time.Minute},
		{"no-store", 200, map[string]string{"Cache-Control": "no-store"}, false, time.Hour, 0, time.Minute},
		{"private", 200, map[string]string{"Cache-Control": "private, max-age=60"}, false, time.Minute, 0, time.Minute},
		{"no-cache revalidates always", 200, map[string]string{"Cache-Control": "no-cache, max-age=60"}, true, 0, 0, 0},
		{"must-revalidate: no stale", 200, map[string]string{"Cache-Control": "max-age=60, must-revalidate"}, true, time.Minute, 0, 0},
		{"stale directives", 200, map[string]string{"Cache-Control": "max-age=60, stale-while-revalidate=30, stale-if-error=600"}, true, time.Minute, 30 * time.Second, 10 * time.Minute},
		{"404 default is negative ttl", 404, nil, true, 2 * time.Second, 0, time.Minute},
		{"404 max-age capped by negative ttl", 404, map[string]string{"Cache-Control": "max-age=3600"}, true, 2 * time.Second, 0, time.Minute},
		{"500 not stored", 500, map[string]string{"Cache-Control": "max-age=60"}, false, time.Minute, 0, time.Minute},
		{"vary user-agent stored (keyed on it)", 200, map[string]string{"Cache-Control": "max-age=60", "Vary": "User-Agent"}, true, time.Minute, 0, time.Minute},
		{"vary accept-encoding stored", 200, map[string]string{"Cache-Control": "max-age=60", "Vary": "Accept-Encoding"}, true, time.Minute, 0, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.hdr {
				h.Set(k, v)
			}
			m := &entry{status: tt.status, date: date}
			p.apply(m, h)
			if m.storable != tt.storable || m.freshFor != tt.fresh || m.swr != tt.swr || m.sie != tt.sie {
				t.Fatalf("storable %v fresh %v swr %v sie %v; want %v %v %v %v", m.storable, m.freshFor, m.swr, m.sie, tt.storable, tt.fresh, tt.swr, tt.sie)
			}
		})
	}
}

func TestEntry_AgeCountsOriginAge(t *testing.T) {
	p := ttlPolicy{maxTTL: time.Hour}
	now := time.Now()
	m := &entry{status: 200, date: now}
	p.apply(m, http.Header{"Cache-Control": {"max-age=60"}, "Age": {"50"}})
	if !m.fresh(now.Add(9*time.Second)) || m.fresh(now.Add(11*time.Second)) {
		t.Fatalf("an answer 50 s old with max-age=60 must stay fresh 10 s")
	}
}

// revalidatingHandler answers 304 to a matching If-None-Match and counts
// full answers.
func revalidatingHandler(body []byte, etag, cacheControl string, full *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", cacheControl)
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

func TestEdge_ExpiredEntryIsRevalidated(t *testing.T) {
	o := newTestOrigin(t)
	var full atomic.Int64
	o.handle("/videos/v1/index.m3u8", revalidatingHandler([]byte(playlist), `"p1"`, "max-age=0", &full))
	e, base := startEdge(t, o.URL(), func(c *Config) { c.StaleIfError = -1 })
	c := testClient(t)

	wantXCache(t, get(t, c, base+"/videos/v1/index.m3u8"), "Miss")
	waitIdle(t, e)
	r := get(t, c, base+"/videos/v1/index.m3u8")
	wantStatus(t, r, 200)
	wantXCache(t, r, "RefreshHit")
	if string(r.body) != playlist {
		t.Fatalf("refreshed body %q", r.body)
	}
	reqs := o.requestsFor("/videos/v1/index.m3u8")
	if len(reqs) != 2 || reqs[1].ifNoneMatch != `"p1"` {
		t.Fatalf("origin requests %+v: want a conditional second request", reqs)
	}
	if full.Load() != 1 {
		t.Fatalf("origin sent the full body %d times", full.Load())
	}
}

func TestEdge_ChangedObjectReplacesExpiredEntry(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/master.m3u8", &testObject{body: []byte("one"), etag: `"1"`, cacheControl: "max-age=0"})
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	get(t, c, base+"/videos/v1/master.m3u8")
	waitIdle(t, e)
	o.put("/videos/v1/master.m3u8", &testObject{body: []byte("two"), etag: `"2"`, cacheControl: "max-age=0"})
	r := get(t, c, base+"/videos/v1/master.m3u8")
	wantXCache(t, r, "Miss")
	if !bytes.Equal(r.body, []byte("two")) {
		t.Fatalf("body %q after change", r.body)
	}
}

// TestEdge_AgeAndExpiryFollowConfigNow: Age and expiry are read from
// Config.Now on both serving paths: a playlist with max-age=60 is a hit
// aged 30 s after the clock moves 30 s, and is revalidated once it moves
// past 60 s.
func TestEdge_AgeAndExpiryFollowConfigNow(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(map[bool]string{true: "fast path", false: "net/http"}[fast], func(t *testing.T) {
			o := newTestOrigin(t)
			var full atomic.Int64
			o.handle("/videos/v1/index.m3u8", revalidatingHandler([]byte(playlist), `"p1"`, "public, max-age=60", &full))
			clock := newTestClock()
			e, base := startEdge(t, o.URL(), func(c *Config) { c.Now = clock.Now; c.DisableFastPath = !fast })
			c := testClient(t)
			wantXCache(t, get(t, c, base+"/videos/v1/index.m3u8"), "Miss")
			waitIdle(t, e)
			before := counterValue(e.metrics.fastAnswered)

			clock.advance(30 * time.Second)
			// A new connection: the first one went to net/http with the miss.
			r := get(t, testClient(t), base+"/videos/v1/index.m3u8")
			wantXCache(t, r, "Hit")
			if r.header.Get("Age") != "30" {
				t.Fatalf("Age %q after 30 s on the edge's clock, want 30", r.header.Get("Age"))
			}
			want := map[bool]float64{true: 1, false: 0}[fast]
			// An answer is counted once written, which may be a moment
			// after the client has it.
			waitFor(t, "the hit to be counted", func() bool { return counterValue(e.metrics.fastAnswered)-before >= want })
			if answered := counterValue(e.metrics.fastAnswered) - before; answered != want {
				t.Fatalf("fast path answered %v hits", answered)
			}

			clock.advance(31 * time.Second)
			r = get(t, c, base+"/videos/v1/index.m3u8")
			wantStatus(t, r, 200)
			wantXCache(t, r, "RefreshHit")
			if reqs := o.requestsFor("/videos/v1/index.m3u8"); len(reqs) != 2 || reqs[1].ifNoneMatch != `"p1"` {
				t.Fatalf("origin requests %+v: want one conditional revalidation", reqs)
			}
		})
	}
}
