package edge

import (
	"bytes"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testEntry(key string, size int) *entry {
	m := &entry{key: key, kind: kindWhole, status: 200, header: http.Header{"Content-Type": {"video/mp4"}, "Etag": {`"e"`}},
		date: time.Now().Truncate(time.Second), freshFor: time.Hour, storable: true}
	m.setValidators()
	m.setSize(int64(size))
	return m
}

func openTestDisk(t *testing.T, dir string) *diskTier {
	t.Helper()
	d, err := openDiskTier(dir, 1<<30, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// cacheFiles lists the cache files under dir.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestEntryCodec_RoundTrip: an entry written to the disk tier comes back
// from a rebuild (a restart) with its status, validators, size and
// freshness.
func TestEntryCodec_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	body := pattern(10000)
	m := testEntry("/videos/a/seg.m4s", len(body))
	if err := openTestDisk(t, dir).Write(m.key, m, body); err != nil {
		t.Fatal(err)
	}
	it, ok := openTestDisk(t, dir).Get("/videos/a/seg.m4s")
	if !ok {
		t.Fatal("rebuilt index lacks the item")
	}
	got := it.Meta
	if got.key != m.key || got.kind != m.kind || got.status != 200 || got.etag != `"e"` || got.size != int64(len(body)) ||
		got.freshFor != time.Hour || !got.date.Equal(m.date) || got.header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("rebuilt entry %+v, want %+v", got, m)
	}
}

func TestEdge_CorruptDiskFileIsRefetchedNotServed(t *testing.T) {
	dir := t.TempDir()
	o := newTestOrigin(t)
	small := pattern(3000)
	large := pattern(promoteLimit + 1000)
	o.put("/videos/v1/seg1.m4s", &testObject{body: small, cacheControl: "public, max-age=31536000, immutable"})
	o.put("/videos/v1/big.m4s", &testObject{body: large, cacheControl: "public, max-age=31536000, immutable"})
	withDisk := func(c *Config) { c.CacheDir = dir; c.MaxObjectBytes = 64 << 20 }

	// First edge: fill both objects to disk, then stop it.
	e1, base1 := startEdge(t, o.URL(), withDisk)
	c := testClient(t)
	get(t, c, base1+"/videos/v1/seg1.m4s")
	get(t, c, base1+"/videos/v1/big.m4s")
	waitFor(t, "disk writes", func() bool { return len(cacheFiles(t, dir)) == 2 })
	e1.Close()

	// Second edge: the index is rebuilt from disk, so both are disk hits.
	e2, base2 := startEdge(t, o.URL(), withDisk)
	if _, ok := e2.disk.Get("/videos/v1/seg1.m4s"); !ok {
		t.Fatal("rebuild lost an object")
	}
	r := get(t, c, base2+"/videos/v1/big.m4s")
	wantStatus(t, r, 200)
	wantXCache(t, r, "Hit")
	if !bytes.Equal(r.body, large) {
		t.Fatal("disk hit body differs")
	}
	if n := o.count("/videos/v1/big.m4s"); n != 1 {
		t.Fatalf("disk hit went to the origin: %d", n)
	}

	// Now damage both files behind the edge's back.
	for _, f := range cacheFiles(t, dir) {
		st, _ := os.Stat(f)
		os.Truncate(f, st.Size()-100)
	}
	for _, tc := range []struct {
		path string
		body []byte
	}{{"/videos/v1/seg1.m4s", small}, {"/videos/v1/big.m4s", large}} {
		r := get(t, c, base2+tc.path)
		wantStatus(t, r, 200)
		if !bytes.Equal(r.body, tc.body) {
			t.Fatalf("%s: served %d bytes from a damaged file", tc.path, len(r.body))
		}
		wantXCache(t, r, "Miss")
		if n := o.count(tc.path); n != 2 {
			t.Fatalf("%s: origin saw %d requests, want a refetch", tc.path, n)
		}
	}
}

func TestEdge_DiskTierServesSlicesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	o, body := mp4Origin(t, 4*testSlice+1, false)
	cfg := func(c *Config) { c.CacheDir = dir; c.SliceSize = testSlice }
	e1, base1 := startEdge(t, o.URL(), cfg)
	c := testClient(t)
	wantStatus(t, get(t, c, base1+"/videos/v1/r/720.mp4"), 200)
	waitFor(t, "disk writes", func() bool { return len(cacheFiles(t, dir)) == 6 }) // metadata + 5 slices
	e1.Close()
	before := o.count("/videos/v1/r/720.mp4")

	_, base2 := startEdge(t, o.URL(), cfg)
	r := get(t, c, base2+"/videos/v1/r/720.mp4")
	wantStatus(t, r, 200)
	wantXCache(t, r, "Hit")
	if !bytes.Equal(r.body, body) {
		t.Fatal("body from disk slices differs")
	}
	if o.count("/videos/v1/r/720.mp4") != before {
		t.Fatal("restarted edge went to the origin for slices on disk")
	}
}
