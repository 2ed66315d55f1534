package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/thumbs"
)

// TestEncodeLadder_EveryInputKindBecomesBrowserPlayable makes each kind of
// upload the origin transcodes (masters, broadcast recordings, web video,
// music, 10-bit video, late audio, several languages), takes the origin's
// decisions on it (Analyze, Copyable, ChooseLadder) and runs the encode it
// would, then judges every output with ffprobe and ffmpeg: 8-bit 4:2:0
// H.264 and AAC whose CODECS browsers decode, the source's length, its
// audio offset, progressive pictures, and each language's own audio.
func TestEncodeLadder_EveryInputKindBecomesBrowserPlayable(t *testing.T) {
	testenv.Require(t, "ffprobe")
	dir := t.TempDir()
	for _, in := range testenv.InputKinds() {
		t.Run(in.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := testenv.MakeInput(t, dir, in)
			src, err := Config{}.Probe(ctx, path)
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			outs, opt := originPlan(t, path, src)
			if args := strings.Join(LadderArgs(path, src, outs, opt), " "); strings.Contains(args, "bwdif") != in.Interlaced {
				t.Errorf("deinterlace filter in the args is %v, want %v: %s", !in.Interlaced, in.Interlaced, args)
			}
			if err := (Config{}).EncodeLadder(ctx, path, src, outs, opt, nil); err != nil {
				t.Fatalf("encode: %v", err)
			}
			source := ffprobe(t, path)
			for _, o := range outs {
				t.Run(o.Rung.Name, func(t *testing.T) { checkOutput(t, in, src, source, o) })
			}
			if opt.Thumbs != nil {
				if _, err := os.Stat(opt.Thumbs.PosterPath); err != nil {
					t.Errorf("no poster: %v", err)
				}
			}
			if in.Stripes {
				// The judge of the outputs' pictures judges the fixture first.
				if got := interlacedShare(t, path); in.Interlaced != (got > 0.75) || !in.Interlaced && got > 0.1 {
					t.Fatalf("idet finds %.0f %% of the fixture's frames combed; interlaced is %v", 100*got, in.Interlaced)
				}
			}
		})
	}
}

// originPlan takes the origin's decisions on an upload at path: it is not
// served as it is (Analyze), nor copied into an MP4 (Copyable), but
// encoded; the outputs are those its two encode jobs make between them
// (the first rendition, then the rest of the ladder with the thumbnails),
// here in one run: each output's arguments are the same either way. It
// follows origin/job_package.go.
func originPlan(t *testing.T, path string, src *Source) ([]Output, LadderOptions) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	a, err := packager.Analyze(context.Background(), f, fi.Size(), packager.Options{})
	if err != nil {
		t.Fatalf("Analyze refused it: %v", err)
	}
	var opt LadderOptions
	switch {
	case a.Remux():
		// Only HEVC is served as it is and still gets an H.264 ladder at its
		// own size, keyframes on the source's segment boundaries.
		vt := a.Index.Track(index.Video)
		if vt == nil || !strings.HasPrefix(vt.Codec, "hvc1") {
			t.Fatalf("served as it is: %+v", a.Index.Tracks)
		}
		opt.KeyframeTimes = KeyframeTimes(a.Index.Boundaries(), a.Index.Duration(), a.Index.VideoStart())
	case a.NotMP4 && len(a.Transcode) == 0 && src.Copyable():
		t.Fatalf("the origin would copy its streams (%+v, %+v) rather than encode them", src.Video, src.Audio)
	}
	dir := t.TempDir()
	var outs []Output
	if src.Video != nil {
		// The top is never served as it is: H.264 at the source's own size.
		for _, r := range ChooseLadder(DefaultLadder, src.ShortSide(), src.Video.Bitrate, false) {
			outs = append(outs, Output{Path: filepath.Join(dir, r.Name+".mp4"), Rung: r})
		}
		w, h := src.Video.DisplaySize()
		opt.Thumbs = &Thumbs{Plan: thumbs.Plan(src.Duration, w, h),
			PosterPath: filepath.Join(dir, "poster.jpg"), SpritePattern: filepath.Join(dir, "sprite-%d.jpg")}
	} else {
		outs = append(outs, Output{Path: filepath.Join(dir, "audio.mp4"), Rung: Rung{Name: "audio"}, AudioOnly: true})
	}
	if src.Audio != nil && src.Audio.Channels > 2 {
		outs = append(outs, Output{Path: filepath.Join(dir, "surround.mp4"), Rung: Rung{Name: "surround"},
			AudioOnly: true, AudioChannels: min(src.Audio.Channels, 6)})
	}
	return append(outs, src.ExtraAudioOutputs(dir)...), opt
}

// checkOutput judges one encoded file against its source.
func checkOutput(t *testing.T, in testenv.Input, src *Source, source probed, o Output) {
	got := ffprobe(t, o.Path)
	wantVideo := src.Video != nil && !o.AudioOnly
	audio := src.audioFor(o)
	video, vOK := got.stream("video")
	if vOK != wantVideo {
		t.Fatalf("video stream present %v, want %v", vOK, wantVideo)
	}
	if wantVideo && (video.CodecName != "h264" || video.PixFmt != "yuv420p" || video.Profile != "High") {
		t.Errorf("video is %s %s %s, want h264 yuv420p High", video.CodecName, video.PixFmt, video.Profile)
	}
	sound, aOK := got.stream("audio")
	if aOK != (audio != nil) {
		t.Fatalf("audio stream present %v, want %v", aOK, audio != nil)
	}
	if aOK && sound.CodecName != "aac" {
		t.Errorf("audio is %s, want aac", sound.CodecName)
	}
	if d := got.duration() - src.Duration.Seconds(); math.Abs(d) > 0.1 {
		t.Errorf("lasts %.3f s, the source %.3f s", got.duration(), src.Duration.Seconds())
	}

	// What the origin makes of it: the index it serves from, the CODECS its
	// playlists announce.
	ix := indexOf(t, o.Path)
	var codecs []string
	for _, tr := range ix.Tracks {
		codecs = append(codecs, tr.Codec)
	}
	if c := strings.Join(codecs, ","); !hls.BrowserDecodable(c) {
		t.Errorf("CODECS %q is not decodable by browsers", c)
	}

	frame := 1 / source.fps()
	if aOK && src.Video != nil {
		// The sound keeps its place against the picture (it starts 0.5 s
		// late in the audio-late kinds): where the tone begins, whether
		// the stream starts there or with silence. An audio-only output's
		// timeline starts where the picture does, as the index takes it.
		want := onset(t, source.path, audio.Index, source.startOf(audio.Index)) - source.startOf(src.Video.Index)
		picture := 0.0
		if vOK {
			picture = video.start()
		}
		if got := onset(t, o.Path, sound.Index, sound.start()) - picture; math.Abs(got-want) > frame {
			t.Errorf("the sound begins %.3f s after the picture, in the source %.3f s", got, want)
		}
	}
	if vOK && aOK {
		// The index presents the streams where the file does.
		vt, at := ix.Track(index.Video), ix.Track(index.Audio)
		inFile := sound.start() - video.start()
		inIndex := float64(at.SegmentStart(0))/float64(at.Timescale) - float64(vt.SegmentStart(0))/float64(vt.Timescale)
		if math.Abs(inIndex-inFile) > frame {
			t.Errorf("indexed, the audio starts %.3f s after the video, in the file %.3f s", inIndex, inFile)
		}
	}
	if aOK {
		// Each output carries the track it asked for: its language, and its
		// tone (the tracks of a kind differ in pitch).
		wantLang := audio.Language
		if wantLang == "" {
			wantLang = "und"
		}
		if l := sound.Tags["language"]; l != wantLang {
			t.Errorf("audio language %q, want %q", l, wantLang)
		}
		if l := ix.Track(index.Audio).Language; l != wantLang {
			t.Errorf("indexed audio language %q, want %q", l, wantLang)
		}
		wantHz := float64(in.Audio[o.AudioTrack].Hz)
		if wantHz == 0 {
			wantHz = 440
		}
		if hz := pitch(t, o.Path); math.Abs(hz-wantHz) > wantHz/20 {
			t.Errorf("audio tone is %.0f Hz, track %d's is %.0f Hz", hz, o.AudioTrack, wantHz)
		}
	}
	if in.Stripes && vOK {
		if got := interlacedShare(t, o.Path); got > 0.1 {
			t.Errorf("idet finds %.0f %% of the output's frames combed: not progressive", 100*got)
		}
	}
}

// TestProbe_RefusesVideoNoDecoderKnows: a codec ffmpeg does not know is
// refused with a sentence, at probe time rather than after an encode
// fails.
func TestProbe_RefusesVideoNoDecoderKnows(t *testing.T) {
	dir := t.TempDir()
	path := testenv.MakeInput(t, dir, testenv.InputKind(t, "prores-pcm16.mov"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(data, []byte("apcn")) != 1 {
		t.Fatalf("want one apcn sample entry to rename")
	}
	unknown := filepath.Join(dir, "unknown.mov")
	if err := os.WriteFile(unknown, bytes.Replace(data, []byte("apcn"), []byte("zzzz"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Config{}.Probe(context.Background(), unknown)
	var ie *packager.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Reason, `"zzzz"`) || !strings.Contains(ie.Reason, "Export it as") {
		t.Fatalf("got %v, want an input error naming the codec tag and what to do", err)
	}
}

// probed is what ffprobe says of the file at path.
type probed struct {
	path   string
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Streams []probedStream `json:"streams"`
}

type probedStream struct {
	Index       int               `json:"index"`
	CodecType   string            `json:"codec_type"`
	CodecName   string            `json:"codec_name"`
	Profile     string            `json:"profile"`
	PixFmt      string            `json:"pix_fmt"`
	FrameRate   string            `json:"avg_frame_rate"`
	StartTime   string            `json:"start_time"`
	Tags        map[string]string `json:"tags"`
	Disposition map[string]int    `json:"disposition"`
}

func ffprobe(t *testing.T, path string) probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", filepath.Base(path), err)
	}
	p := probed{path: path}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// stream is the file's only stream of a kind (cover pictures aside).
func (p probed) stream(kind string) (probedStream, bool) {
	var found []probedStream
	for _, s := range p.Streams {
		if s.CodecType == kind && s.Disposition["attached_pic"] == 0 {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		return probedStream{}, false
	}
	return found[0], true
}

func (p probed) duration() float64 {
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return d
}

func (p probed) startOf(index int) float64 {
	for _, s := range p.Streams {
		if s.Index == index {
			return s.start()
		}
	}
	return math.NaN()
}

func (p probed) fps() float64 {
	if v, ok := p.stream("video"); ok {
		var num, den float64
		if _, err := fmt.Sscanf(v.FrameRate, "%g/%g", &num, &den); err == nil && den > 0 {
			return num / den
		}
	}
	return 25
}

func (s probedStream) start() float64 {
	v, _ := strconv.ParseFloat(s.StartTime, 64)
	return v
}

// indexOf indexes an output as the origin does before serving it.
func indexOf(t *testing.T, path string) *index.Index {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := packager.IndexRendition(context.Background(), f, fi.Size(), nil, packager.Options{})
	if err != nil {
		t.Fatalf("index %s: %v", filepath.Base(path), err)
	}
	return ix
}

// pitch is the frequency of the tone in path's audio, from the zero
// crossings of its middle second.
func pitch(t *testing.T, path string) float64 {
	t.Helper()
	const rate = 16000
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-ss", "0.5", "-t", "1", "-i", path,
		"-map", "0:a:0", "-ac", "1", "-ar", strconv.Itoa(rate), "-f", "s16le", "-").Output()
	if err != nil {
		t.Fatalf("decode the audio of %s: %v", filepath.Base(path), err)
	}
	n := len(out) / 2
	if n < rate/2 {
		t.Fatalf("%s: only %d audio samples decoded", filepath.Base(path), n)
	}
	crossings := 0
	prev := int16(0)
	for i := 0; i < n; i++ {
		v := int16(uint16(out[2*i]) | uint16(out[2*i+1])<<8)
		if (v >= 0) != (prev >= 0) && i > 0 {
			crossings++
		}
		prev = v
	}
	return float64(crossings) / 2 / (float64(n) / rate)
}

var silenceLine = regexp.MustCompile(`silence_(start|end): (-?[0-9.]+)`)

// onset is the time (on the file's timeline) where the sound of stream
// index, which starts at start, begins: start, or the end of the silence
// the stream starts with.
func onset(t *testing.T, path string, index int, start float64) float64 {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-copyts", "-i", path, "-map", "0:"+strconv.Itoa(index),
		"-af", "silencedetect=noise=-40dB:duration=0.05", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("silencedetect on %s: %v\n%s", filepath.Base(path), err, stderr.String())
	}
	m := silenceLine.FindAllStringSubmatch(stderr.String(), 2)
	if len(m) == 2 && m[0][1] == "start" && m[1][1] == "end" {
		if from, _ := strconv.ParseFloat(m[0][2], 64); from <= start+0.005 {
			end, _ := strconv.ParseFloat(m[1][2], 64)
			return end
		}
	}
	return start
}

var idetLine = regexp.MustCompile(`Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+) Undetermined:\s*(\d+)`)

// interlacedShare is the part of path's frames that ffmpeg's idet filter
// finds combed (interlaced).
func interlacedShare(t *testing.T, path string) float64 {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-i", path, "-map", "0:v:0", "-vf", "idet", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("idet on %s: %v\n%s", filepath.Base(path), err, stderr.String())
	}
	m := idetLine.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("idet on %s said nothing:\n%s", filepath.Base(path), stderr.String())
	}
	var n [4]float64
	for i := range n {
		n[i], _ = strconv.ParseFloat(m[i+1], 64)
	}
	total := n[0] + n[1] + n[2] + n[3]
	if total == 0 {
		t.Fatalf("idet on %s counted no frames", filepath.Base(path))
	}
	return (n[0] + n[1]) / total
}
