package edge

import (
	"net/http"
	"strings"
	"testing"
)

func postInvalidation(t *testing.T, c *http.Client, base, token, body string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/invalidations", strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return result{status: resp.StatusCode, header: resp.Header, body: []byte(b.String())}
}

func TestEdge_InvalidationRemovesFromBothTiers(t *testing.T) {
	o := newTestOrigin(t)
	for _, p := range []string{"/videos/abc/master.m3u8", "/videos/abc/seg1.m4s", "/videos/abcd/master.m3u8", "/videos/xyz/master.m3u8"} {
		o.put(p, &testObject{body: []byte(p), cacheControl: "public, max-age=31536000, immutable"})
	}
	o.put("/videos/abc/r/720.mp4", &testObject{body: pattern(2*testSlice + 1), etag: `"v"`, cacheControl: "max-age=600"})
	e, base := startEdge(t, o.URL(), func(c *Config) { c.AdminToken = "s3cret"; c.CacheDir = t.TempDir(); c.SliceSize = testSlice })
	c := testClient(t)
	paths := []string{"/videos/abc/master.m3u8", "/videos/abc/seg1.m4s", "/videos/abcd/master.m3u8", "/videos/xyz/master.m3u8", "/videos/abc/r/720.mp4"}
	for _, p := range paths {
		get(t, c, base+p)
	}
	waitIdle(t, e)

	if r := postInvalidation(t, c, base, "", `{"paths":["/videos/abc/*"]}`); r.status != http.StatusUnauthorized {
		t.Fatalf("no token: status %d", r.status)
	}
	if r := postInvalidation(t, c, base, "wrong", `{"paths":["/videos/abc/*"]}`); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong token: status %d", r.status)
	}
	if r := postInvalidation(t, c, base, "s3cret", `{"paths":"nope"}`); r.status != http.StatusBadRequest {
		t.Fatalf("bad body: status %d", r.status)
	}
	r := postInvalidation(t, c, base, "s3cret", `{"paths":["/videos/abc/*"]}`)
	wantStatus(t, r, 200)
	for _, p := range []string{"/videos/abc/master.m3u8", "/videos/abc/seg1.m4s", "/videos/abc/r/720.mp4"} {
		if e.contains(p) {
			t.Fatalf("%s still cached", p)
		}
		wantXCache(t, get(t, c, base+p), "Miss")
	}
	waitIdle(t, e)
	for _, p := range []string{"/videos/abcd/master.m3u8", "/videos/xyz/master.m3u8"} {
		wantXCache(t, get(t, c, base+p), "Hit")
	}
	// An exact path removes that object only.
	wantStatus(t, postInvalidation(t, c, base, "s3cret", `{"paths":["/videos/xyz/master.m3u8"]}`), 200)
	wantXCache(t, get(t, c, base+"/videos/xyz/master.m3u8"), "Miss")
	waitIdle(t, e)
	wantXCache(t, get(t, c, base+"/videos/abcd/master.m3u8"), "Hit")
}

func TestKeyMatches(t *testing.T) {
	tests := []struct {
		key, pattern string
		want         bool
	}{
		{"/videos/abc/master.m3u8", "/videos/abc/*", true},
		{"/videos/abcd/master.m3u8", "/videos/abc/*", false},
		{"/videos/abc/master.m3u8", "/videos/abc/master.m3u8", true},
		{"/videos/abc/master.m3u8?x=1", "/videos/abc/master.m3u8", true},
		{"/videos/abc/master.m3u8x", "/videos/abc/master.m3u8", false},
		{"/videos/abc/r/720.mp4\x00\"v\"/5\x003", "/videos/abc/r/720.mp4", true},
		{"/anything", "*", true},
	}
	for _, tt := range tests {
		if got := keyMatches(tt.key, tt.pattern); got != tt.want {
			t.Errorf("keyMatches(%q, %q) = %v", tt.key, tt.pattern, got)
		}
	}
}

func TestEdge_FillThatStartedBeforeAnInvalidationStoresNothing(t *testing.T) {
	o := newTestOrigin(t)
	body := pattern(100 << 10)
	gate := make(chan struct{})
	o.handle("/videos/abc/seg1.m4s", gatedHandler(body, "max-age=600", gate))
	e, base := startEdge(t, o.URL(), func(c *Config) { c.AdminToken = "t" })
	c := testClient(t)
	done := make(chan result, 1)
	go func() { done <- get(t, c, base+"/videos/abc/seg1.m4s") }()
	waitFor(t, "the fill to start", func() bool { return o.count("/videos/abc/seg1.m4s") == 1 })
	wantStatus(t, postInvalidation(t, c, base, "t", `{"paths":["/videos/abc/*"]}`), 200)
	close(gate)
	r := <-done
	wantStatus(t, r, 200) // the waiting client still gets its answer
	waitIdle(t, e)
	if e.contains("/videos/abc/seg1.m4s") {
		t.Fatal("a fill from before the invalidation stored its answer")
	}
}
