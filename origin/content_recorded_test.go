package origin

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/origin/catalog"
)

func TestParseRecordedFile(t *testing.T) {
	at := time.UnixMilli(1764874800123).UTC()
	for _, c := range []struct {
		name string
		ok   bool
		want recordedFile
	}{
		{"001-init.mp4", true, recordedFile{generation: 1, init: true}},
		{"1234-init.mp4", true, recordedFile{generation: 1234, init: true}},
		{"002-0000000042-2000000-1764874800123.m4s", true, recordedFile{generation: 2, sequence: 42, duration: 2 * time.Second, date: at}},
		{"01-init.mp4", false, recordedFile{}},
		{"0001-init.mp4", false, recordedFile{}},
		{"002-42-2000000-1764874800123.m4s", false, recordedFile{}},
		{"002-0000000042-0-1764874800123.m4s", false, recordedFile{}},
		{"002-0000000042-02000000-1764874800123.m4s", false, recordedFile{}},
		{"002-0000000042-2000000--1.m4s", false, recordedFile{}},
		{"002-0000000042-2000000-1764874800123.mp4", false, recordedFile{}},
		{"../001-init.mp4", false, recordedFile{}},
		{"video1.m3u8", false, recordedFile{}},
		{"002-0000000042-99999999999-1764874800123.m4s", false, recordedFile{}},
	} {
		got, ok := parseRecordedFile(c.name)
		if ok != c.ok || got != c.want {
			t.Errorf("%q: %+v %v, want %+v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseRecordedFile: whatever a URL holds, what is accepted is a name
// the recorder writes, which it maps back to.
func FuzzParseRecordedFile(f *testing.F) {
	f.Add("001-init.mp4")
	f.Add("002-0000000042-2000000-1764874800123.m4s")
	f.Add("002-0000000042-2000000-../x.m4s")
	f.Fuzz(func(t *testing.T, name string) {
		r, ok := parseRecordedFile(name)
		if !ok {
			return
		}
		again := recordedInitName(r.generation)
		if !r.init {
			again = recordedSegmentName(r.generation, r.sequence, r.duration, r.date)
		}
		if again != name || strings.ContainsAny(name, "/\\") || r.duration < 0 {
			t.Fatalf("%q read as %+v, which is %q", name, r, again)
		}
	})
}

// The recording's playlist is the same whether the hosting origin writes
// it from its DVR index or another origin from the objects' names (a
// listing after a crash): names hold the dates and durations the index
// kept, to the digit.
func TestRecordedPlaylist_SameFromTheIndexAndFromTheNames(t *testing.T) {
	x := newDVRIndex()
	x.addInit("s", "v", 1, 1, "video1", time.Minute)
	x.addInit("s", "v", 1, 2, "video1", time.Minute)
	now := dvrT0.Add(123456789 * time.Nanosecond)
	for i := range 5 {
		s := seg("video1", 1, 10+i, 0) // undated, as gohlslib leaves most
		s.Duration = 1001*time.Millisecond + 333*time.Nanosecond
		s.ProgramDateTime = x.dateOf(s, now)
		s.Duration = s.Duration.Truncate(time.Microsecond)
		x.addSegment(s, time.Minute)
	}
	for i := range 3 { // a reconnect with other codec parameters
		s := seg("video1", 2, i, 100+i)
		s.ProgramDateTime = x.dateOf(s, now)
		x.addSegment(s, time.Minute)
	}
	video, tracks, whole := x.recording("s", 1)
	if !whole || video != "v" || len(tracks) != 1 {
		t.Fatalf("recording: %q %d tracks, whole %v", video, len(tracks), whole)
	}
	fromIndex := recordedMediaPlaylist(tracks[0])

	// What a listing gives: the names, each read back.
	listed := &dvrTrack{inits: map[int]bool{}}
	for _, g := range []int{1, 2} {
		f, ok := parseRecordedFile(recordedInitName(g))
		if !ok || !f.init {
			t.Fatalf("init of %d not read back", g)
		}
		listed.inits[f.generation] = true
	}
	for _, s := range tracks[0].segments {
		f, ok := parseRecordedFile(s.name())
		if !ok {
			t.Fatalf("%q not read back", s.name())
		}
		listed.add(dvrSegment{generation: f.generation, sequence: f.sequence, size: s.size, duration: f.duration, date: f.date}, math.MaxInt64)
	}
	fromNames := recordedMediaPlaylist(recordedTrack{name: "video1", dvrSnapshot: dvrSnapshot{segments: listed.segments, inits: listed.inits}})
	if !bytes.Equal(fromIndex, fromNames) {
		t.Fatalf("from the index:\n%s\nfrom the names:\n%s", fromIndex, fromNames)
	}
	pl := string(fromIndex)
	for _, want := range []string{"#EXT-X-PLAYLIST-TYPE:VOD\n", "#EXT-X-ENDLIST\n", "#EXT-X-MEDIA-SEQUENCE:0\n",
		"#EXT-X-MAP:URI=\"video1/001-init.mp4\"", "#EXT-X-MAP:URI=\"video1/002-init.mp4\"",
		"#EXT-X-PROGRAM-DATE-TIME:2026-12-04T18:59:59.122Z\n", "#EXTINF:1.00100,\nvideo1/001-0000000010-1001000-1796410799122.m4s\n"} {
		if !strings.Contains(pl, want) {
			t.Errorf("no %q in\n%s", want, pl)
		}
	}
	if strings.Count(pl, "#EXT-X-DISCONTINUITY\n") != 1 || strings.Count(pl, "#EXTINF:") != 8 {
		t.Errorf("one discontinuity (the new generation) and 8 segments:\n%s", pl)
	}
	m := parseDVR(t, fromIndex)
	if !m.Endlist || len(m.Segments) != 8 {
		t.Errorf("gohlslib reads %d segments, endlist %v", len(m.Segments), m.Endlist)
	}
}

// The DVR window slides, the recording's list keeps the whole broadcast.
func TestDVRIndex_KeepsTheWholeBroadcastForTheRecording(t *testing.T) {
	x := newDVRIndex()
	x.addInit("s", "v", 1, 1, "video1", 3*time.Second)
	for i := range 10 {
		addDated(x, seg("video1", 1, i, 10+i), 3*time.Second)
	}
	snap, _ := x.snapshot("s", "video1")
	if len(snap.segments) != 3 {
		t.Errorf("DVR window of %d segments, want 3", len(snap.segments))
	}
	_, tracks, whole := x.recording("s", 1)
	if !whole || len(tracks) != 1 || len(tracks[0].segments) != 10 {
		t.Fatalf("recording: whole %v, %d tracks", whole, len(tracks))
	}
	// A stream without DVR is recorded all the same.
	y := newDVRIndex()
	y.addInit("s", "v", 1, 1, "video1", 0)
	addDated(y, seg("video1", 1, 0, 10), 0)
	if _, tracks, whole := y.recording("s", 1); !whole || len(tracks) != 1 {
		t.Error("a stream with dvr_window_s 0 has no recording list")
	}
}

func TestRecordedMaster_PictureWithItsSoundAsAGroup(t *testing.T) {
	body, err := recordedMaster(&catalog.RecordedHLS{Tracks: []catalog.RecordedTrack{
		{Name: "video1", Codecs: "avc1.64001e", Width: 640, Height: 360, Bandwidth: 900_000, AverageBandwidth: 700_000},
		{Name: "audio2", Codecs: "mp4a.40.2", Bandwidth: 70_000, AverageBandwidth: 65_000},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, typ, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	if err != nil || typ != m3u8.MASTER {
		t.Fatalf("grafov does not read it back: %v\n%s", err, body)
	}
	mp := p.(*m3u8.MasterPlaylist)
	if len(mp.Variants) != 1 || mp.Variants[0].URI != "hls/rec/video1.m3u8" || mp.Variants[0].Bandwidth != 970_000 ||
		mp.Variants[0].Codecs != "avc1.64001e,mp4a.40.2" || mp.Variants[0].Audio != "audio" {
		t.Errorf("variant:\n%s", body)
	}
	if !bytes.Contains(body, []byte(`TYPE=AUDIO,GROUP-ID="audio"`)) || !bytes.Contains(body, []byte(`URI="hls/rec/audio2.m3u8"`)) {
		t.Errorf("audio group:\n%s", body)
	}
}
