package packager_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
)

// writeHLS writes what the origin would serve for a remuxed source into dir:
// the faststart MP4, the master and media playlists and every segment.
func writeHLS(t *testing.T, dir string, src *os.File, a *packager.Analysis) (mp4Path, master string) {
	t.Helper()
	ctx := context.Background()
	mp4Path = filepath.Join(dir, "r", "src.mp4")
	must(t, os.MkdirAll(filepath.Dir(mp4Path), 0o755))
	out, err := os.Create(mp4Path)
	must(t, err)
	_, err = out.Write(a.Layout.Head)
	must(t, err)
	_, err = io.Copy(out, io.NewSectionReader(src, a.Layout.BodyOffset, a.Layout.BodyLength))
	must(t, err)
	must(t, out.Close())

	rend, err := os.Open(mp4Path)
	must(t, err)
	defer rend.Close()
	var audio []hls.Audio
	if at := a.Index.Track(index.Audio); at != nil {
		audio = append(audio, hls.Audio{Rendition: "src", Name: hls.AudioName(at), Default: true, Track: at})
	}
	m, err := hls.Master([]hls.Rendition{{Name: "src", Index: a.Index}}, audio)
	must(t, err)
	master = filepath.Join(dir, "master.m3u8")
	must(t, os.WriteFile(master, m, 0o644))
	for _, tr := range a.Index.Tracks {
		base := filepath.Join(dir, "hls", "src")
		must(t, os.MkdirAll(filepath.Join(base, tr.Kind.String()), 0o755))
		pl, err := hls.Media(tr, 6*time.Second, hls.InitURI(tr.Kind), func(n int) string { return hls.SegmentURI(tr.Kind, n) })
		must(t, err)
		must(t, os.WriteFile(filepath.Join(base, tr.Kind.String()+".m3u8"), pl, 0o644))
		init, err := fmp4.Init(tr)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(base, hls.InitURI(tr.Kind)), init, 0o644))
		for n := range tr.Segments {
			seg, err := fmp4.NewSegment(tr, n)
			must(t, err)
			var buf bytes.Buffer
			written, err := seg.WriteTo(ctx, &buf, fmp4.ReaderAtSource{R: rend})
			must(t, err)
			if written != seg.Size() || int64(buf.Len()) != seg.Size() {
				t.Fatalf("segment %d: wrote %d bytes, announced %d", n, written, seg.Size())
			}
			must(t, os.WriteFile(filepath.Join(base, hls.SegmentURI(tr.Kind, n)), buf.Bytes(), 0o644))
		}
	}
	return mp4Path, master
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAnalyze_RemuxesMoovAtEndWithBFrames(t *testing.T) {
	dir := t.TempDir()
	cases := []testenv.Video{
		{Name: "bframes-moov-end.mp4", Seconds: 13},
		{Name: "faststart.mp4", Seconds: 7, Faststart: true},
		{Name: "video-only.mp4", Seconds: 8, ACodec: "none"},
		{Name: "audio-only.m4a", Seconds: 9, VCodec: "none"},
		{Name: "hevc.mp4", Seconds: 6, VCodec: "libx265"},
		// QuickTime sound descriptions: version 1 with the esds in a wave
		// atom (ffmpeg's MOV), version 2 (rates above 65535 Hz).
		{Name: "quicktime.mov", Seconds: 7},
		{Name: "quicktime-5.1.mov", Seconds: 5, Channels: 6},
		{Name: "quicktime-96k.mov", Seconds: 5, Extra: []string{"-ar", "96000"}},
	}
	wantAudio := map[string][2]int{"quicktime.mov": {48000, 2}, "quicktime-5.1.mov": {48000, 6}, "quicktime-96k.mov": {96000, 2}}
	for _, v := range cases {
		t.Run(v.Name, func(t *testing.T) {
			path := testenv.MakeVideo(t, dir, v)
			f, err := os.Open(path)
			must(t, err)
			defer f.Close()
			fi, _ := f.Stat()
			a, err := packager.Analyze(context.Background(), f, fi.Size(), packager.Options{})
			must(t, err)
			if !a.Remux() {
				t.Fatalf("expected a remux, got transcode: %v", a.Transcode)
			}
			if want, ok := wantAudio[v.Name]; ok {
				at := a.Index.Track(index.Audio)
				if at == nil || int(at.SampleRate) != want[0] || int(at.Channels) != want[1] {
					t.Fatalf("audio track %+v, want %d Hz, %d channels", at, want[0], want[1])
				}
			}
			out := t.TempDir()
			mp4Path, master := writeHLS(t, out, f, a)
			for _, input := range []string{mp4Path, master} {
				got := testenv.Decode(t, input)
				if diff := got - v.Seconds; diff < -0.1 || diff > 0.1 {
					t.Errorf("%s decodes to %.3f s, source is %.3f s", filepath.Base(input), got, v.Seconds)
				}
			}
			for _, tr := range a.Index.Tracks {
				// Encode/decode round trip of the stored index.
				back, err := index.Decode(tr2ix(tr).Encode())
				must(t, err)
				if len(back.Tracks[0].Samples) != len(tr.Samples) {
					t.Fatalf("index round trip lost samples")
				}
			}
			if testing.Verbose() {
				b, _ := os.ReadFile(master)
				fmt.Println(string(b))
			}
		})
	}
}

func tr2ix(t *index.Track) *index.Index { return &index.Index{Tracks: []*index.Track{t}} }
