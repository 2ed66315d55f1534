package bench

import (
	"slices"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/packager/transcode"
)

func TestLadderConfig_ReadsBackToTheSameLadder(t *testing.T) {
	for _, ladder := range [][]transcode.Rung{transcode.DefaultLadder, {}} {
		v, err := ladderConfig(t.TempDir(), "origin", ladder)
		if err != nil {
			t.Fatal(err)
		}
		d, err := config.Load(strings.TrimPrefix(v, "STREAMFRONT_CONFIG="), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		if got := d.WorkerConfig("w").Ladder; !slices.Equal(got, ladder) {
			t.Errorf("the workers read %v, want %v", got, ladder)
		}
	}
}

func TestCompareArgs(t *testing.T) {
	planned := []string{"-y", "-i", "/fixtures/in.mp4", "-map", "[v0]", "/tmp/plain/480p.mp4", "/tmp/plain/poster.jpg"}
	same := []string{"ffmpeg", "-y", "-i", "http://s3/sources/x?sig=1", "-map", "[v0]", "/work/streamfront-x-1/480p.mp4", "/work/streamfront-x-1/poster.jpg"}
	if d := compareArgs(same, planned, "/tmp/plain"); d != "" {
		t.Errorf("same command reported different: %s", d)
	}
	other := slices.Clone(same)
	other[5] = "[v1]"
	if d := compareArgs(other, planned, "/tmp/plain"); !strings.Contains(d, "argument 4") {
		t.Errorf("a changed argument: got %q, want it to name argument 4", d)
	}
	if d := compareArgs(nil, planned, "/tmp/plain"); d == "" {
		t.Error("an unseen command line compared equal")
	}
}
