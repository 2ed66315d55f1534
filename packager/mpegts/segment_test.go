package mpegts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mpegts"
)

// fixture is a remuxed source as the origin holds it: the faststart
// rendition file and its planned index.
type fixture struct {
	video   testenv.Video
	mp4     string
	ix      *index.Index
	rend    *os.File
	vTrack  *index.Track
	aTrack  *index.Track
	refKind index.Kind
}

func makeFixture(t *testing.T, dir string, v testenv.Video) *fixture {
	t.Helper()
	src := testenv.MakeVideo(t, dir, v)
	f, err := os.Open(src)
	must(t, err)
	defer f.Close()
	fi, err := f.Stat()
	must(t, err)
	a, err := packager.Analyze(context.Background(), f, fi.Size(), packager.Options{})
	must(t, err)
	if !a.Remux() {
		t.Fatalf("expected a remux, got transcode: %v", a.Transcode)
	}
	path := filepath.Join(t.TempDir(), "src.mp4")
	out, err := os.Create(path)
	must(t, err)
	_, err = out.Write(a.Layout.Head)
	must(t, err)
	_, err = io.Copy(out, io.NewSectionReader(f, a.Layout.BodyOffset, a.Layout.BodyLength))
	must(t, err)
	must(t, out.Close())
	rend, err := os.Open(path)
	must(t, err)
	t.Cleanup(func() { rend.Close() })
	fx := &fixture{video: v, mp4: path, ix: a.Index, rend: rend,
		vTrack: a.Index.Track(index.Video), aTrack: a.Index.Track(index.Audio)}
	fx.refKind = index.Video
	if fx.vTrack == nil {
		fx.refKind = index.Audio
	}
	return fx
}

func (fx *fixture) ref() *index.Track {
	if fx.vTrack != nil {
		return fx.vTrack
	}
	return fx.aTrack
}

// writeTS writes the TS playlist and every segment into dir, checking that
// each segment's announced size is what WriteTo writes.
func (fx *fixture) writeTS(t *testing.T, dir string) string {
	t.Helper()
	pl, err := hls.MediaTS(fx.ref(), 6*time.Second, func(n int) string { return strconv.Itoa(n) + ".ts" })
	must(t, err)
	playlist := filepath.Join(dir, "ts.m3u8")
	must(t, os.WriteFile(playlist, pl, 0o644))
	src := &countingSource{r: fx.rend}
	for n := range fx.ref().Segments {
		seg, err := mpegts.NewSegment(fx.vTrack, fx.aTrack, n)
		must(t, err)
		var buf bytes.Buffer
		written, err := seg.WriteTo(context.Background(), &buf, src)
		must(t, err)
		if written != seg.Size() || int64(buf.Len()) != seg.Size() {
			t.Fatalf("segment %d: wrote %d bytes (%d returned), Size said %d", n, buf.Len(), written, seg.Size())
		}
		if buf.Len()%188 != 0 || buf.Bytes()[0] != 0x47 {
			t.Fatalf("segment %d is not whole transport packets", n)
		}
		must(t, os.WriteFile(filepath.Join(dir, strconv.Itoa(n)+".ts"), buf.Bytes(), 0o644))
	}
	if src.maxOpen > 2 {
		t.Errorf("%d ranged reads open at once; want at most one per track", src.maxOpen)
	}
	return playlist
}

var fixtures = []struct {
	video testenv.Video
	// samplesHaveAUD: the encoder wrote access unit delimiters, which are
	// dropped for ours and their bytes made up with trailing zeros.
	samplesHaveAUD bool
}{
	{video: testenv.Video{Name: "bframes-moov-end.mp4", Seconds: 13}},
	{video: testenv.Video{Name: "video-only.mp4", Seconds: 8, ACodec: "none"}},
	{video: testenv.Video{Name: "audio-only.m4a", Seconds: 9, VCodec: "none"}},
	{video: testenv.Video{Name: "hevc.mp4", Seconds: 13, VCodec: "libx265"}},
	{video: testenv.Video{Name: "aud-mono44k-30fps.mp4", Seconds: 7, FPS: 30, Channels: 1,
		Extra: []string{"-x264-params", "aud=1", "-ar", "44100"}}, samplesHaveAUD: true},
}

func TestSegment(t *testing.T) {
	dir := t.TempDir()
	for _, c := range fixtures {
		t.Run(c.video.Name, func(t *testing.T) {
			t.Parallel()
			fx := makeFixture(t, dir, c.video)
			out := t.TempDir()
			playlist := fx.writeTS(t, out)
			t.Run("FFmpegDecodesPlaylistAndEverySegment", func(t *testing.T) {
				fx.checkFFmpeg(t, out, playlist)
			})
			t.Run("DemuxesToTheIndexSamples", func(t *testing.T) {
				fx.checkDemux(t, out, c.samplesHaveAUD)
			})
		})
	}
}

func (fx *fixture) checkFFmpeg(t *testing.T, out, playlist string) {
	v := fx.video
	got := testenv.Decode(t, playlist)
	if diff := got - v.Seconds; math.Abs(diff) > 0.1 {
		t.Errorf("ts.m3u8 decodes to %.3f s, source is %.3f s", got, v.Seconds)
	}
	t.Logf("%s: %d segments, playlist decodes to %.3f s (source %.3f s)", v.Name, len(fx.ref().Segments), got, v.Seconds)
	for n := range fx.ref().Segments {
		testenv.Decode(t, filepath.Join(out, strconv.Itoa(n)+".ts"))
	}

	streams := probeStreams(t, playlist)
	want := map[string]bool{}
	if fx.vTrack != nil {
		want["video"] = true
	}
	if fx.aTrack != nil {
		want["audio"] = true
	}
	var vStart, aStart float64
	for _, s := range streams {
		if !want[s.CodecType] {
			t.Errorf("unexpected %s stream %s", s.CodecType, s.CodecName)
		}
		delete(want, s.CodecType)
		switch s.CodecType {
		case "video":
			wantCodec := "h264"
			if v.VCodec == "libx265" {
				wantCodec = "hevc"
			}
			if s.CodecName != wantCodec || s.Width != int(fx.vTrack.Width) || s.Height != int(fx.vTrack.Height) {
				t.Errorf("video stream %s %dx%d, want %s %dx%d", s.CodecName, s.Width, s.Height, wantCodec, fx.vTrack.Width, fx.vTrack.Height)
			}
			vStart = s.start()
		case "audio":
			if s.CodecName != "aac" || s.SampleRate != strconv.Itoa(int(fx.aTrack.SampleRate)) || s.Channels != int(fx.aTrack.Channels) {
				t.Errorf("audio stream %s %s Hz %d channels, want aac %d Hz %d channels", s.CodecName, s.SampleRate, s.Channels, fx.aTrack.SampleRate, fx.aTrack.Channels)
			}
			aStart = s.start()
		}
	}
	for kind := range want {
		t.Errorf("no %s stream", kind)
	}
	if fx.vTrack != nil && fx.aTrack != nil {
		frame := 1 / float64(max(v.FPS, 25))
		if d := math.Abs(vStart - aStart); d > frame {
			t.Errorf("video starts at %.4f s, audio at %.4f s: %.4f s apart, more than a frame", vStart, aStart, d)
		}
		t.Logf("start times: video %.4f s, audio %.4f s", vStart, aStart)
	}
}

type probedStream struct {
	CodecType  string `json:"codec_type"`
	CodecName  string `json:"codec_name"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	SampleRate string `json:"sample_rate"`
	Channels   int    `json:"channels"`
	StartTime  string `json:"start_time"`
}

func (s probedStream) start() float64 {
	v, _ := strconv.ParseFloat(s.StartTime, 64)
	return v
}

func probeStreams(t *testing.T, input string) []probedStream {
	t.Helper()
	ffprobe := testenv.Require(t, "ffprobe")
	var stderr bytes.Buffer
	cmd := exec.Command(ffprobe, "-v", "error", "-show_streams", "-of", "json", input)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v\n%s", input, err, stderr.String())
	}
	var res struct {
		Streams []probedStream `json:"streams"`
	}
	must(t, json.Unmarshal(out, &res))
	return res.Streams
}

// countingSource counts ranged reads open at once.
type countingSource struct {
	r       io.ReaderAt
	mu      sync.Mutex
	open    int
	maxOpen int
	opened  int
}

func (c *countingSource) OpenRange(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	c.mu.Lock()
	c.open++
	c.opened++
	c.maxOpen = max(c.maxOpen, c.open)
	c.mu.Unlock()
	body, err := fmp4.ReaderAtSource{R: c.r}.OpenRange(ctx, off, n)
	return &closeCounter{ReadCloser: body, c: c}, err
}

type closeCounter struct {
	io.ReadCloser
	c    *countingSource
	once sync.Once
}

func (cc *closeCounter) Close() error {
	cc.once.Do(func() {
		cc.c.mu.Lock()
		cc.c.open--
		cc.c.mu.Unlock()
	})
	return cc.ReadCloser.Close()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
