package edge

import (
	"bytes"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
	t.Cleanup(d.close)
	return d
}

// cacheFiles lists the cache files under dir.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestDiskTier_WriteReadAndRebuild(t *testing.T) {
	dir := t.TempDir()
	d := openTestDisk(t, dir)
	body := pattern(10000)
	if err := d.write(testEntry("/videos/a/seg.m4s", len(body)), body); err != nil {
		t.Fatal(err)
	}
	it, ok := d.get("/videos/a/seg.m4s")
	if !ok {
		t.Fatal("written item not in index")
	}
	got, err := d.readBody(it)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("readBody: %v", err)
	}

	// A crash leaves a temp file behind; a restart must ignore and remove it.
	os.WriteFile(filepath.Join(dir, "tmp", "fill-123"), []byte("half"), 0o644)

	d2 := openTestDisk(t, dir)
	it2, ok := d2.get("/videos/a/seg.m4s")
	if !ok {
		t.Fatal("rebuilt index lacks the item")
	}
	if it2.meta.status != 200 || it2.meta.etag != `"e"` || it2.meta.size != int64(len(body)) || it2.meta.freshFor != time.Hour {
		t.Fatalf("rebuilt meta %+v", it2.meta)
	}
	got, err = d2.readBody(it2)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("readBody after rebuild: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("temp files survived the rebuild: %v", ents)
	}
}

func TestDiskTier_RebuildDropsFilesWhoseLengthDisagrees(t *testing.T) {
	for _, change := range []string{"truncated", "extended", "garbage"} {
		t.Run(change, func(t *testing.T) {
			dir := t.TempDir()
			d := openTestDisk(t, dir)
			body := pattern(5000)
			d.write(testEntry("/videos/a/seg.m4s", len(body)), body)
			files := cacheFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("files %v", files)
			}
			switch change {
			case "truncated":
				os.Truncate(files[0], 4000)
			case "extended":
				f, _ := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
				f.Write([]byte("more"))
				f.Close()
			case "garbage":
				os.WriteFile(files[0], []byte("not a cache file"), 0o644)
			}
			d2 := openTestDisk(t, dir)
			if _, ok := d2.get("/videos/a/seg.m4s"); ok {
				t.Fatal("a corrupt file was indexed")
			}
			if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
				t.Fatal("the corrupt file was not deleted")
			}
		})
	}
}

func TestDiskTier_RebuildKeepsNewestOfTwoVersions(t *testing.T) {
	dir := t.TempDir()
	d := openTestDisk(t, dir)
	old := testEntry("/videos/a/seg.m4s", 3)
	old.date = old.date.Add(-time.Hour)
	d.write(old, []byte("old"))
	// Copy the old file aside so both versions exist on disk, as after a
	// crash between rename and eviction.
	files := cacheFiles(t, dir)
	oldCopy := strings.TrimSuffix(files[0], diskFileSuffix) + "-copy" + diskFileSuffix
	data, _ := os.ReadFile(files[0])
	os.WriteFile(oldCopy, data, 0o644)
	d.write(testEntry("/videos/a/seg.m4s", 3), []byte("new"))

	d2 := openTestDisk(t, dir)
	it, ok := d2.get("/videos/a/seg.m4s")
	if !ok {
		t.Fatal("item missing after rebuild")
	}
	if got, _ := d2.readBody(it); string(got) != "new" {
		t.Fatalf("rebuild kept %q, want the newer version", got)
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
	if _, ok := e2.disk.get("/videos/v1/seg1.m4s"); !ok {
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
