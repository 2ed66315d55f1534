package transcode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/packager"
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
	Video    *Stream
	Audio    *Stream
}

// Stream is one elementary stream.
type Stream struct {
	Codec    string
	Width    int
	Height   int
	Rotation int
	Channels int
	Bitrate  int64
}

type probeJSON struct {
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Streams []struct {
		CodecType   string            `json:"codec_type"`
		CodecName   string            `json:"codec_name"`
		Width       int               `json:"width"`
		Height      int               `json:"height"`
		Channels    int               `json:"channels"`
		BitRate     string            `json:"bit_rate"`
		Tags        map[string]string `json:"tags"`
		Disposition map[string]int    `json:"disposition"`
		SideData    []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
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
	src := &Source{}
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err == nil {
		src.Duration = time.Duration(d * float64(time.Second))
	}
	for _, s := range p.Streams {
		st := &Stream{Codec: s.CodecName, Width: s.Width, Height: s.Height, Channels: s.Channels}
		st.Bitrate, _ = strconv.ParseInt(s.BitRate, 10, 64)
		if r, err := strconv.Atoi(s.Tags["rotate"]); err == nil {
			st.Rotation = r
		}
		for _, sd := range s.SideData {
			if sd.Rotation != 0 {
				st.Rotation = int(-sd.Rotation+360) % 360
			}
		}
		switch {
		case s.CodecType == "video" && src.Video == nil && s.Disposition["attached_pic"] == 0:
			src.Video = st
		case s.CodecType == "audio" && src.Audio == nil:
			src.Audio = st
		}
	}
	if src.Video == nil && src.Audio == nil {
		return nil, &packager.InputError{Reason: "The file has no video or audio stream that can be played."}
	}
	return src, nil
}

// Rendition is one output encoding.
type Rendition struct {
	// MaxHeight scales the picture down to at most this many lines (keeping
	// its aspect); 0 keeps the source's size.
	MaxHeight int
	// VideoBitrate caps the video bitrate (bits/s); 0 lets quality decide.
	VideoBitrate int64
	// KeyframeTimes forces keyframes at these times (segment boundaries of
	// the top rendition, so every rendition cuts at the same places).
	// Empty forces one every 2 s.
	KeyframeTimes []time.Duration
}

// Encode transcodes input into a faststart H.264/AAC MP4 at out. progress
// gets the fraction done, from 0 to 1.
func (c Config) Encode(ctx context.Context, input string, src *Source, out string, r Rendition, progress func(float64)) error {
	c = c.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	args := []string{"-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:1", "-y", "-i", input}
	if src.Video != nil {
		args = append(args, "-map", "0:v:0",
			"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-crf", "21")
		scale := "scale=trunc(iw*sar/2)*2:trunc(ih/2)*2,setsar=1"
		if r.MaxHeight > 0 {
			scale = fmt.Sprintf("scale=-2:'min(%d,trunc(ih/2)*2)',setsar=1", r.MaxHeight)
		}
		args = append(args, "-vf", scale)
		if r.VideoBitrate > 0 {
			args = append(args, "-maxrate", strconv.FormatInt(r.VideoBitrate, 10), "-bufsize", strconv.FormatInt(2*r.VideoBitrate, 10))
		}
		args = append(args, "-force_key_frames", keyframeExpr(r.KeyframeTimes))
	}
	if src.Audio != nil {
		args = append(args, "-map", "0:a:0", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000")
	}
	args = append(args, "-movflags", "+faststart", "-f", "mp4", out)

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
	readProgress(stdout, src.Duration, progress)
	err = cmd.Wait()
	if err != nil {
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
