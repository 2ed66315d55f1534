package disktier

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testMeta is the metadata of the tests' items.
type testMeta struct {
	Date    time.Time
	BodyLen int64
	Key     string
}

type testCodec struct{}

func (testCodec) Encode(key string, m testMeta, bodyLen int64) ([]byte, error) {
	m.Key, m.BodyLen = key, bodyLen
	return json.Marshal(m)
}

func (testCodec) Decode(hdr []byte) (string, int64, testMeta, error) {
	var m testMeta
	err := json.Unmarshal(hdr, &m)
	return m.Key, m.BodyLen, m, err
}

func (testCodec) Newer(a, b testMeta) bool { return a.Date.After(b.Date) }

func openTestDisk(t *testing.T, dir string) *Tier[testMeta] {
	t.Helper()
	d, err := Open[testMeta](dir, 1<<30, testCodec{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func newMeta() testMeta {
	return testMeta{Date: time.Now().Truncate(time.Second)}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
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

func TestDiskTier_WriteReadAndRebuild(t *testing.T) {
	dir := t.TempDir()
	d := openTestDisk(t, dir)
	body := pattern(10000)
	if err := d.Write("/videos/a/seg.m4s", newMeta(), body); err != nil {
		t.Fatal(err)
	}
	it, ok := d.Get("/videos/a/seg.m4s")
	if !ok {
		t.Fatal("written item not in index")
	}
	got, err := d.ReadBody(it)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("readBody: %v", err)
	}

	// A crash leaves a temp file behind; a restart must ignore and remove it.
	os.WriteFile(filepath.Join(dir, "tmp", "fill-123"), []byte("half"), 0o644)

	d2 := openTestDisk(t, dir)
	it2, ok := d2.Get("/videos/a/seg.m4s")
	if !ok {
		t.Fatal("rebuilt index lacks the item")
	}
	got, err = d2.ReadBody(it2)
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
			d.Write("/videos/a/seg.m4s", newMeta(), body)
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
			if _, ok := d2.Get("/videos/a/seg.m4s"); ok {
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
	old := newMeta()
	old.Date = old.Date.Add(-time.Hour)
	d.Write("/videos/a/seg.m4s", old, []byte("old"))
	// Copy the old file aside so both versions exist on disk, as after a
	// crash between rename and eviction.
	files := cacheFiles(t, dir)
	oldCopy := strings.TrimSuffix(files[0], ".sfc") + "-copy.sfc"
	data, _ := os.ReadFile(files[0])
	os.WriteFile(oldCopy, data, 0o644)
	d.Write("/videos/a/seg.m4s", newMeta(), []byte("new"))

	d2 := openTestDisk(t, dir)
	it, ok := d2.Get("/videos/a/seg.m4s")
	if !ok {
		t.Fatal("item missing after rebuild")
	}
	if got, _ := d2.ReadBody(it); string(got) != "new" {
		t.Fatalf("rebuild kept %q, want the newer version", got)
	}
}
