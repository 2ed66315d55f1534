package thumbs

import (
	"strings"
	"testing"
	"time"
)

func TestPlan_BoundsCountAndKeepsAspect(t *testing.T) {
	cases := []struct {
		dur        time.Duration
		w, h       int
		wantCount  int
		wantThumbH int
	}{
		{10 * time.Second, 1920, 1080, 5, 90},
		{2 * time.Hour, 1280, 720, 200, 90},
		{30 * time.Second, 1080, 1920, 15, 284},
		{5 * time.Second, 853, 480, 3, 90},
	}
	for _, c := range cases {
		s := Plan(c.dur, c.w, c.h)
		if s.Count != c.wantCount || s.Height != c.wantThumbH || s.Width%2 != 0 || s.Height%2 != 0 {
			t.Errorf("Plan(%v, %dx%d) = %+v, want count %d, thumb height %d", c.dur, c.w, c.h, s, c.wantCount, c.wantThumbH)
		}
	}
}

func TestVTT_PointsEachCueAtItsTile(t *testing.T) {
	s := Plan(250*time.Second, 1280, 720) // 125 thumbs: two sheets
	vtt := string(s.VTT(func(n int) string { return "sprite-" + string(rune('0'+n)) + ".jpg" }))
	if !strings.HasPrefix(vtt, "WEBVTT\n") || strings.Count(vtt, " --> ") != s.Count {
		t.Fatalf("bad vtt:\n%s", vtt[:200])
	}
	if !strings.Contains(vtt, "00:03:20.000 --> 00:03:22.000\nsprite-1.jpg#xywh=0,0,160,90") {
		t.Fatalf("thumbnail 100 should be the first tile of sheet 1:\n%s", vtt)
	}
	if !strings.Contains(vtt, "sprite-0.jpg#xywh=1440,810,160,90") {
		t.Fatal("thumbnail 99 should be the last tile of sheet 0")
	}
}
