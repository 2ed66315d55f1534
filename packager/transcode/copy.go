package transcode

import (
	"context"
)

// Copyable reports whether src's streams can be served as they are once
// they sit in an MP4: H.264 (8-bit 4:2:0, as browsers decode it) or HEVC
// video, progressive and shown as stored (no rotation to apply), and AAC
// audio. MKV, WebM or fragmented MP4 uploads of such streams then need a
// stream copy, seconds, instead of an encode.
func (s *Source) Copyable() bool {
	if s.Video == nil && s.Audio == nil {
		return false
	}
	if v := s.Video; v != nil {
		if v.Rotation%360 != 0 || v.Interlaced() {
			return false // it must be turned upright, or deinterlaced
		}
		switch v.Codec {
		case "h264":
			// 10-bit, 4:2:2 and 4:4:4 H.264 is not played by browsers.
			if v.PixFmt != "" && v.PixFmt != "yuv420p" && v.PixFmt != "yuvj420p" {
				return false
			}
		case "hevc":
			// Served to the players that take HEVC, beside an H.264 ladder.
		default:
			return false
		}
	}
	return s.Audio == nil || s.Audio.Codec == "aac"
}

// CopyToMP4 writes input's first video and first audio stream, not
// re-encoded, into a faststart MP4 at out.
func (c Config) CopyToMP4(ctx context.Context, input string, src *Source, out string, progress func(float64)) error {
	c = c.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	return c.run(ctx, CopyArgs(input, src, out), src.Duration, progress)
}

// CopyArgs is the ffmpeg command line (without the program name) that
// CopyToMP4 runs.
func CopyArgs(input string, src *Source, out string) []string {
	args := []string{"-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:1", "-y", "-i", input}
	if v := src.Video; v != nil {
		args = append(args, "-map", src.videoSpec())
		if v.Codec == "hevc" {
			args = append(args, "-tag:v", "hvc1") // the HEVC sample entry Apple's players require
		}
	}
	if src.Audio != nil {
		args = append(args, "-map", src.audioSpec(src.Audio))
	}
	return append(args, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", out)
}
