package edge

import (
	"bytes"
	"net/http"
	"testing"
)

func TestEdge_RangesAndConditionalsOnWholeObjects(t *testing.T) {
	o := newTestOrigin(t)
	body := pattern(1000)
	lastMod := "Thu, 02 Jan 2025 03:04:05 GMT"
	o.put("/videos/v1/seg1.m4s", &testObject{body: body, contentType: "video/mp4", etag: `"s1"`, cacheControl: "public, max-age=31536000, immutable"})
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	url := base + "/videos/v1/seg1.m4s"
	get(t, c, url) // fill
	waitIdle(t, e)

	tests := []struct {
		name         string
		method       string
		hdr          map[string]string
		status       int
		body         []byte
		contentRange string
	}{
		{"full", "GET", nil, 200, body, ""},
		{"closed range", "GET", map[string]string{"Range": "bytes=10-19"}, 206, body[10:20], "bytes 10-19/1000"},
		{"open-ended", "GET", map[string]string{"Range": "bytes=990-"}, 206, body[990:], "bytes 990-999/1000"},
		{"suffix", "GET", map[string]string{"Range": "bytes=-500"}, 206, body[500:], "bytes 500-999/1000"},
		{"end past size clamps", "GET", map[string]string{"Range": "bytes=900-5000"}, 206, body[900:], "bytes 900-999/1000"},
		{"unsatisfiable", "GET", map[string]string{"Range": "bytes=1000-"}, 416, []byte{}, "bytes */1000"},
		{"invalid is ignored", "GET", map[string]string{"Range": "bytes=5-1"}, 200, body, ""},
		{"other unit is ignored", "GET", map[string]string{"Range": "pages=1-2"}, 200, body, ""},
		{"multi-range coalesced", "GET", map[string]string{"Range": "bytes=0-9,10-19"}, 206, body[0:20], "bytes 0-19/1000"},
		{"multi-range disjoint sends all", "GET", map[string]string{"Range": "bytes=0-9,100-109"}, 200, body, ""},
		{"If-Range etag match", "GET", map[string]string{"Range": "bytes=0-9", "If-Range": `"s1"`}, 206, body[:10], "bytes 0-9/1000"},
		{"If-Range etag mismatch", "GET", map[string]string{"Range": "bytes=0-9", "If-Range": `"old"`}, 200, body, ""},
		{"If-Range date match", "GET", map[string]string{"Range": "bytes=0-9", "If-Range": lastMod}, 206, body[:10], "bytes 0-9/1000"},
		{"If-Range date mismatch", "GET", map[string]string{"Range": "bytes=0-9", "If-Range": "Wed, 01 Jan 2025 00:00:00 GMT"}, 200, body, ""},
		{"If-None-Match", "GET", map[string]string{"If-None-Match": `"s1"`}, 304, []byte{}, ""},
		{"If-None-Match weak", "GET", map[string]string{"If-None-Match": `W/"s1"`}, 304, []byte{}, ""},
		{"If-None-Match other", "GET", map[string]string{"If-None-Match": `"x"`}, 200, body, ""},
		{"If-None-Match star", "GET", map[string]string{"If-None-Match": `*`}, 304, []byte{}, ""},
		{"If-Modified-Since equal", "GET", map[string]string{"If-Modified-Since": lastMod}, 304, []byte{}, ""},
		{"If-Modified-Since older", "GET", map[string]string{"If-Modified-Since": "Wed, 01 Jan 2025 00:00:00 GMT"}, 200, body, ""},
		{"If-None-Match wins over If-Modified-Since", "GET", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": lastMod}, 200, body, ""},
		{"HEAD", "HEAD", nil, 200, []byte{}, ""},
		{"HEAD ignores Range", "HEAD", map[string]string{"Range": "bytes=0-9"}, 200, []byte{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, c, tt.method, url, tt.hdr)
			wantStatus(t, r, tt.status)
			if !bytes.Equal(r.body, tt.body) {
				t.Fatalf("body of %d bytes, want %d", len(r.body), len(tt.body))
			}
			if got := r.header.Get("Content-Range"); got != tt.contentRange {
				t.Fatalf("Content-Range %q, want %q", got, tt.contentRange)
			}
			if tt.status == 200 && r.header.Get("Content-Length") != "1000" {
				t.Fatalf("Content-Length %q", r.header.Get("Content-Length"))
			}
			if tt.status != 416 && (r.header.Get("ETag") != `"s1"` || r.header.Get("Last-Modified") != lastMod) {
				t.Fatalf("validators not kept: ETag %q Last-Modified %q", r.header.Get("ETag"), r.header.Get("Last-Modified"))
			}
			wantXCache(t, r, "Hit")
		})
	}
	if n := o.count("/videos/v1/seg1.m4s"); n != 1 {
		t.Fatalf("origin saw %d requests", n)
	}
}

func TestEdge_RangeOnAMissIsServedFromTheFill(t *testing.T) {
	o := newTestOrigin(t)
	body := pattern(5000)
	o.put("/videos/v1/seg2.m4s", &testObject{body: body, cacheControl: "max-age=600"})
	_, base := startEdge(t, o.URL(), nil)
	r := do(t, testClient(t), http.MethodGet, base+"/videos/v1/seg2.m4s", map[string]string{"Range": "bytes=4000-4099"})
	wantStatus(t, r, 206)
	wantXCache(t, r, "Miss")
	if !bytes.Equal(r.body, body[4000:4100]) {
		t.Fatal("range of a miss differs")
	}
	if reqs := o.requestsFor("/videos/v1/seg2.m4s"); len(reqs) != 1 || reqs[0].rangeHeader != "" {
		t.Fatalf("a non-sliced object must be filled whole: %+v", reqs)
	}
}
