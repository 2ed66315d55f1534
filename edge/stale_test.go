package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestEdge_ServesStaleWhenOriginDownAndRecovers(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/master.m3u8", &testObject{body: []byte(playlist), etag: `"m"`, cacheControl: "max-age=0"})
	seg := pattern(4000)
	o.put("/videos/v1/seg1.m4s", &testObject{body: seg, cacheControl: "public, max-age=31536000, immutable"})
	mp4 := pattern(3*testSlice + 9)
	o.put("/videos/v1/r/720.mp4", &testObject{body: mp4, etag: `"v"`, cacheControl: "max-age=0"})
	e, base := startEdge(t, o.URL(), func(c *Config) { c.SliceSize = testSlice })
	c := testClient(t)

	get(t, c, base+"/videos/v1/master.m3u8")
	get(t, c, base+"/videos/v1/seg1.m4s")
	get(t, c, base+"/videos/v1/r/720.mp4")
	waitIdle(t, e)

	o.stop()
	for range 3 {
		r := get(t, c, base+"/videos/v1/master.m3u8")
		wantStatus(t, r, 200)
		wantXCache(t, r, "Stale")
		if string(r.body) != playlist {
			t.Fatalf("stale body %q", r.body)
		}
		r = get(t, c, base+"/videos/v1/seg1.m4s")
		wantStatus(t, r, 200)
		wantXCache(t, r, "Hit")
		r = do(t, c, http.MethodGet, base+"/videos/v1/r/720.mp4", map[string]string{"Range": "bytes=100-199"})
		wantStatus(t, r, 206)
		wantXCache(t, r, "Stale")
		if !bytes.Equal(r.body, mp4[100:200]) {
			t.Fatal("stale range differs")
		}
	}
	miss := get(t, c, base+"/videos/v2/master.m3u8")
	wantStatus(t, miss, http.StatusBadGateway)
	var msg struct{ Error string }
	if err := json.Unmarshal(miss.body, &msg); err != nil || msg.Error == "" {
		t.Fatalf("error body %q is not {\"error\": ...}", miss.body)
	}
	if miss.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("error Content-Type %q", miss.header.Get("Content-Type"))
	}

	o.restart()
	waitFor(t, "the edge to notice the origin is back", func() bool {
		r := get(t, c, base+"/videos/v1/master.m3u8")
		return r.status == 200 && r.header.Get("X-Cache") != "Stale from test-edge"
	})
	wantStatus(t, get(t, c, base+"/videos/v2/master.m3u8"), 404)
}

func TestEdge_StaleWhileRevalidate(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/master.m3u8", &testObject{body: []byte(playlist), etag: `"m"`, cacheControl: "max-age=0, stale-while-revalidate=600"})
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	get(t, c, base+"/videos/v1/master.m3u8")
	waitIdle(t, e)
	r := get(t, c, base+"/videos/v1/master.m3u8")
	wantStatus(t, r, 200)
	wantXCache(t, r, "Stale")
	waitFor(t, "the background revalidation", func() bool { return o.count("/videos/v1/master.m3u8") >= 2 })
	if reqs := o.requestsFor("/videos/v1/master.m3u8"); reqs[1].ifNoneMatch != `"m"` {
		t.Fatalf("background revalidation was not conditional: %+v", reqs[1])
	}
}

func TestEdge_ServesStaleOnOrigin5xx(t *testing.T) {
	o := newTestOrigin(t)
	var mu sync.Mutex
	failing := false
	o.handle("/videos/v1/master.m3u8", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f := failing
		mu.Unlock()
		if f {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=0")
		w.Write([]byte(playlist))
	})
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	get(t, c, base+"/videos/v1/master.m3u8")
	waitIdle(t, e)
	mu.Lock()
	failing = true
	mu.Unlock()
	r := get(t, c, base+"/videos/v1/master.m3u8")
	wantStatus(t, r, 200)
	wantXCache(t, r, "Stale")
}

func TestEdge_UncachedRequestFailsFastWith504WhenOriginHangs(t *testing.T) {
	o := newTestOrigin(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	o.handle("/videos/v1/slow.m3u8", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	_, base := startEdge(t, o.URL(), func(c *Config) { c.OriginFirstByteTimeout = 200 * time.Millisecond })
	r := get(t, testClient(t), base+"/videos/v1/slow.m3u8")
	wantStatus(t, r, http.StatusGatewayTimeout)
	if !bytes.Contains(r.body, []byte(`"error"`)) {
		t.Fatalf("body %q", r.body)
	}
}
