package edge

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestEdge_GzipsPlaylistsForClientsThatAcceptIt(t *testing.T) {
	o := newTestOrigin(t)
	text := strings.Repeat("#EXTINF:4.000,\nseg.m4s\n", 100)
	o.put("/videos/v1/r/720/index.m3u8", &testObject{body: []byte(text), etag: `"p"`, contentType: "application/vnd.apple.mpegurl", cacheControl: "max-age=600"})
	o.put("/videos/v1/seg1.m4s", &testObject{body: pattern(5000), contentType: "video/mp4", cacheControl: "max-age=600"})
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	url := base + "/videos/v1/r/720/index.m3u8"
	get(t, c, url)
	waitIdle(t, e)

	gz := do(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "gzip, deflate"})
	wantStatus(t, gz, 200)
	if gz.header.Get("Content-Encoding") != "gzip" || !strings.Contains(gz.header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("headers %v", gz.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != text || len(gz.body) >= len(text) {
		t.Fatalf("gzip body decodes to %d bytes (sent %d)", len(plain), len(gz.body))
	}
	if gz.header.Get("ETag") != `W/"p"` {
		t.Fatalf("gzip variant ETag %q, want a weak one", gz.header.Get("ETag"))
	}
	if r := do(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gz.header.Get("ETag")}); r.status != 304 {
		t.Fatalf("revalidating the gzip variant: %d", r.status)
	}

	for name, hdr := range map[string]map[string]string{
		"no Accept-Encoding": nil,
		"gzip refused":       {"Accept-Encoding": "gzip;q=0, br"},
		"ranged":             {"Accept-Encoding": "gzip", "Range": "bytes=0-9"},
	} {
		r := do(t, c, http.MethodGet, url, hdr)
		if r.header.Get("Content-Encoding") != "" {
			t.Fatalf("%s: got Content-Encoding %q", name, r.header.Get("Content-Encoding"))
		}
	}
	get(t, c, base+"/videos/v1/seg1.m4s")
	waitIdle(t, e)
	if r := do(t, c, http.MethodGet, base+"/videos/v1/seg1.m4s", map[string]string{"Accept-Encoding": "gzip"}); r.header.Get("Content-Encoding") != "" {
		t.Fatal("video was gzipped")
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{"gzip": true, "br, gzip": true, "GZIP;q=0.5": true, "gzip;q=0": false, "gzip; q=0": false, "deflate": false, "": false, "x-gzip": false}
	for ae, want := range tests {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", ae)
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v", ae, got)
		}
	}
}
