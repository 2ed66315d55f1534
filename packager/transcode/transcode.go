package transcode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/thumbs"
)

// Config says which programs to run and how long they may take.
type Config struct {
	// FFmpeg and FFprobe are the executables. They default to "ffmpeg" and
	// "ffprobe" in PATH.
	FFmpeg, FFprobe string
	// Timeout bounds one encode. It defaults to 6 h; probes get 2 min.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.FFprobe == "" {
		c.FFprobe = "ffprobe"
	}
	if c.Timeout == 0 {
		c.Timeout = 6 * time.Hour
	}
	return c
}

// Source is what ffprobe found in an input.
type Source struct {
	Duration time.Duration
	// Video is the first video stream that is not a cover picture.
	Video *Stream
	// Audio is the audio every output carries unless it picks another
	// (Output.AudioTrack): the first audio stream flagged default, else the
	// first one. It is AudioTracks[0].
	Audio *Stream
	// AudioTracks are the input's audio streams: Audio first, then the
	// others in the input's order (other languages, commentaries…). Encode
	// one audio-only Output per extra track to offer it (see
	// ExtraAudioOutputs).
	AudioTracks []*Stream

	// byIndex is set by Probe: streams are then selected by their Index.
	// A Source built by hand selects the input's first video and first
	// audio stream.
	byIndex bool
}

// Stream is one elementary stream.
type Stream struct {
	// Index is the stream's number in the input, as ffprobe and ffmpeg's
	// -map count them.
	Index    int
	Codec    string // ffprobe's codec_name, e.g. "h264", "prores", "pcm_s24le"
	Tag      string // the container's codec tag, e.g. "apch", "sowt"
	Width    int    // coded size
	Height   int
	SAR      float64 // sample (pixel) aspect ratio; 1 for square pixels
	Rotation int     // degrees
	// PixFmt is the decoded picture format, e.g. "yuv420p" or
	// "yuv422p10le"; "" when unknown.
	PixFmt string
	// FieldOrder is ffprobe's field_order: "progressive", "tt", "bb", "tb",
	// "bt" (interlaced), or "" when unknown.
	FieldOrder string
	Channels   int
	Bitrate    int64
	// Language is the stream's language tag (ISO 639-2, e.g. "eng" or
	// "fre"), "" when it has none.
	Language string
	// Title is the stream's title tag, e.g. "Director's commentary".
	Title string
}

// Interlaced reports whether the video is interlaced: its encodes are
// deinterlaced.
func (s *Stream) Interlaced() bool {
	switch s.FieldOrder {
	case "tt", "bb", "tb", "bt":
		return true
	}
	return false
}

// DisplaySize is the picture as viewers see it: pixel aspect applied,
// rotation applied.
func (s *Stream) DisplaySize() (w, h int) {
	w, h = s.Width, s.Height
	if s.SAR > 0 && s.SAR != 1 {
		w = int(float64(w)*s.SAR + 0.5)
	}
	if s.Rotation%180 != 0 {
		w, h = h, w
	}
	return w, h
}

type probeJSON struct {
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Streams []probeStream `json:"streams"`
}

type probeStream struct {
	Index       int               `json:"index"`
	CodecType   string            `json:"codec_type"`
	CodecName   string            `json:"codec_name"`
	CodecTag    string            `json:"codec_tag_string"`
	SAR         string            `json:"sample_aspect_ratio"`
	Width       int               `json:"width"`
	Height      int               `json:"height"`
	PixFmt      string            `json:"pix_fmt"`
	FieldOrder  string            `json:"field_order"`
	Channels    int               `json:"channels"`
	BitRate     string            `json:"bit_rate"`
	Tags        map[string]string `json:"tags"`
	Disposition map[string]int    `json:"disposition"`
	SideData    []struct {
		Rotation float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// Probe asks ffprobe what input holds.
func (c Config) Probe(ctx context.Context, input string) (*Source, error) {
	c = c.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.FFprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", input)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ffprobe timed out: %w", ctx.Err())
		}
		return nil, explain(stderr.String(), fmt.Errorf("ffprobe: %w: %s", err, stderr.String()))
	}
	var p probeJSON
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("ffprobe output: %w", err)
	}
	src := &Source{byIndex: true}
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err == nil {
		src.Duration = time.Duration(d * float64(time.Second))
	}
	if err := src.pickStreams(p.Streams); err != nil {
		return nil, err
	}
	return src, nil
}

// pickStreams sets Video, Audio and AudioTracks from ffprobe's streams.
func (s *Source) pickStreams(streams []probeStream) error {
	var undecodable *Stream // the first audio stream no decoder knows
	flaggedDefault := false // s.Audio is flagged default
	for _, ps := range streams {
		st := ps.stream()
		switch {
		case ps.CodecType == "video" && s.Video == nil && ps.Disposition["attached_pic"] == 0:
			if !known(st.Codec) {
				return &packager.InputError{Reason: fmt.Sprintf("The video is in a format Streamfront cannot decode (codec tag %q). "+
					"Export it as H.264, HEVC or ProRes 422 and upload it again.", st.Tag)}
			}
			s.Video = st
		case ps.CodecType == "audio" && !known(st.Codec):
			if undecodable == nil {
				undecodable = st
			}
		case ps.CodecType == "audio":
			if s.Audio == nil || (ps.Disposition["default"] == 1 && !flaggedDefault) {
				s.Audio, flaggedDefault = st, ps.Disposition["default"] == 1
			}
			s.AudioTracks = append(s.AudioTracks, st)
		}
	}
	// An extra audio track no decoder knows is left out; a film none of
	// whose audio can be decoded is refused rather than made silent.
	if undecodable != nil && s.Audio == nil {
		return &packager.InputError{Reason: fmt.Sprintf("The audio is in a format Streamfront cannot decode (codec tag %q). "+
			"Export it with AAC or PCM audio and upload it again.", undecodable.Tag)}
	}
	if s.Video == nil && s.Audio == nil {
		return &packager.InputError{Reason: "The file has no video or audio stream that can be played."}
	}
	if s.Audio != nil {
		// Audio first, the others in the input's order.
		tracks := []*Stream{s.Audio}
		for _, a := range s.AudioTracks {
			if a != s.Audio {
				tracks = append(tracks, a)
			}
		}
		s.AudioTracks = tracks
	}
	return nil
}

// stream is what we keep of one of ffprobe's streams.
func (s probeStream) stream() *Stream {
	st := &Stream{Index: s.Index, Codec: s.CodecName, Tag: s.CodecTag, Width: s.Width, Height: s.Height,
		PixFmt: s.PixFmt, FieldOrder: s.FieldOrder, Channels: s.Channels, SAR: 1,
		Language: tag(s.Tags, "language"), Title: tag(s.Tags, "title")}
	if st.Language == "und" {
		st.Language = "" // undetermined
	}
	var num, den float64
	if _, err := fmt.Sscanf(s.SAR, "%g:%g", &num, &den); err == nil && num > 0 && den > 0 {
		st.SAR = num / den
	}
	st.Bitrate, _ = strconv.ParseInt(s.BitRate, 10, 64)
	if r, err := strconv.Atoi(s.Tags["rotate"]); err == nil {
		st.Rotation = r
	}
	for _, sd := range s.SideData {
		if sd.Rotation != 0 {
			st.Rotation = int(-sd.Rotation+360) % 360
		}
	}
	return st
}

// known reports whether ffprobe recognised a codec (it names unknown ones
// "unknown", or not at all): ffmpeg has no decoder for those.
func known(codec string) bool {
	return codec != "" && codec != "unknown" && codec != "none"
}

// tag reads a stream tag; containers spell the keys in either case
// (Matroska "language", Ogg "LANGUAGE").
func tag(tags map[string]string, key string) string {
	if v, ok := tags[key]; ok {
		return strings.TrimSpace(v)
	}
	for k, v := range tags {
		if strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ExtraAudioOutputs are the audio-only outputs that offer the source's
// audio tracks beyond the first (other languages, commentaries), one per
// track, stereo (or mono), named "audio1", "audio2"… after their place in
// AudioTracks, and written in dir. Encode them in the same EncodeLadder run
// as the ladder: each track's offset from the video is kept, so they line
// up with every rendition.
func (s *Source) ExtraAudioOutputs(dir string) []Output {
	var outs []Output
	for i := 1; i < len(s.AudioTracks); i++ {
		name := fmt.Sprintf("audio%d", i)
		outs = append(outs, Output{Path: filepath.Join(dir, name+".mp4"), Rung: Rung{Name: name}, AudioOnly: true, AudioTrack: i})
	}
	return outs
}

// audioFor is the audio stream output o carries, nil when the source has
// none or o names a track it does not have.
func (s *Source) audioFor(o Output) *Stream {
	if len(s.AudioTracks) == 0 {
		if o.AudioTrack == 0 {
			return s.Audio
		}
		return nil
	}
	if o.AudioTrack < 0 || o.AudioTrack >= len(s.AudioTracks) {
		return nil
	}
	return s.AudioTracks[o.AudioTrack]
}

// videoSpec is the -map (and filter graph input) specifier of the video.
func (s *Source) videoSpec() string {
	if s.byIndex && s.Video != nil {
		return "0:" + strconv.Itoa(s.Video.Index)
	}
	return "0:v:0"
}

// audioSpec is the -map specifier of audio stream a.
func (s *Source) audioSpec(a *Stream) string {
	if s.byIndex {
		return "0:" + strconv.Itoa(a.Index)
	}
	return "0:a:0"
}

// Rung is one step of an ABR ladder.
type Rung struct {
	// Name names the rendition, e.g. "720p".
	Name string
	// ShortSide is the picture's shorter dimension (720 for 1280×720 and for
	// portrait 720×1280); the other keeps the source's aspect. 0 keeps the
	// source's size.
	ShortSide int
	// VideoBitrate caps the video bitrate (bits/s); quality (CRF) decides
	// below it. 0 lets quality alone decide.
	VideoBitrate int64
}

// DefaultLadder is the ladder used unless configured otherwise: the usual
// 16:9 steps at bitrates close to Apple's HLS authoring guidelines for
// H.264.
var DefaultLadder = []Rung{
	{Name: "1080p", ShortSide: 1080, VideoBitrate: 5_000_000},
	{Name: "720p", ShortSide: 720, VideoBitrate: 3_000_000},
	{Name: "480p", ShortSide: 480, VideoBitrate: 1_400_000},
	{Name: "360p", ShortSide: 360, VideoBitrate: 800_000},
}

// Output is one file of a ladder encode.
type Output struct {
	Path string
	Rung Rung
	// AudioOnly makes an audio-only file (Rung's picture fields unused).
	AudioOnly bool
	// AudioChannels is the output's channel count; 0 means stereo (or mono
	// for a mono source).
	AudioChannels int
	// AudioTrack picks the audio the output carries: an index into the
	// source's AudioTracks. It defaults to 0, the source's Audio.
	AudioTrack int
	// HLSDir, when set, also writes the output as it is encoded as CMAF
	// HLS in this directory: stream.m3u8 (an EVENT playlist, each segment
	// listed once ffmpeg has closed it, ENDLIST at the end), init.mp4 and
	// seg-N.m4s of GrowingSegment each (keyframes are forced there). The
	// same encode feeds both files (ffmpeg's tee muxer): no second encode.
	HLSDir string
}

// GrowingSegment is the segment duration of an output's growing HLS: short,
// so a player can start soon after the encode does.
const GrowingSegment = 2 * time.Second

// LadderOptions apply to every output of one run.
type LadderOptions struct {
	// KeyframeTimes forces keyframes at these times of the output timeline
	// (the top rendition's segment boundaries, so every rendition cuts at
	// the same places). Empty forces one every 2 s.
	KeyframeTimes []time.Duration
	// Thumbs, when set, makes the poster and storyboard sprites in the same
	// run (the frames are decoded anyway).
	Thumbs *Thumbs
	// Threads bounds the threads ffmpeg uses to decode, filter and encode
	// each output. 0 lets ffmpeg choose (about one per core).
	Threads int
}

// Thumbs asks for a poster and storyboard sprite sheets.
type Thumbs struct {
	Plan thumbs.Storyboard
	// PosterPath is the poster JPEG to write.
	PosterPath string
	// SpritePattern names the sprite sheets, with one %d for the sheet
	// number from 0, e.g. "/tmp/x/sprite-%d.jpg".
	SpritePattern string
}

// Encode transcodes input into one faststart H.264/AAC MP4 at out.
func (c Config) Encode(ctx context.Context, input string, src *Source, out string, r Rung, progress func(float64)) error {
	return c.EncodeLadder(ctx, input, src, []Output{{Path: out, Rung: r}}, LadderOptions{}, progress)
}

// EncodeLadder encodes every output in one ffmpeg run: the source is read
// and decoded once, split, and each copy scaled and encoded; so a ladder
// costs one decode, not one per rung. progress gets the fraction done.
func (c Config) EncodeLadder(ctx context.Context, input string, src *Source, outs []Output, opt LadderOptions, progress func(float64)) error {
	for _, o := range outs {
		if o.AudioTrack != 0 && src.audioFor(o) == nil {
			return fmt.Errorf("output %s: the source has no audio track %d (it has %d)", o.Rung.Name, o.AudioTrack, len(src.AudioTracks))
		}
	}
	c = c.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	return c.run(ctx, LadderArgs(input, src, outs, opt), src.Duration, progress)
}

// LadderArgs is the ffmpeg command line (without the program name) that
// EncodeLadder runs: benchmarks time the same command run by hand.
func LadderArgs(input string, src *Source, outs []Output, opt LadderOptions) []string {
	args := []string{"-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:1", "-y"}
	threads := []string{}
	if opt.Threads > 0 {
		n := strconv.Itoa(opt.Threads)
		threads = []string{"-threads", n}
		args = append(args, "-threads", n, "-filter_complex_threads", n)
	}
	args = append(args, "-i", input)
	var video []int
	for i, o := range outs {
		if !o.AudioOnly && src.Video != nil {
			video = append(video, i)
		}
	}
	th := opt.Thumbs
	if src.Video == nil {
		th = nil
	}
	if branches := len(video) + 2*boolInt(th != nil); branches > 0 {
		// One decode, split into one branch per output. Scaling works on the
		// upright picture: ffmpeg applies the source's rotation first.
		// Interlaced video is deinterlaced once, before the split.
		var graph strings.Builder
		fmt.Fprintf(&graph, "[%s]", src.videoSpec())
		if src.Video.Interlaced() {
			graph.WriteString(deinterlaceFilter + ",")
		}
		fmt.Fprintf(&graph, "split=%d", branches)
		for k := 0; k < branches; k++ {
			fmt.Fprintf(&graph, "[s%d]", k)
		}
		for k, i := range video {
			fmt.Fprintf(&graph, ";[s%d]%s[v%d]", k, scaleFilter(outs[i].Rung.ShortSide), i)
		}
		if th != nil {
			writeThumbGraph(&graph, th.Plan, len(video))
		}
		args = append(args, "-filter_complex", graph.String())
	}
	for i, o := range outs {
		if !o.AudioOnly && src.Video != nil {
			args = append(args, "-map", fmt.Sprintf("[v%d]", i),
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
				"-crf", "21", "-bf", "2", "-sc_threshold", "0", "-force_key_frames", keyframeExpr(opt.KeyframeTimes))
			if o.Rung.VideoBitrate > 0 {
				args = append(args, "-maxrate", strconv.FormatInt(o.Rung.VideoBitrate, 10), "-bufsize", strconv.FormatInt(2*o.Rung.VideoBitrate, 10))
			}
			args = append(args, threads...)
		}
		if a := src.audioFor(o); a != nil {
			channels := o.AudioChannels
			if channels == 0 {
				channels = min(2, max(1, a.Channels))
			}
			bitrate := 64_000 * channels
			if channels > 2 {
				bitrate = 64_000 * (channels - 1) // the LFE channel needs little
			}
			// The stream's tags (language, title) go with it: the language
			// lands in the MP4's mdhd, which the playlists name.
			args = append(args, "-map", src.audioSpec(a), "-af", audioTimingFilter, "-c:a", "aac", "-b:a", strconv.Itoa(bitrate),
				"-ac", strconv.Itoa(channels), "-ar", "48000")
		}
		if o.HLSDir != "" {
			args = append(args, growingOutput(o)...)
			continue
		}
		args = append(args, "-movflags", "+faststart", "-f", "mp4", o.Path)
	}
	if th != nil {
		args = append(args, thumbOutputs(th)...)
	}
	return args
}

// growingOutput writes o to its MP4 and, from the same encoded streams, to
// growing HLS in o.HLSDir (ffmpeg's tee muxer; both formats need the codec
// headers out of band, hence global_header).
func growingOutput(o Output) []string {
	esc := func(p string) string { // tee's own syntax: escape its specials
		return strings.NewReplacer(`\`, `\\`, `|`, `\|`, `[`, `\[`, `]`, `\]`, `:`, `\:`).Replace(p)
	}
	hls := fmt.Sprintf("[f=hls:hls_time=%g:hls_playlist_type=event:hls_segment_type=fmp4:hls_fmp4_init_filename=init.mp4:"+
		"hls_segment_filename=%s:hls_flags=independent_segments+temp_file]%s",
		GrowingSegment.Seconds(), esc(filepath.Join(o.HLSDir, "seg-%d.m4s")), esc(filepath.Join(o.HLSDir, "stream.m3u8")))
	return []string{"-flags", "+global_header", "-f", "tee", "[f=mp4:movflags=+faststart]" + esc(o.Path) + "|" + hls}
}

// audioTimingFilter keeps the audio where the source puts it against the
// picture. Audio that starts after the video (a camera's, a recording's)
// is preceded by silence from the start of the output's timeline: ffmpeg's
// MP4 muxer would otherwise delay it with an edit list that forgets the
// AAC encoder's priming, and place it 21 ms early. Gaps in the source's
// audio (a broadcast recording's) are filled with silence too, so what
// follows them stays in sync.
const audioTimingFilter = "aresample=async=1:first_pts=0"

// deinterlaceFilter turns interlaced frames into progressive ones: bwdif
// (motion adaptive, sharper than yadif), one frame out per frame in, so the
// frame rate, the forced keyframe times and the encode's cost stay as they
// are. Every frame is deinterlaced, not only those flagged interlaced:
// once ffprobe calls the stream interlaced, a frame left combed because of
// a missing flag is worse than a progressive one slightly softened.
const deinterlaceFilter = "bwdif=mode=send_frame:parity=auto:deint=all"

// Thumbnails makes only the poster and storyboard, decoding keyframes only
// (-skip_frame nokey): for sources that need no ladder it is several times
// faster than decoding every frame, and storyboard tiles a few seconds
// apart do not need frame accuracy.
func (c Config) Thumbnails(ctx context.Context, input string, src *Source, th Thumbs) error {
	c = c.withDefaults()
	if src.Video == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var graph strings.Builder
	fmt.Fprintf(&graph, "[%s]split=2[s0][s1]", src.videoSpec())
	writeThumbGraph(&graph, th.Plan, 0)
	args := []string{"-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:1", "-y",
		"-skip_frame", "nokey", "-i", input, "-filter_complex", graph.String()}
	args = append(args, thumbOutputs(&th)...)
	return c.run(ctx, args, src.Duration, nil)
}

// writeThumbGraph adds the poster branch [s<first>] → [poster] and the
// storyboard branch [s<first+1>] → [sprites].
func writeThumbGraph(graph *strings.Builder, p thumbs.Storyboard, first int) {
	fmt.Fprintf(graph, ";[s%d]select='gte(t,%.3f)',scale=%d:%d,setsar=1[poster]", first, p.PosterAt.Seconds(), p.PosterW, p.PosterH)
	fmt.Fprintf(graph, ";[s%d]fps=1/%.3f,scale=%d:%d,setsar=1,tile=%dx%d[sprites]",
		first+1, p.Interval.Seconds(), p.Width, p.Height, p.Columns, p.Rows)
}

func thumbOutputs(th *Thumbs) []string {
	return []string{
		"-map", "[poster]", "-frames:v", "1", "-q:v", "3", "-update", "1", th.PosterPath,
		"-map", "[sprites]", "-q:v", "5", "-start_number", "0", th.SpritePattern,
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scaleFilter scales so the shorter side is shortSide (never up), keeping
// the display aspect, with square pixels and even dimensions (H.264 4:2:0
// needs them).
func scaleFilter(shortSide int) string {
	if shortSide <= 0 {
		return "scale=trunc(iw*sar/2)*2:trunc(ih/2)*2,setsar=1"
	}
	// Each side is computed from the other with the display aspect
	// (iw·sar/ih): ffmpeg's -2 would use the storage aspect and squash
	// anamorphic video.
	s := strconv.Itoa(shortSide)
	landscape := "gte(iw*sar,ih)"
	w := "if(" + landscape + ",trunc(oh*iw*sar/ih/2)*2,min(" + s + ",trunc(iw*sar/2)*2))"
	h := "if(" + landscape + ",min(" + s + ",trunc(ih/2)*2),trunc(ow*ih/(iw*sar)/2)*2)"
	return "scale=w='" + w + "':h='" + h + "',setsar=1"
}

func (c Config) run(ctx context.Context, args []string, duration time.Duration, progress func(float64)) error {
	cmd := exec.CommandContext(ctx, c.FFmpeg, args...)
	stderr := &tailBuffer{max: 8192}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	readProgress(stdout, duration, progress)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ffmpeg stopped: %w", ctx.Err())
		}
		return explain(stderr.String(), fmt.Errorf("ffmpeg: %w: %s", err, stderr.String()))
	}
	return nil
}

func keyframeExpr(times []time.Duration) string {
	if len(times) == 0 {
		return "expr:gte(t,n_forced*2)"
	}
	parts := make([]string, len(times))
	for i, t := range times {
		parts[i] = strconv.FormatFloat(t.Seconds(), 'f', 6, 64)
	}
	return strings.Join(parts, ",")
}

// readProgress follows ffmpeg's -progress output (key=value lines).
func readProgress(r io.Reader, total time.Duration, progress func(float64)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "out_time_us=")
		if !ok || progress == nil || total <= 0 {
			continue
		}
		if us, err := strconv.ParseInt(v, 10, 64); err == nil {
			progress(min(1, max(0, float64(us)/float64(total.Microseconds()))))
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// explain turns what ffmpeg said about a bad input into a sentence.
func explain(stderr string, err error) error {
	switch {
	case strings.Contains(stderr, "Invalid data found when processing input"),
		strings.Contains(stderr, "could not find codec parameters"),
		strings.Contains(stderr, "moov atom not found"):
		return &packager.InputError{Reason: "The file is not a video Streamfront can read: no audio or video could be decoded from it. Check that it is a complete video file.", Err: err}
	case strings.Contains(stderr, "does not contain any stream"), strings.Contains(stderr, "Output file #0 does not contain any stream"):
		return &packager.InputError{Reason: "The file has no video or audio stream that can be played.", Err: err}
	case strings.Contains(stderr, "Decoder (codec"), strings.Contains(stderr, "no decoder found"):
		// "Decoder (codec none) not found for input stream #0:0"
		return &packager.InputError{Reason: "The file uses a codec Streamfront cannot decode. Export it as H.264, HEVC or ProRes 422 with AAC or PCM audio and upload it again.", Err: err}
	}
	return err
}

// tailBuffer keeps the last max bytes written (ffmpeg can be chatty).
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return strings.TrimSpace(string(t.buf)) }
