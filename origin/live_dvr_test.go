package origin

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/streamfront/streamfront/origin/live"
)

var dvrT0 = time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)

// seg is a recorded segment of stream "s", broadcast 1, one second long,
// dated at second at (0: undated).
func seg(track string, generation, sequence int, at int) live.RecordedSegment {
	s := live.RecordedSegment{StreamID: "s", Broadcast: 1, Generation: generation, Track: track,
		Sequence: sequence, Duration: time.Second, Data: make([]byte, 10)}
	if at > 0 {
		s.ProgramDateTime = dvrT0.Add(time.Duration(at) * time.Second)
	}
	return s
}

// addDated adds seg as the sink does: dated first (an undated one follows
// its predecessor).
func addDated(x *dvrIndex, seg live.RecordedSegment, window time.Duration) {
	seg.ProgramDateTime = x.dateOf(seg, dvrT0)
	x.addSegment(seg, window)
}

// parseDVR reads a DVR media playlist with gohlslib's parser, an
// independent judge of its syntax.
func parseDVR(t *testing.T, body []byte) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatalf("the DVR playlist does not parse: %v\n%s", err, body)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("not a media playlist:\n%s", body)
	}
	return m
}

func TestDVRIndex_SlidesOverTheWindowAndDatesEverySegment(t *testing.T) {
	x := newDVRIndex()
	x.addInit("s", "v", 1, 1, "video1", time.Hour)
	for i := range 10 {
		at := 10 + i
		if i%3 == 1 {
			at = 0 // undated: follows its predecessor
		}
		addDated(x, seg("video1", 1, i, at), 4*time.Second)
	}
	addDated(x, seg("video1", 1, 9, 19), 4*time.Second) // told twice
	snap, ok := x.snapshot("s", "video1")
	if !ok {
		t.Fatal("no snapshot")
	}
	body := dvrMediaPlaylist(snap, "video1")
	m := parseDVR(t, body)
	if m.MediaSequence != 6 || len(m.Segments) != 4 || m.Endlist {
		t.Fatalf("media sequence %d, %d segments, endlist %v, want 6, the last 4 (the window), no end:\n%s",
			m.MediaSequence, len(m.Segments), m.Endlist, body)
	}
	for i, s := range m.Segments {
		want := dvrT0.Add(time.Duration(16+i) * time.Second)
		if s.DateTime == nil || !s.DateTime.Equal(want) {
			t.Errorf("segment %d dated %v, want %v", i, s.DateTime, want)
		}
		if s.URI != fmt.Sprintf("1/1/video1/%010d.m4s", 6+i) {
			t.Errorf("segment %d URI %q", i, s.URI)
		}
	}
	if m.Map == nil || m.Map.URI != "1/1/video1/init.mp4" {
		t.Errorf("map %+v", m.Map)
	}
	if m.TargetDuration != 1 {
		t.Errorf("target duration %d", m.TargetDuration)
	}
}

func TestDVRIndex_ANewGenerationIsADiscontinuityWithItsOwnInit(t *testing.T) {
	x := newDVRIndex()
	x.addInit("s", "v", 1, 1, "video1", time.Hour)
	x.addInit("s", "v", 1, 2, "video1", time.Hour)
	for i := range 3 {
		addDated(x, seg("video1", 1, 10+i, 10+i), time.Hour)
	}
	for i := range 2 {
		addDated(x, seg("video1", 2, i, 20+i), time.Hour) // sequences start again
	}
	snap, _ := x.snapshot("s", "video1")
	body := string(dvrMediaPlaylist(snap, "video1"))
	if strings.Count(body, "#EXT-X-DISCONTINUITY\n") != 1 || strings.Count(body, "#EXT-X-MAP:") != 2 ||
		!strings.Contains(body, "#EXT-X-MAP:URI=\"1/2/video1/init.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:2026-12-04T19:00:20.000Z") {
		t.Errorf("a new generation:\n%s", body)
	}
	if !strings.Contains(body, "#EXT-X-MEDIA-SEQUENCE:0\n") || !strings.Contains(body, "1/2/video1/0000000001.m4s") {
		t.Errorf("numbering across generations:\n%s", body)
	}

	// Sliding the discontinuity out counts it in the sequence.
	for i := range 3 {
		addDated(x, seg("video1", 2, 2+i, 22+i), 3*time.Second)
	}
	snap, _ = x.snapshot("s", "video1")
	m := parseDVR(t, dvrMediaPlaylist(snap, "video1"))
	body = string(dvrMediaPlaylist(snap, "video1"))
	if !strings.Contains(body, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n") || strings.Contains(body, "#EXT-X-DISCONTINUITY\n") || len(m.Segments) != 3 {
		t.Errorf("after the window slid past the new generation:\n%s", body)
	}
}

func TestDVRIndex_EndsWithTheBroadcastAndANewOneStartsAfresh(t *testing.T) {
	x := newDVRIndex()
	addDated(x, seg("video1", 1, 0, 10), time.Hour)
	if got := x.tracks("s"); len(got) != 1 || got[0] != "video1" {
		t.Fatalf("tracks %v", got)
	}
	next := seg("video1", 1, 0, 100)
	next.Broadcast = 2
	addDated(x, next, time.Hour)
	if _, _, ok := x.segment("s", 1, 1, "video1", 0); ok {
		t.Error("an older broadcast's segment is still served")
	}
	if _, _, ok := x.segment("s", 2, 1, "video1", 0); !ok {
		t.Error("the new broadcast's segment is not listed")
	}
	x.end("s", 1) // a late end of the older broadcast
	if len(x.tracks("s")) != 1 {
		t.Error("the end of an older broadcast ended the new one's DVR")
	}
	x.end("s", 2)
	if _, ok := x.snapshot("s", "video1"); ok {
		t.Error("the DVR outlived its broadcast")
	}
}

func TestDVRIndex_NoWindowNoDVR(t *testing.T) {
	x := newDVRIndex()
	x.addInit("s", "v", 1, 1, "video1", 0)
	addDated(x, seg("video1", 1, 0, 10), 0)
	if w, ok := x.window("s", 1); !ok || w != 0 {
		t.Errorf("window %v %v: the stream's choice is not remembered", w, ok)
	}
	if _, ok := x.snapshot("s", "video1"); ok || len(x.tracks("s")) != 0 || x.hasInit("s", 1, 1, "video1") {
		t.Error("a stream with dvr_window_s 0 has a DVR")
	}
}

func TestParseDVRObject(t *testing.T) {
	for _, c := range []struct {
		b, g, track, file string
		ok                bool
		want              dvrObject
	}{
		{"1", "0", "video1", "init.mp4", true, dvrObject{broadcast: 1, generation: 0, track: "video1", init: true}},
		{"12", "3", "audio2", "0000000042.m4s", true, dvrObject{broadcast: 12, generation: 3, track: "audio2", sequence: 42}},
		{"0", "1", "video1", "init.mp4", false, dvrObject{}},
		{"+1", "1", "video1", "init.mp4", false, dvrObject{}},
		{"1", "-1", "video1", "init.mp4", false, dvrObject{}},
		{"1", "1", "..", "init.mp4", false, dvrObject{}},
		{"1", "1", "Video1", "init.mp4", false, dvrObject{}},
		{"1", "1", "video1", "42.m4s", false, dvrObject{}},
		{"1", "1", "video1", "00000000-1.m4s", false, dvrObject{}},
		{"1", "1", "video1", "meta.json", false, dvrObject{}},
		{"1234567890", "1", "video1", "init.mp4", false, dvrObject{}},
		{"01", "1", "video1", "init.mp4", false, dvrObject{}},
	} {
		got, ok := parseDVRObject(c.b, c.g, c.track, c.file)
		if ok != c.ok || got != c.want {
			t.Errorf("%s/%s/%s/%s: %+v %v, want %+v %v", c.b, c.g, c.track, c.file, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseDVRObject: whatever a URL holds, what is accepted names an
// object of the stream's recording and nothing else: it maps back to the
// same URL.
func FuzzParseDVRObject(f *testing.F) {
	f.Add("1", "0", "video1", "init.mp4")
	f.Add("2", "1", "audio2", "0000000007.m4s")
	f.Add("1", "1", "../x", "0000000007.m4s")
	f.Fuzz(func(t *testing.T, b, g, track, file string) {
		o, ok := parseDVRObject(b, g, track, file)
		if !ok {
			return
		}
		name := "init.mp4"
		if !o.init {
			name = fmt.Sprintf("%010d.m4s", o.sequence)
		}
		if got := dvrObjectPath(o.broadcast, o.generation, o.track, name); got != b+"/"+g+"/"+track+"/"+file {
			t.Fatalf("%q %q %q %q read as %+v, which is %s", b, g, track, file, o, got)
		}
		if strings.Contains(o.track, "/") || strings.Contains(o.track, ".") {
			t.Fatalf("track %q", o.track)
		}
	})
}
