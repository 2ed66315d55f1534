package index

import (
	"testing"
	"time"
)

// track builds a video track of n frames at 25 fps (timescale 12800) with
// a keyframe every gop frames.
func track(n, gop int) *Track {
	t := &Track{Kind: Video, Timescale: 12800}
	for i := 0; i < n; i++ {
		t.Samples = append(t.Samples, Sample{Offset: int64(i * 100), Size: 100, Dur: 512, Sync: i%gop == 0})
	}
	return t
}

func TestPlan_CutsOnKeyframesNearTarget(t *testing.T) {
	cases := []struct {
		name      string
		frames    int
		gop       int
		wantFirst []uint32
	}{
		{"2s GOP cuts every 6 s", 25 * 20, 50, []uint32{0, 150, 300, 450}},
		{"2.5s GOP picks the nearer keyframe", 25 * 20, 62, []uint32{0, 124, 310, 434}},
		{"20s GOP makes 20 s segments", 25 * 45, 500, []uint32{0, 500, 1000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ix := &Index{Tracks: []*Track{track(c.frames, c.gop)}}
			if err := ix.Plan(6 * time.Second); err != nil {
				t.Fatal(err)
			}
			var got []uint32
			for _, s := range ix.Tracks[0].Segments {
				got = append(got, s.First)
				if !ix.Tracks[0].Samples[s.First].Sync {
					t.Errorf("segment starts on non-keyframe %d", s.First)
				}
			}
			if len(got) != len(c.wantFirst) {
				t.Fatalf("cuts %v, want %v", got, c.wantFirst)
			}
			for i := range got {
				if got[i] != c.wantFirst[i] {
					t.Fatalf("cuts %v, want %v", got, c.wantFirst)
				}
			}
		})
	}
}

func TestPlan_AudioFollowsVideoBoundaries(t *testing.T) {
	v := track(25*13, 50)
	a := &Track{Kind: Audio, Timescale: 48000}
	for i := 0; i < 13*48000/1024; i++ {
		a.Samples = append(a.Samples, Sample{Size: 10, Dur: 1024, Sync: true})
	}
	ix := &Index{Tracks: []*Track{v, a}}
	if err := ix.Plan(6 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(a.Segments) != len(v.Segments) {
		t.Fatalf("audio has %d segments, video %d", len(a.Segments), len(v.Segments))
	}
	for n := range v.Segments {
		vs := float64(v.SegmentStart(n)) / float64(v.Timescale)
		as := float64(a.SegmentStart(n)) / float64(a.Timescale)
		if d := vs - as; d > 0.011 || d < -0.011 {
			t.Errorf("segment %d: video starts at %.4f s, audio at %.4f s", n, vs, as)
		}
	}
}
