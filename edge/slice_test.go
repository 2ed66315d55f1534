package edge

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

const testSlice = 64 << 10

// mp4Origin serves one progressive MP4 of size bytes with Range support.
func mp4Origin(t *testing.T, size int, ignoreRange bool) (*testOrigin, []byte) {
	o := newTestOrigin(t)
	body := pattern(size)
	o.put("/videos/v1/r/720.mp4", &testObject{body: body, contentType: "video/mp4", etag: `"v1"`,
		cacheControl: "public, max-age=31536000, immutable", ignoreRange: ignoreRange})
	return o, body
}

func sliceEdge(t *testing.T, o *testOrigin) string {
	_, base := sliceEdgeE(t, o)
	return base
}

func sliceEdgeE(t *testing.T, o *testOrigin) (*Edge, string) {
	return startEdge(t, o.URL(), func(c *Config) { c.SliceSize = testSlice })
}

func TestEdge_SlicedObjectFetchesOnlyTouchedSlices(t *testing.T) {
	size := 40*testSlice + 123 // like a large file: 41 slices
	o, body := mp4Origin(t, size, false)
	e, base := sliceEdgeE(t, o)
	c := testClient(t)
	url := base + "/videos/v1/r/720.mp4"

	start := 17*testSlice + 100
	r := do(t, c, "GET", url, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", start, start+999)})
	wantStatus(t, r, 206)
	if !bytes.Equal(r.body, body[start:start+1000]) {
		t.Fatal("range body differs")
	}
	if got, want := r.header.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", start, start+999, size); got != want {
		t.Fatalf("Content-Range %q, want %q", got, want)
	}
	reqs := o.requestsFor("/videos/v1/r/720.mp4")
	if len(reqs) != 1 || reqs[0].rangeHeader != fmt.Sprintf("bytes=%d-%d", 17*testSlice, 18*testSlice-1) {
		t.Fatalf("origin requests %+v, want exactly slice 17", reqs)
	}
	// The client had its 1000 bytes before the slice's last byte arrived;
	// wait for the fill to store the slice before asking again.
	waitIdle(t, e)

	again := do(t, c, "GET", url, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", start+10, start+20)})
	wantStatus(t, again, 206)
	wantXCache(t, again, "Hit")
	if !bytes.Equal(again.body, body[start+10:start+21]) {
		t.Fatal("second range body differs")
	}
	if n := o.count("/videos/v1/r/720.mp4"); n != 1 {
		t.Fatalf("a cached slice was fetched again: %d origin requests", n)
	}
	for _, req := range o.requestsFor("/videos/v1/r/720.mp4") {
		if req.rangeHeader == "" {
			t.Fatal("the edge asked the origin for the whole object")
		}
	}
}

func TestEdge_SlicedObjectWholeAndRanges(t *testing.T) {
	size := 5*testSlice + 77
	o, body := mp4Origin(t, size, false)
	base := sliceEdge(t, o)
	c := testClient(t)
	url := base + "/videos/v1/r/720.mp4"

	tests := []struct {
		rng        string
		status     int
		start, end int // inclusive, for 206
	}{
		{"bytes=-500", 206, size - 500, size - 1},
		{"", 200, 0, size - 1},
		{fmt.Sprintf("bytes=%d-", testSlice-10), 206, testSlice - 10, size - 1},
		{fmt.Sprintf("bytes=%d-%d", testSlice-1, 3*testSlice), 206, testSlice - 1, 3 * testSlice},
		{"bytes=0-0", 206, 0, 0},
		{fmt.Sprintf("bytes=%d-", size-1), 206, size - 1, size - 1},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.rng != "" {
				hdr["Range"] = tt.rng
			}
			r := do(t, c, "GET", url, hdr)
			wantStatus(t, r, tt.status)
			if !bytes.Equal(r.body, body[tt.start:tt.end+1]) {
				t.Fatalf("body of %d bytes differs from [%d,%d]", len(r.body), tt.start, tt.end)
			}
			if r.header.Get("ETag") != `"v1"` || r.header.Get("Accept-Ranges") != "bytes" || r.header.Get("Content-Type") != "video/mp4" {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
	head := do(t, c, "HEAD", url, nil)
	wantStatus(t, head, 200)
	if head.header.Get("Content-Length") != fmt.Sprint(size) || len(head.body) != 0 {
		t.Fatalf("HEAD Content-Length %q body %d", head.header.Get("Content-Length"), len(head.body))
	}
	// Every slice was fetched exactly once, each with a Range.
	seen := map[string]int{}
	for _, req := range o.requestsFor("/videos/v1/r/720.mp4") {
		seen[req.rangeHeader]++
	}
	for rng, n := range seen {
		if n != 1 || !strings.HasPrefix(rng, "bytes=") {
			t.Fatalf("origin request %q seen %d times", rng, n)
		}
	}
}

func TestEdge_SlicedObjectUnsatisfiableRange(t *testing.T) {
	size := 3 * testSlice
	o, _ := mp4Origin(t, size, false)
	base := sliceEdge(t, o)
	c := testClient(t)
	for range 2 { // uncached, then with the metadata cached
		r := do(t, c, "GET", base+"/videos/v1/r/720.mp4", map[string]string{"Range": fmt.Sprintf("bytes=%d-", 10*testSlice)})
		wantStatus(t, r, 416)
		if r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
			t.Fatalf("Content-Range %q", r.header.Get("Content-Range"))
		}
		get(t, c, base+"/videos/v1/r/720.mp4?warm") // unrelated key
	}
}

func TestEdge_SlicedObjectFromOriginThatIgnoresRange(t *testing.T) {
	size := 3*testSlice + 5
	o, body := mp4Origin(t, size, true)
	base := sliceEdge(t, o)
	c := testClient(t)
	start := 2*testSlice + 3
	r := do(t, c, "GET", base+"/videos/v1/r/720.mp4", map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", start, start+10)})
	wantStatus(t, r, 206)
	if !bytes.Equal(r.body, body[start:start+11]) {
		t.Fatal("range cut from a 200 differs")
	}
	full := get(t, c, base+"/videos/v1/r/720.mp4")
	wantStatus(t, full, 200)
	if !bytes.Equal(full.body, body) {
		t.Fatal("whole body assembled from 200 answers differs")
	}
}

func TestEdge_SlicedObject404IsCachedAsWhole(t *testing.T) {
	o := newTestOrigin(t)
	base := sliceEdge(t, o)
	c := testClient(t)
	for range 2 {
		r := do(t, c, "GET", base+"/videos/gone/r/720.mp4", map[string]string{"Range": "bytes=0-99"})
		wantStatus(t, r, 404)
	}
	if n := o.count("/videos/gone/r/720.mp4"); n != 1 {
		t.Fatalf("origin saw %d requests for a cached 404", n)
	}
}

func TestCompileGlob(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/videos/**.mp4", "/videos/abc/r/720.mp4", true},
		{"/videos/**.mp4", "/videos/a.mp4", true},
		{"/videos/**.mp4", "/videos/abc/init.mp4x", false},
		{"/videos/**.mp4", "/other/abc.mp4", false},
		{"/videos/*/r/*.mp4", "/videos/abc/r/720.mp4", true},
		{"/videos/*/r/*.mp4", "/videos/abc/d/r/720.mp4", false},
	}
	for _, tt := range tests {
		re, err := compileGlob(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(tt.path); got != tt.want {
			t.Errorf("%s ~ %s = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}
