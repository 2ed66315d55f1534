package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const playlist = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nr/720/index.m3u8\n"

func TestNew_ValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no name", Config{Origin: "http://127.0.0.1:1"}},
		{"no origin", Config{Name: "e"}},
		{"relative origin", Config{Name: "e", Origin: "127.0.0.1:1"}},
		{"name with space", Config{Name: "a b", Origin: "http://127.0.0.1:1"}},
		{"tiny slices", Config{Name: "e", Origin: "http://127.0.0.1:1", SliceSize: 10}},
		{"bad pattern", Config{Name: "e", Origin: "http://127.0.0.1:1", SlicedPaths: []string{"videos/*.mp4"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
	e, err := New(Config{Name: "e", Origin: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.cfg.MemoryBytes != 256<<20 || e.cfg.SliceSize != 2<<20 || e.cfg.DiskBytes != 10<<30 || e.cfg.CORSOrigin != "*" || e.cfg.Addr != ":8081" {
		t.Fatalf("defaults not applied: %+v", e.cfg)
	}
}

func TestEdge_CachesVideosAndPassesThroughTheRest(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/master.m3u8", &testObject{body: []byte(playlist), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=31536000, immutable"})
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)

	first := get(t, c, base+"/videos/v1/master.m3u8")
	wantStatus(t, first, 200)
	wantXCache(t, first, "Miss")
	waitIdle(t, e)
	second := get(t, c, base+"/videos/v1/master.m3u8")
	wantStatus(t, second, 200)
	wantXCache(t, second, "Hit")
	if string(second.body) != playlist || second.header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Fatalf("hit body %q type %q", second.body, second.header.Get("Content-Type"))
	}
	if n := o.count("/videos/v1/master.m3u8"); n != 1 {
		t.Fatalf("origin saw %d requests for a cached playlist, want 1", n)
	}

	for range 2 {
		wantStatus(t, get(t, c, base+"/api/v1/videos"), 200)
	}
	if n := o.count("/api/v1/videos"); n != 2 {
		t.Fatalf("origin saw %d API requests, want 2 (never cached)", n)
	}
	resp, err := c.Post(base+"/api/v1/videos", "application/json", strings.NewReader(`{"title":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var echoed struct{ Method, Path, Body string }
	if err := json.NewDecoder(resp.Body).Decode(&echoed); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if echoed.Method != http.MethodPost || echoed.Body != `{"title":"x"}` {
		t.Fatalf("POST pass-through reached origin as %+v", echoed)
	}
	if resp.Header.Get("X-Edge") != "test-edge" {
		t.Fatalf("pass-through answer lacks X-Edge")
	}
	// A POST under /videos/ is not cached either.
	resp, err = c.Post(base+"/videos/v1/master.m3u8", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := o.count("/videos/v1/master.m3u8"); n != 2 {
		t.Fatalf("POST under /videos/ did not pass through: origin saw %d", n)
	}
}

func TestEdge_EveryResponseCarriesEdgeAndCORSHeaders(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/seg1.m4s", &testObject{body: pattern(1000), contentType: "video/mp4", cacheControl: "public, max-age=31536000, immutable"})
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	get(t, c, base+"/videos/v1/seg1.m4s")
	waitIdle(t, e)

	for _, path := range []string{"/videos/v1/seg1.m4s", "/videos/v1/missing.m4s", "/api/v1/videos", "/healthz", "/metrics"} {
		r := get(t, c, base+path)
		if r.err != nil {
			t.Fatal(r.err)
		}
		for _, h := range []string{"Age", "X-Cache", "X-Edge", "Via", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"} {
			if r.header.Get(h) == "" {
				t.Errorf("%s: missing %s", path, h)
			}
		}
		if r.header.Get("Via") != "1.1 test-edge" || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: Via %q, ACAO %q", path, r.header.Get("Via"), r.header.Get("Access-Control-Allow-Origin"))
		}
		for _, exposed := range []string{"Content-Length", "Content-Range", "X-Cache", "X-Edge", "Age"} {
			if !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), exposed) {
				t.Errorf("%s: %s not exposed", path, exposed)
			}
		}
	}
}

func TestEdge_AnswersCORSPreflight(t *testing.T) {
	o := newTestOrigin(t)
	_, base := startEdge(t, o.URL(), func(c *Config) { c.CORSOrigin = "http://player.example" })
	r := do(t, testClient(t), http.MethodOptions, base+"/videos/v1/r/720.mp4", map[string]string{
		"Origin":                         "http://player.example",
		"Access-Control-Request-Method":  "GET",
		"Access-Control-Request-Headers": "range",
	})
	wantStatus(t, r, http.StatusNoContent)
	if r.header.Get("Access-Control-Allow-Origin") != "http://player.example" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "GET") ||
		!strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "range") {
		t.Fatalf("preflight headers %v", r.header)
	}
	if o.count("/videos/v1/r/720.mp4") != 0 {
		t.Fatal("preflight reached the origin")
	}
}

func TestEdge_Healthz(t *testing.T) {
	o := newTestOrigin(t)
	_, base := startEdge(t, o.URL(), nil)
	r := get(t, testClient(t), base+"/healthz")
	wantStatus(t, r, 200)
}

func TestEdge_NegativeCachingOf404(t *testing.T) {
	o := newTestOrigin(t)
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	a := get(t, c, base+"/videos/nope/master.m3u8")
	waitIdle(t, e)
	wantStatus(t, a, 404)
	if !bytes.Contains(a.body, []byte("no such video")) {
		t.Fatalf("404 body %q", a.body)
	}
	b := get(t, c, base+"/videos/nope/master.m3u8")
	wantStatus(t, b, 404)
	wantXCache(t, b, "Hit")
	if o.count("/videos/nope/master.m3u8") != 1 {
		t.Fatalf("404 was not cached")
	}
}

func TestEdge_NoStoreIsNotCached(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/private.m3u8", &testObject{body: []byte(playlist), cacheControl: "no-store"})
	_, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	for range 3 {
		r := get(t, c, base+"/videos/v1/private.m3u8")
		wantStatus(t, r, 200)
		if string(r.body) != playlist {
			t.Fatalf("body %q", r.body)
		}
	}
	if n := o.count("/videos/v1/private.m3u8"); n != 3 {
		t.Fatalf("origin saw %d requests for a no-store answer, want 3", n)
	}
}

func TestEdge_ObjectOverMaxObjectBytesPassesThrough(t *testing.T) {
	o := newTestOrigin(t)
	body := pattern(300 << 10)
	o.put("/videos/v1/huge.m4s", &testObject{body: body, cacheControl: "max-age=600"})
	_, base := startEdge(t, o.URL(), func(c *Config) { c.MaxObjectBytes = 100 << 10 })
	c := testClient(t)
	for range 2 {
		r := get(t, c, base+"/videos/v1/huge.m4s")
		wantStatus(t, r, 200)
		if !bytes.Equal(r.body, body) {
			t.Fatal("pass-through body differs")
		}
	}
}
