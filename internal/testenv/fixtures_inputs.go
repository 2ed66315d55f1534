package testenv

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Input describes a source file in one of the forms uploads come in, for
// ffmpeg to synthesise: any container and codecs, interlaced video, audio
// only, several audio tracks with languages, audio that starts after the
// video. Zero fields take the defaults noted. InputKinds lists the ones
// the packager must handle.
type Input struct {
	Name    string  // file name; its extension picks the container
	Seconds float64 // defaults to 2
	Width   int     // defaults to 320
	Height  int     // defaults to 240
	FPS     int     // defaults to 25
	// Stripes replaces ffmpeg's test pattern with vertical stripes moving
	// sideways: a progressive frame of them has no line unlike its
	// neighbours, an interlaced one shows combs at every edge, so ffmpeg's
	// idet filter judges them surely (it finds combs in testsrc2's
	// progressive frames).
	Stripes bool
	// Video is the video encoder and its options, e.g. {"-c:v",
	// "prores_ks"}; nil makes an audio-only file.
	Video []string
	// Interlaced makes each frame of two fields from instants 1/(2·FPS)
	// apart, top field first, as a camera records them; Video must code
	// them as fields (mpeg2video with -flags +ilme+ildct -top 1, libx264
	// with -x264opts tff=1).
	Interlaced bool
	// Audio are the audio tracks, in order; the first is flagged default.
	Audio []Tone
	// Cover embeds a picture, as music files carry cover art (ffmpeg shows
	// it as a video stream with the attached_pic disposition).
	Cover bool
	Extra []string // extra output options, before the file name
}

// Tone is one audio track of an Input: a sine wave, so a test can tell the
// tracks apart by their pitch.
type Tone struct {
	Hz         int     // defaults to 440
	SampleRate int     // defaults to 48000
	Channels   int     // defaults to 2
	Codec      string  // ffmpeg encoder; defaults to "aac"
	Delay      float64 // seconds after the video starts; the tone ends with it
	Language   string  // ISO 639-2, e.g. "eng"; none when empty
	Title      string
}

// InputKinds are the sources, other than H.264/HEVC with AAC in MP4, that
// the packager must turn into renditions browsers play. Each is 2 s at
// 320×240, cheap enough for every test run; Name tells them apart.
func InputKinds() []Input {
	tone := func(codec string) []Tone { return []Tone{{Codec: codec}} }
	return []Input{
		// Editing and camera masters: intra-frame video, PCM audio in MOV.
		{Name: "prores-pcm16.mov", Video: []string{"-c:v", "prores_ks", "-profile:v", "2"}, Audio: tone("pcm_s16le")},
		{Name: "prores-hq-pcm24.mov", Video: []string{"-c:v", "prores_ks", "-profile:v", "3"}, Audio: tone("pcm_s24le")},
		{Name: "dnxhr-pcm24-5.1.mov", Video: []string{"-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"},
			Audio: []Tone{{Codec: "pcm_s24le", Channels: 6, SampleRate: 96000}}},
		// Broadcast recordings: MPEG-2 in MPEG-TS, interlaced or not.
		{Name: "mpeg2-interlaced.ts", Stripes: true, Interlaced: true,
			Video: []string{"-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-top", "1", "-b:v", "2M"}, Audio: tone("mp2")},
		{Name: "mpeg2-progressive.ts", Stripes: true, Video: []string{"-c:v", "mpeg2video", "-b:v", "2M"}, Audio: tone("mp2")},
		// Web video.
		{Name: "av1-opus.webm", Video: []string{"-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8"}, Audio: tone("libopus")},
		{Name: "vp9-vorbis.mkv", Video: []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"}, Audio: tone("libvorbis")},
		// Music and voice.
		{Name: "audio.mp3", Audio: []Tone{{Codec: "libmp3lame", SampleRate: 44100}}, Cover: true},
		{Name: "audio.flac", Audio: []Tone{{Codec: "flac", SampleRate: 96000}}, Extra: []string{"-sample_fmt", "s32"}},
		{Name: "audio.wav", Audio: []Tone{{Codec: "pcm_s24le", Channels: 1}}},
		// 10-bit and 4:2:2 video browsers do not decode.
		{Name: "h264-high10.mkv", Video: []string{"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high10", "-pix_fmt", "yuv420p10le"}, Audio: tone("aac")},
		{Name: "h264-high422.mov", Video: []string{"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high422", "-pix_fmt", "yuv422p"}, Audio: tone("aac")},
		{Name: "hevc-main10.mp4", Video: []string{"-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-pix_fmt", "yuv420p10le",
			"-x265-params", "log-level=error"}, Audio: tone("aac")},
		// Audio that starts half a second after the picture.
		{Name: "prores-audio-late.mov", Video: []string{"-c:v", "prores_ks", "-profile:v", "0"}, Audio: []Tone{{Codec: "pcm_s16le", Delay: 0.5}}},
		{Name: "vp9-audio-late.mkv", Video: []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"}, Audio: []Tone{{Codec: "flac", Delay: 0.5}}},
		// Several languages.
		{Name: "vp9-languages.mkv", Video: []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"},
			Audio: []Tone{{Codec: "libopus", Language: "eng", Title: "English"}, {Codec: "libopus", Hz: 1000, Language: "fre", Title: "Français", Delay: 0.5}}},
		{Name: "prores-languages.mov", Video: []string{"-c:v", "prores_ks", "-profile:v", "0"},
			Audio: []Tone{{Codec: "pcm_s16le", Language: "eng"}, {Codec: "pcm_s16le", Hz: 1000, Language: "fra"}}},
	}
}

// InputKind is the kind of InputKinds named name; t fails when there is
// none.
func InputKind(t testing.TB, name string) Input {
	t.Helper()
	for _, in := range InputKinds() {
		if in.Name == name {
			return in
		}
	}
	t.Fatalf("no input kind %q", name)
	return Input{}
}

// MakeInput renders in into dir with ffmpeg and returns the file's path.
func MakeInput(t testing.TB, dir string, in Input) string {
	t.Helper()
	ffmpeg := Require(t, "ffmpeg")
	out := filepath.Join(dir, in.Name)
	cmd := exec.Command(ffmpeg, inputArgs(in, out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg could not make fixture %s: %v\n%s", in.Name, err, stderr.String())
	}
	return out
}

func inputArgs(in Input, out string) []string {
	if in.Seconds == 0 {
		in.Seconds = 2
	}
	if in.Width == 0 {
		in.Width, in.Height = 320, 240
	}
	if in.FPS == 0 {
		in.FPS = 25
	}
	secs := func(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	var maps, opts []string
	inputs := 0
	if in.Video != nil {
		rate := in.FPS
		if in.Interlaced {
			rate *= 2 // two instants per frame, one per field
		}
		source := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d:duration=%s", in.Width, in.Height, rate, secs(in.Seconds))
		if in.Stripes {
			// 40-pixel stripes moving 300 pixels a second.
			source = fmt.Sprintf("color=c=gray:size=%dx%d:rate=%d:duration=%s,format=yuv420p,"+
				`geq=lum='if(lt(mod(X-T*300\,80)\,40)\,220\,30)':cb=128:cr=128`, in.Width, in.Height, rate, secs(in.Seconds))
		}
		args = append(args, "-f", "lavfi", "-i", source)
		maps = append(maps, "-map", "0:v")
		opts = append(opts, in.Video...)
		if in.Interlaced {
			opts = append(opts, "-filter:v:0", "interlace=scan=tff")
		}
		inputs++
	}
	for i, a := range in.Audio {
		if a.Hz == 0 {
			a.Hz = 440
		}
		if a.SampleRate == 0 {
			a.SampleRate = 48000
		}
		if a.Channels == 0 {
			a.Channels = 2
		}
		if a.Codec == "" {
			a.Codec = "aac"
		}
		if a.Delay > 0 {
			args = append(args, "-itsoffset", secs(a.Delay))
		}
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=%d:duration=%s", a.Hz, a.SampleRate, secs(in.Seconds-a.Delay)))
		maps = append(maps, "-map", fmt.Sprintf("%d:a", inputs))
		s := strconv.Itoa(i)
		opts = append(opts, "-c:a:"+s, a.Codec, "-ac:a:"+s, strconv.Itoa(a.Channels))
		if a.Language != "" {
			opts = append(opts, "-metadata:s:a:"+s, "language="+a.Language)
		}
		if a.Title != "" {
			opts = append(opts, "-metadata:s:a:"+s, "title="+a.Title)
		}
		disposition := "0"
		if i == 0 {
			disposition = "default"
		}
		opts = append(opts, "-disposition:a:"+s, disposition)
		inputs++
	}
	if in.Cover {
		args = append(args, "-f", "lavfi", "-i", "color=c=orange:size=64x64:duration=0.04")
		maps = append(maps, "-map", fmt.Sprintf("%d:v", inputs))
		opts = append(opts, "-c:v", "mjpeg", "-disposition:v:0", "attached_pic")
	}
	args = append(args, maps...)
	args = append(args, opts...)
	args = append(args, "-t", secs(in.Seconds))
	args = append(args, in.Extra...)
	return append(args, out)
}
