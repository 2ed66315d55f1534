package hls_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mpegts"
	"github.com/streamfront/streamfront/packager/probe"
)

func tinyTSIndex(t *testing.T) *index.Index {
	t.Helper()
	data, err := os.ReadFile("../testdata/tiny.mp4")
	mustTS(t, err)
	m, err := probe.Probe(context.Background(), bytes.NewReader(data), int64(len(data)), probe.Options{})
	mustTS(t, err)
	mustTS(t, m.Index.Plan(200*time.Millisecond))
	return m.Index
}

func TestMediaTS_IsAVersion3VODPlaylistWithoutMap(t *testing.T) {
	ix := tinyTSIndex(t)
	v := ix.Track(index.Video)
	body, err := hls.MediaTS(v, 200*time.Millisecond, func(n int) string { return hls.TSSegmentURI("src", "", n) })
	mustTS(t, err)
	s := string(body)
	for _, want := range []string{"#EXT-X-VERSION:3\n", "#EXT-X-PLAYLIST-TYPE:VOD\n", "#EXT-X-TARGETDURATION:", "#EXT-X-ENDLIST", "\nts/0.ts\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("playlist lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "#EXT-X-MAP") {
		t.Errorf("a TS playlist has an EXT-X-MAP:\n%s", s)
	}
	p, listType, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	mustTS(t, err)
	mp, ok := p.(*m3u8.MediaPlaylist)
	if listType != m3u8.MEDIA || !ok {
		t.Fatalf("not a media playlist")
	}
	if got := len(mp.GetAllSegments()); got != len(v.Segments) {
		t.Fatalf("%d segments listed, the plan has %d", got, len(v.Segments))
	}
	var total float64
	for n, seg := range mp.GetAllSegments() {
		if math.Round(seg.Duration) > mp.TargetDuration {
			t.Errorf("segment %d lasts %.3f s, over the target duration %.0f", n, seg.Duration, mp.TargetDuration)
		}
		total += seg.Duration
	}
	if d := v.Duration().Seconds(); math.Abs(total-d) > 0.001 {
		t.Errorf("segments add up to %.3f s, the track lasts %.3f s", total, d)
	}
}

func TestMasterTS_ListsMuxedVariantsWithMeasuredBandwidth(t *testing.T) {
	ix := tinyTSIndex(t)
	v, a := ix.Track(index.Video), ix.Track(index.Audio)
	videoOnly := &index.Index{Tracks: []*index.Track{v}}
	audioOnly := &index.Index{Tracks: []*index.Track{a}}
	stereo := &hls.Audio{Rendition: "stereo", Name: "Stereo", Default: true, Track: a}
	body, err := hls.MasterTS([]hls.TSVariant{
		{Rendition: hls.Rendition{Name: "src", Index: ix}},
		{Rendition: hls.Rendition{Name: "src", Index: ix}, Audio: &hls.Audio{Rendition: "src", Track: a}},
		{Rendition: hls.Rendition{Name: "480p", Index: videoOnly}, Audio: stereo},
		{Rendition: hls.Rendition{Name: "silent", Index: videoOnly}},
		{Rendition: hls.Rendition{Name: "stereo", Index: audioOnly}},
	})
	mustTS(t, err)
	s := string(body)
	if !strings.Contains(s, "#EXT-X-VERSION:3\n") || strings.Contains(s, "EXT-X-MEDIA") || strings.Contains(s, "I-FRAME") {
		t.Errorf("master is not a plain version 3 master:\n%s", s)
	}
	p, _, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	mustTS(t, err)
	master := p.(*m3u8.MasterPlaylist)
	muxed, _, err := hls.TSBitrates(v, a)
	mustTS(t, err)
	silent, _, err := hls.TSBitrates(v, nil)
	mustTS(t, err)
	audioPeak, _, err := hls.TSBitrates(nil, a)
	mustTS(t, err)
	want := []struct {
		uri, codecs string
		bandwidth   int64
	}{
		{"hls/src/ts.m3u8", v.Codec + "," + a.Codec, muxed},
		{"hls/src/ts.m3u8", v.Codec + "," + a.Codec, muxed},
		{"hls/480p/ts-stereo.m3u8", v.Codec + "," + a.Codec, muxed},
		{"hls/silent/ts.m3u8", v.Codec, silent},
		{"hls/stereo/ts.m3u8", a.Codec, audioPeak},
	}
	if len(master.Variants) != len(want) {
		t.Fatalf("%d variants, want %d:\n%s", len(master.Variants), len(want), s)
	}
	for i, w := range want {
		got := master.Variants[i]
		if got.URI != w.uri || got.Codecs != w.codecs || int64(got.Bandwidth) != w.bandwidth {
			t.Errorf("variant %d: %s %q %d, want %s %q %d", i, got.URI, got.Codecs, got.Bandwidth, w.uri, w.codecs, w.bandwidth)
		}
	}
	if !(silent < muxed && audioPeak < muxed) {
		t.Errorf("bandwidths: muxed %d, video %d, audio %d", muxed, silent, audioPeak)
	}
}

func TestTSName_RoundTrips(t *testing.T) {
	for _, c := range []struct{ rendition, audio, name, parsed string }{
		{"src", "", "ts", ""},
		{"src", "src", "ts", ""},
		{"480p", "stereo", "ts-stereo", "stereo"},
		{"480p", "audio", "ts-audio", "audio"},
	} {
		if got := hls.TSName(c.rendition, c.audio); got != c.name {
			t.Errorf("TSName(%q, %q) = %q, want %q", c.rendition, c.audio, got, c.name)
		}
		if got, ok := hls.ParseTSName(c.name); !ok || got != c.parsed {
			t.Errorf("ParseTSName(%q) = %q %v, want %q", c.name, got, ok, c.parsed)
		}
	}
	for _, bad := range []string{"", "ts-", "video", "tsx", "audio"} {
		if _, ok := hls.ParseTSName(bad); ok {
			t.Errorf("ParseTSName(%q) accepted", bad)
		}
	}
}

// TestMasterTS_FFmpegPlaysIt writes the TS master, its playlists and
// segments for an ffmpeg-made source (H.264 with B-frames + AAC, moov at
// the end) and has ffmpeg decode the master.
func TestMasterTS_FFmpegPlaysIt(t *testing.T) {
	dir := t.TempDir()
	const seconds = 13
	path := testenv.MakeVideo(t, dir, testenv.Video{Name: "src.mp4", Seconds: seconds})
	f, err := os.Open(path)
	mustTS(t, err)
	defer f.Close()
	fi, err := f.Stat()
	mustTS(t, err)
	an, err := packager.Analyze(context.Background(), f, fi.Size(), packager.Options{})
	mustTS(t, err)
	var rend bytes.Buffer
	rend.Write(an.Layout.Head)
	_, err = io.Copy(&rend, io.NewSectionReader(f, an.Layout.BodyOffset, an.Layout.BodyLength))
	mustTS(t, err)
	src := fmp4.ReaderAtSource{R: bytes.NewReader(rend.Bytes())}

	v, a := an.Index.Track(index.Video), an.Index.Track(index.Audio)
	master, err := hls.MasterTS([]hls.TSVariant{{Rendition: hls.Rendition{Name: "src", Index: an.Index}}})
	mustTS(t, err)
	out := t.TempDir()
	mustTS(t, os.WriteFile(filepath.Join(out, "master-ts.m3u8"), master, 0o644))
	pl, err := hls.MediaTS(v, 6*time.Second, func(n int) string { return hls.TSSegmentURI("src", "", n) })
	mustTS(t, err)
	playlist := filepath.Join(out, hls.TSPlaylistURI("src", ""))
	mustTS(t, os.MkdirAll(filepath.Join(filepath.Dir(playlist), "ts"), 0o755))
	mustTS(t, os.WriteFile(playlist, pl, 0o644))
	for n := range v.Segments {
		seg, err := mpegts.NewSegment(v, a, n)
		mustTS(t, err)
		var buf bytes.Buffer
		_, err = seg.WriteTo(context.Background(), &buf, src)
		mustTS(t, err)
		mustTS(t, os.WriteFile(filepath.Join(filepath.Dir(playlist), hls.TSSegmentURI("src", "", n)), buf.Bytes(), 0o644))
	}
	got := testenv.Decode(t, filepath.Join(out, "master-ts.m3u8"))
	if math.Abs(got-seconds) > 0.1 {
		t.Errorf("master-ts.m3u8 decodes to %.3f s, source is %d s", got, seconds)
	}
}

func mustTS(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
