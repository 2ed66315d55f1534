package origin

import (
	"slices"
	"testing"
	"time"

	"github.com/streamfront/streamfront/packager/transcode"
)

func TestChooseLadder(t *testing.T) {
	names := func(rs []transcode.Rung) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	cases := []struct {
		name    string
		short   int
		bitrate int64
		served  bool
		want    []string
	}{
		{"1080p H.264 served as is", 1080, 8_000_000, true, []string{"720p", "480p", "360p"}},
		{"4K transcoded", 2160, 40_000_000, false, []string{"1080p", "720p", "480p", "360p"}},
		{"853x480 transcoded", 480, 1_000_000, false, []string{"480p", "360p"}},
		{"600 lines transcoded gets its own top", 600, 0, false, []string{"600p", "480p", "360p"}},
		{"tiny source", 240, 0, false, []string{"240p"}},
		{"720p served, low bitrate skips rungs that cost as much", 720, 1_000_000, true, []string{"360p"}},
		{"1080p HEVC: H.264 at its own size too", 1080, 4_000_000, false, []string{"1080p", "720p", "480p", "360p"}},
	}
	for _, c := range cases {
		got := names(chooseLadder(transcode.DefaultLadder, c.short, c.bitrate, c.served))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestKeyframeTimes_BoundariesAndEveryTwoSeconds(t *testing.T) {
	s := time.Second
	got := keyframeTimes([]time.Duration{200 * time.Millisecond, 6200 * time.Millisecond, 11 * s}, 14*s, 200*time.Millisecond)
	want := []time.Duration{0, 2*s - time.Millisecond, 4*s - time.Millisecond, 6*s - time.Millisecond, 8*s - time.Millisecond,
		10800*time.Millisecond - time.Millisecond, 12800*time.Millisecond - time.Millisecond}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestChooseLadder_EmptyLadderStillMakesOneRendition(t *testing.T) {
	if got := chooseLadder([]transcode.Rung{}, 720, 0, false); len(got) != 1 || got[0].Name != "720p" || got[0].ShortSide != 0 {
		t.Fatalf("a transcode with no ladder must make one rendition at the source's size, got %v", got)
	}
	if got := chooseLadder([]transcode.Rung{}, 720, 0, true); len(got) != 0 {
		t.Fatalf("a served source with no ladder needs no rendition, got %v", got)
	}
}
