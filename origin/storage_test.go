package origin_test

import (
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
)

// A complete video says what it keeps in S3, by kind, and its minutes.
func TestStorage_MeasuredWhenComplete(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	base, _ := startOrigin(t)
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 3})
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	code, v, body := upload(t, base, src, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	type stored struct {
		Status    string  `json:"status"`
		Stage     string  `json:"stage"`
		DurationS float64 `json:"duration_s"`
		Storage   *struct {
			Source     int64   `json:"source_bytes"`
			Renditions int64   `json:"rendition_bytes"`
			Thumbnails int64   `json:"thumbnail_bytes"`
			Other      int64   `json:"other_bytes"`
			Total      int64   `json:"total_bytes"`
			Objects    int     `json:"objects"`
			Minutes    float64 `json:"minutes"`
		} `json:"storage"`
	}
	got := testenv.WaitVideo(t, base, v.ID, "complete", 3*time.Minute, func(v stored) bool {
		return v.Status == "failed" || (v.Status == "ready" && v.Stage == "")
	})
	s := got.Storage
	if s == nil {
		t.Fatalf("a complete video has no storage: %+v", got)
	}
	if s.Source != fi.Size() {
		t.Errorf("source_bytes %d, the upload was %d", s.Source, fi.Size())
	}
	if s.Renditions <= 0 || s.Thumbnails <= 0 || s.Other <= 0 || s.Objects < 4 {
		t.Errorf("renditions %d, thumbnails %d, other %d bytes in %d objects: each kind should hold something", s.Renditions, s.Thumbnails, s.Other, s.Objects)
	}
	if s.Total != s.Source+s.Renditions+s.Thumbnails+s.Other {
		t.Errorf("total_bytes %d is not the sum of its parts", s.Total)
	}
	if math.Abs(s.Minutes-got.DurationS/60) > 1e-9 {
		t.Errorf("minutes %.4f for %.2f s", s.Minutes, got.DurationS)
	}
}
