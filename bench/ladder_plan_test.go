package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/packager/transcode"
)

func TestFormatLadder_ParsesBackToTheSameLadder(t *testing.T) {
	got, err := transcode.ParseLadder(formatLadder(transcode.DefaultLadder))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, transcode.DefaultLadder) {
		t.Errorf("ParseLadder(formatLadder(DefaultLadder)) = %v, want %v", got, transcode.DefaultLadder)
	}
}

func TestLadderBelowServedSource(t *testing.T) {
	cases := []struct {
		name  string
		short int
		peak  int64
		want  []string
	}{
		{"1080p at 1.57 Mbit/s keeps the rungs whose caps are well below", 1080, 1_573_949, []string{"480p:1400000", "360p:800000"}},
		{"1080p at 8 Mbit/s keeps every rung below its size", 1080, 8_000_000, []string{"720p:3000000", "480p:1400000", "360p:800000"}},
		{"720p source drops its own size", 720, 8_000_000, []string{"480p:1400000", "360p:800000"}},
		{"unknown bit rate keeps the caps", 1080, 0, []string{"720p:3000000", "480p:1400000", "360p:800000"}},
		{"tiny source", 240, 8_000_000, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range ladderBelowServedSource(transcode.DefaultLadder, tc.short, tc.peak) {
				got = append(got, fmt.Sprintf("%s:%d", r.Name, r.VideoBitrate))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeyframeTimes_BoundariesAndEveryTwoSeconds(t *testing.T) {
	s := time.Second
	got := keyframeTimes([]time.Duration{0, 6 * s, 12 * s}, 15*s, 0)
	want := []time.Duration{0, 2*s - time.Millisecond, 4*s - time.Millisecond, 6*s - time.Millisecond, 8*s - time.Millisecond, 10*s - time.Millisecond, 12*s - time.Millisecond}
	// The last segment (12 s to 15 s) gets 12 s only: 14 s is within a
	// second of its end.
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
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
