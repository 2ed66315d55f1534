package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Video describes a clip for ffmpeg to synthesise. Zero fields take the
// defaults noted.
type Video struct {
	Name     string  // file name; defaults to "clip.mp4"
	Seconds  float64 // defaults to 10
	Width    int     // defaults to 640
	Height   int     // defaults to 360
	FPS      int     // defaults to 25
	GOP      int     // keyframe interval in frames; defaults to 2 s worth
	VCodec   string  // ffmpeg encoder: "libx264" (default), "libx265", "libvpx-vp9", "none"
	Profile  string  // x264 profile; defaults to "high" (B-frames on)
	ACodec   string  // "aac" (default), "libopus", "none"
	Channels int     // audio channels; defaults to 2
	// Faststart puts the moov first. The default leaves it at the end, as
	// cameras and ffmpeg do, which is the harder case.
	Faststart bool
	Extra     []string // extra output options, before the file name
	// Rotate records a display rotation (degrees), as phones do. ffmpeg 5
	// only writes it when copying streams, so it is a second, copying pass.
	Rotate int
}

// MakeVideo renders v into dir with ffmpeg (test pattern + tone) and returns
// the file's path.
func MakeVideo(t testing.TB, dir string, v Video) string {
	t.Helper()
	ffmpeg := Require(t, "ffmpeg")
	if v.Name == "" {
		v.Name = "clip.mp4"
	}
	if v.Seconds == 0 {
		v.Seconds = 10
	}
	if v.Width == 0 {
		v.Width, v.Height = 640, 360
	}
	if v.FPS == 0 {
		v.FPS = 25
	}
	if v.GOP == 0 {
		v.GOP = 2 * v.FPS
	}
	if v.VCodec == "" {
		v.VCodec = "libx264"
	}
	if v.ACodec == "" {
		v.ACodec = "aac"
	}
	if v.Channels == 0 {
		v.Channels = 2
	}
	dur := strconv.FormatFloat(v.Seconds, 'f', 3, 64)
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	if v.VCodec != "none" {
		args = append(args, "-f", "lavfi", "-i",
			fmt.Sprintf("testsrc2=size=%dx%d:rate=%d:duration=%s", v.Width, v.Height, v.FPS, dur))
	}
	if v.ACodec != "none" {
		args = append(args, "-f", "lavfi", "-i",
			fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%s", dur))
	}
	switch v.VCodec {
	case "none":
		args = append(args, "-vn")
	case "libx264":
		profile := v.Profile
		if profile == "" {
			profile = "high"
		}
		args = append(args, "-c:v", "libx264", "-profile:v", profile, "-preset", "veryfast",
			"-pix_fmt", "yuv420p", "-g", strconv.Itoa(v.GOP), "-keyint_min", strconv.Itoa(v.GOP), "-sc_threshold", "0")
		if profile != "baseline" {
			args = append(args, "-bf", "2")
		}
	case "libx265":
		args = append(args, "-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-pix_fmt", "yuv420p",
			"-x265-params", fmt.Sprintf("keyint=%d:min-keyint=%d:log-level=error", v.GOP, v.GOP))
	default:
		args = append(args, "-c:v", v.VCodec, "-g", strconv.Itoa(v.GOP))
	}
	switch v.ACodec {
	case "none":
		args = append(args, "-an")
	default:
		args = append(args, "-c:a", v.ACodec, "-ac", strconv.Itoa(v.Channels), "-b:a", "128k")
	}
	if v.Faststart {
		args = append(args, "-movflags", "+faststart")
	}
	args = append(args, v.Extra...)
	out := filepath.Join(dir, v.Name)
	args = append(args, out)
	cmd := exec.Command(ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg could not make fixture %s: %v\n%s", v.Name, err, stderr.String())
	}
	if v.Rotate != 0 {
		rotated := filepath.Join(dir, "rotated-"+v.Name)
		cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", out, "-map", "0", "-c", "copy",
			"-metadata:s:v:0", "rotate="+strconv.Itoa(v.Rotate), rotated)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("ffmpeg could not rotate fixture %s: %v\n%s", v.Name, err, stderr.String())
		}
		if err := os.Rename(rotated, out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Decode is the independent judge of a stream: ffmpeg must decode input
// (a file or URL; HLS included) with an empty error log. It returns the
// decoded duration in seconds.
func Decode(t testing.TB, input string) float64 {
	t.Helper()
	ffmpeg := Require(t, "ffmpeg")
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", input, "-f", "null", "-progress", "pipe:1", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg failed on %s: %v\n%s", input, err, stderr.String())
	}
	for line := range strings.Lines(stderr.String()) {
		// ffmpeg's HLS demuxer reuses one keep-alive connection for every
		// media playlist it loads at start; when they live on different
		// hosts (a content-steered master lists a copy per edge) it logs
		// this at error level and opens a new connection. It is not a
		// decoding error; anything else is.
		if !strings.Contains(line, "Cannot reuse HTTP connection for different host") {
			t.Fatalf("ffmpeg reported errors decoding %s:\n%s", input, stderr.String())
		}
	}
	last := 0.0
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "out_time_us="); ok {
			if us, err := strconv.ParseFloat(v, 64); err == nil {
				last = us / 1e6
			}
		}
	}
	return last
}
