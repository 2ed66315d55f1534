package transcode

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestChooseLadder(t *testing.T) {
	names := func(rs []Rung) []string {
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
		got := names(ChooseLadder(DefaultLadder, c.short, c.bitrate, c.served))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestKeyframeTimes_BoundariesAndEveryTwoSeconds(t *testing.T) {
	s := time.Second
	got := KeyframeTimes([]time.Duration{200 * time.Millisecond, 6200 * time.Millisecond, 11 * s}, 14*s, 200*time.Millisecond)
	want := []time.Duration{0, 2*s - time.Millisecond, 4*s - time.Millisecond, 6*s - time.Millisecond, 8*s - time.Millisecond,
		10800*time.Millisecond - time.Millisecond, 12800*time.Millisecond - time.Millisecond}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestChooseLadder_EmptyLadderStillMakesOneRendition(t *testing.T) {
	if got := ChooseLadder([]Rung{}, 720, 0, false); len(got) != 1 || got[0].Name != "720p" || got[0].ShortSide != 0 {
		t.Fatalf("a transcode with no ladder must make one rendition at the source's size, got %v", got)
	}
	if got := ChooseLadder([]Rung{}, 720, 0, true); len(got) != 0 {
		t.Fatalf("a served source with no ladder needs no rendition, got %v", got)
	}
}

func TestChooseLadder_BelowAServedSourceByCaps(t *testing.T) {
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
			for _, r := range ChooseLadder(DefaultLadder, tc.short, tc.peak, true) {
				got = append(got, fmt.Sprintf("%s:%d", r.Name, r.VideoBitrate))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeyframeTimes_LastSegmentKeepsItsBoundaryOnly(t *testing.T) {
	s := time.Second
	got := KeyframeTimes([]time.Duration{0, 6 * s, 12 * s}, 15*s, 0)
	want := []time.Duration{0, 2*s - time.Millisecond, 4*s - time.Millisecond, 6*s - time.Millisecond, 8*s - time.Millisecond, 10*s - time.Millisecond, 12*s - time.Millisecond}
	// The last segment (12 s to 15 s) gets 12 s only: 14 s is within a
	// second of its end.
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
