package edge

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestEdge_CompressesPlaylistsForClientsThatAcceptIt(t *testing.T) {
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
		"both refused":       {"Accept-Encoding": "gzip;q=0, br;q=0"},
		"unknown coding":     {"Accept-Encoding": "zstd, deflate"},
		"ranged":             {"Accept-Encoding": "gzip", "Range": "bytes=0-9"},
	} {
		r := do(t, c, http.MethodGet, url, hdr)
		if r.header.Get("Content-Encoding") != "" {
			t.Fatalf("%s: got Content-Encoding %q", name, r.header.Get("Content-Encoding"))
		}
	}
	br := do(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"})
	wantStatus(t, br, 200)
	if br.header.Get("Content-Encoding") != "br" || br.header.Get("ETag") != `W/"p"` {
		t.Fatalf("brotli variant headers %v", br.header)
	}
	plain, err = io.ReadAll(brotli.NewReader(bytes.NewReader(br.body)))
	if err != nil || string(plain) != text || len(br.body) >= len(gz.body) {
		t.Fatalf("brotli body decodes to %d bytes (%v; sent %d, gzip %d)", len(plain), err, len(br.body), len(gz.body))
	}
	get(t, c, base+"/videos/v1/seg1.m4s")
	waitIdle(t, e)
	if r := do(t, c, http.MethodGet, base+"/videos/v1/seg1.m4s", map[string]string{"Accept-Encoding": "gzip"}); r.header.Get("Content-Encoding") != "" {
		t.Fatal("video was gzipped")
	}
}

func TestPreferredCoding(t *testing.T) {
	tests := map[string]coding{
		"gzip": codingGzip, "br, gzip": codingBrotli, "gzip, deflate, br, zstd": codingBrotli,
		"GZIP;q=0.5": codingGzip, "gzip;q=0": codingIdentity, "gzip; q=0": codingIdentity,
		"br;q=0.5, gzip": codingGzip, "br;q=0, gzip": codingGzip, "gzip;q=0, br": codingBrotli,
		"*": codingBrotli, "gzip, *;q=0": codingGzip, "*;q=0": codingIdentity, "identity": codingIdentity,
		"deflate": codingIdentity, "": codingIdentity, "x-gzip": codingIdentity, "br;q=bogus": codingBrotli,
	}
	for ae, want := range tests {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", ae)
		if got := preferredCoding(r); got != want {
			t.Errorf("preferredCoding(%q) = %v, want %v", ae, got, want)
		}
	}
	// The first line naming a coding decides.
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header["Accept-Encoding"] = []string{"br;q=0", "br, gzip"}
	if got := preferredCoding(r); got != codingGzip {
		t.Errorf("two lines: %v, want gzip", got)
	}
}
