package live

import (
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// TestProgramDates_KeepsLearnedDatesAcrossABreak: gohlslib dates the last
// two segments; after an encoder reconnected, the dates jump, and a
// segment from before the break must keep the date it was served with,
// not one derived backwards over the break.
func TestProgramDates_KeepsLearnedDatesAcrossABreak(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	seg := func(uri string, date *time.Time) *playlist.MediaSegment {
		return &playlist.MediaSegment{URI: uri, Duration: time.Second, DateTime: date}
	}
	d := newProgramDates()

	first := &playlist.Media{Segments: []*playlist.MediaSegment{
		{URI: "gap.mp4", Gap: true, Duration: time.Second},
		seg("a_seg1.mp4", nil), seg("a_seg2.mp4", at(time.Second)), seg("a_seg3.mp4", at(2*time.Second)),
	}}
	d.fill(first)
	if first.Segments[0].DateTime != nil {
		t.Error("a gap segment got a date")
	}
	if got := first.Segments[1].DateTime; got == nil || !got.Equal(t0) {
		t.Errorf("segment 1 derived as %v, want %v", got, t0)
	}

	// The encoder was away 10 s after segment 3; segment 4 starts after
	// the break, and now only segments 4 and 5 carry gohlslib's dates.
	second := &playlist.Media{Segments: []*playlist.MediaSegment{
		seg("a_seg2.mp4", nil), seg("a_seg3.mp4", nil),
		seg("a_seg4.mp4", at(13*time.Second)), seg("a_seg5.mp4", at(14*time.Second)),
	}}
	d.fill(second)
	want := []time.Time{t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(13 * time.Second), t0.Add(14 * time.Second)}
	for i, s := range second.Segments {
		if s.DateTime == nil || !s.DateTime.Equal(want[i]) {
			t.Errorf("segment %s dated %v, want %v", s.URI, s.DateTime, want[i])
		}
	}
	if _, ok := d.byURI["a_seg1.mp4"]; ok {
		t.Error("a segment gone from the playlist is still remembered")
	}
}
