package transcode

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LiveRung is one rendition of a live ladder: its picture size, bitrate
// cap, and the RTMP URL it is published to.
type LiveRung struct {
	Name          string
	Width, Height int
	VideoBitrate  int64
	URL           string
}

// PlanLiveLadder chooses the rungs of a live source of width×height from
// ladder: those meaningfully below the source (which is served as it is),
// each at the source's aspect with even sides. url gives each rung's
// publish URL by name.
func PlanLiveLadder(ladder []Rung, width, height int, url func(name string) string) []LiveRung {
	short, long := min(width, height), max(width, height)
	if short <= 0 {
		return nil
	}
	var out []LiveRung
	for _, r := range ChooseLadder(ladder, short, 0, true) {
		if r.ShortSide <= 0 {
			continue
		}
		s := r.ShortSide / 2 * 2
		l := (long*r.ShortSide/short + 1) / 2 * 2
		w, h := l, s
		if width < height {
			w, h = s, l
		}
		out = append(out, LiveRung{Name: r.Name, Width: w, Height: h, VideoBitrate: r.VideoBitrate, URL: url(r.Name)})
	}
	return out
}

// LiveOptions tunes a live ladder's encode.
type LiveOptions struct {
	// Preset is x264's preset. It defaults to "veryfast"; tests use
	// "ultrafast".
	Preset string
	// Threads bounds ffmpeg's threads; 0 lets it choose.
	Threads int
	// ReadTimeout ends ffmpeg when the source sends nothing for that long.
	// It defaults to 15 s.
	ReadTimeout time.Duration
}

// LiveLadderArgs are ffmpeg's arguments to read a live source's video
// from input (RTMP) and publish every rung over RTMP, for as long as the
// source lasts. The source's video is decoded once and scaled per rung.
// Timestamps are kept (-copyts, no frame dropped or duplicated), so every
// rung is on the source's timeline, and each rung has a keyframe where the
// source has one, so the rungs' segments are cut where the source's are.
// x264's zerolatency tuning (no B-frames, no look-ahead) keeps the rungs'
// lag to the encode itself. There is no audio: players take the source's.
func LiveLadderArgs(input string, rungs []LiveRung, opt LiveOptions) []string {
	preset := opt.Preset
	if preset == "" {
		preset = "veryfast"
	}
	timeout := opt.ReadTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	args := []string{"-nostdin", "-hide_banner", "-v", "error",
		"-rw_timeout", strconv.FormatInt(timeout.Microseconds(), 10),
		"-fflags", "nobuffer", "-i", input, "-copyts"}
	if opt.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(opt.Threads))
	}
	var graph strings.Builder
	fmt.Fprintf(&graph, "[0:v]split=%d", len(rungs))
	for i := range rungs {
		fmt.Fprintf(&graph, "[s%d]", i)
	}
	for i, r := range rungs {
		fmt.Fprintf(&graph, ";[s%d]scale=%d:%d,setsar=1[v%d]", i, r.Width, r.Height, i)
	}
	args = append(args, "-filter_complex", graph.String())
	for i, r := range rungs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i),
			"-c:v", "libx264", "-preset", preset, "-tune", "zerolatency", "-pix_fmt", "yuv420p",
			"-force_key_frames", "source", "-sc_threshold", "0", "-g", "1000",
			"-fps_mode", "passthrough")
		if r.VideoBitrate > 0 {
			b := strconv.FormatInt(r.VideoBitrate, 10)
			args = append(args, "-b:v", b, "-maxrate", b, "-bufsize", strconv.FormatInt(r.VideoBitrate*2, 10))
		}
		args = append(args, "-an", "-f", "flv", r.URL)
	}
	return args
}
