package origin_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
)

// TestWriteAhead_TheBucketAloneServesTheVideo downloads what write-ahead
// stored into a directory laid out like the URLs, and plays that with
// ffmpeg: no origin, no edge, just files.
func TestWriteAhead_TheBucketAloneServesTheVideo(t *testing.T) {
	s3 := startBackend(t)
	o := startOriginOn(t, s3, 90*time.Second, withWorker(func(c *origin.WorkerConfig) { c.WriteAhead = true }))
	const seconds = 9.0
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: seconds, Width: 854, Height: 480})
	code, v, body := upload(t, o.URL, src, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitFor(t, o.URL, v.ID, "complete", func(p progressVideo) bool { return p.Status == "ready" && p.Stage == "" })

	st, err := store.New(s3Config(s3.S3))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	prefix := "videos/" + v.ID + "/"
	after, files := "", 0
	for {
		keys, more, err := st.ListPage(ctx, prefix, after, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			body, _, err := st.Get(ctx, k, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(k, prefix)))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			files++
		}
		if !more || len(keys) == 0 {
			break
		}
		after = keys[len(keys)-1]
	}
	for _, f := range []string{"master.m3u8", "r/src.mp4", "r/360p.mp4", "thumbs/poster.jpg", "thumbs/storyboard.vtt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("write-ahead did not store %s (%d files stored)", f, files)
		}
	}
	for _, f := range []string{"master.m3u8", "r/src.mp4"} {
		if d := testenv.Decode(t, filepath.Join(dir, f)); d < seconds-0.1 || d > seconds+0.1 {
			t.Errorf("%s from the bucket decodes to %.3f s, want %.1f", f, d, seconds)
		}
	}
	// The stored master is the one the origin serves.
	resp, err := http.Get(o.URL + "/videos/" + v.ID + "/master.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stored, _ := os.ReadFile(filepath.Join(dir, "master.m3u8"))
	if string(served) != string(stored) {
		t.Errorf("stored master differs from the served one:\n%s\n---\n%s", stored, served)
	}
}
