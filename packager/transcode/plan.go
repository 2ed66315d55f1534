package transcode

import (
	"fmt"
	"time"
)

// ChooseLadder picks the rungs to encode for a source whose upright picture
// has the given shorter side and video bitrate (0 if unknown). Rungs are
// never above the source's resolution, and their bitrate caps never above
// the source's. With the source served as it is on top (remuxed H.264),
// only rungs meaningfully below it are encoded; otherwise (a transcode, or
// HEVC that not every browser plays) the ladder also includes a rung at the
// source's own size when no configured rung is close to it.
func ChooseLadder(ladder []Rung, short int, bitrate int64, topServed bool) []Rung {
	var out []Rung
	for _, r := range ladder {
		if r.ShortSide > short || (topServed && r.ShortSide*10 > short*9) {
			continue
		}
		if bitrate > 0 && r.VideoBitrate > 0 {
			if topServed && r.VideoBitrate*10 > bitrate*9 {
				continue // not meaningfully cheaper than the source itself
			}
			r.VideoBitrate = min(r.VideoBitrate, bitrate)
		}
		out = append(out, r)
	}
	if topServed {
		return out
	}
	if len(out) == 0 && short > 0 && (len(ladder) == 0 || short < ladder[len(ladder)-1].ShortSide) {
		// Nothing configured fits (an empty ladder, or a source smaller
		// than every rung): one rendition at the source's own size.
		return []Rung{{Name: fmt.Sprintf("%dp", short/2*2)}}
	}
	// A rung at the source's size when the nearest one below is well under
	// it (a 600-line source should not top out at 480) — only within the
	// ladder: the top configured rung is the most it encodes.
	largest, ceiling := 0, 0
	for _, r := range out {
		largest = max(largest, r.ShortSide)
	}
	for _, r := range ladder {
		ceiling = max(ceiling, r.ShortSide)
	}
	if short > 0 && short < ceiling && largest*10 < short*9 {
		top := Rung{Name: fmt.Sprintf("%dp", short/2*2), ShortSide: short / 2 * 2}
		for _, r := range ladder { // the bitrate of the smallest rung at or above it
			if r.ShortSide >= short && (top.VideoBitrate == 0 || r.VideoBitrate < top.VideoBitrate) {
				top.VideoBitrate = r.VideoBitrate
			}
		}
		if bitrate > 0 && (top.VideoBitrate == 0 || bitrate < top.VideoBitrate) {
			top.VideoBitrate = bitrate
		}
		out = append([]Rung{top}, out...)
	}
	return out
}

// KeyframeGap is the longest stretch without a keyframe in our encodes:
// players switch quality and seek on keyframes, so a switch shows within
// 2 s rather than at the next segment.
const KeyframeGap = 2 * time.Second

// KeyframeTimes lists where ladder encodes must have keyframes: every
// segment boundary of the source (so all renditions cut at the same
// places) and every KeyframeGap inside each segment. Times are on the
// encode's timeline, which starts at the first video frame (ours at start);
// each is a millisecond early so float rounding cannot push a forced
// keyframe one frame late.
func KeyframeTimes(boundaries []time.Duration, duration, start time.Duration) []time.Duration {
	var out []time.Duration
	for i, b := range boundaries {
		end := start + duration
		if i+1 < len(boundaries) {
			end = boundaries[i+1]
		}
		for t := b; t < end-KeyframeGap/2; t += KeyframeGap {
			out = append(out, max(0, t-start-time.Millisecond))
		}
	}
	return out
}

// ShortSide is the shorter side of the upright picture, 0 without video.
func (s *Source) ShortSide() int {
	if s.Video == nil {
		return 0
	}
	w, h := s.Video.DisplaySize()
	return min(w, h)
}
