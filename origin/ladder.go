package origin

import (
	"fmt"

	"github.com/streamfront/streamfront/packager/transcode"
)

// chooseLadder picks the rungs to encode for a source whose upright picture
// has the given shorter side and video bitrate (0 if unknown). Rungs are
// never above the source's resolution, and their bitrate caps never above
// the source's. With the source served as it is on top (remuxed H.264),
// only rungs meaningfully below it are encoded; otherwise (a transcode, or
// HEVC that not every browser plays) the ladder also includes a rung at the
// source's own size when no configured rung is close to it.
func chooseLadder(ladder []transcode.Rung, short int, bitrate int64, topServed bool) []transcode.Rung {
	var out []transcode.Rung
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
		return []transcode.Rung{{Name: fmt.Sprintf("%dp", short/2*2)}}
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
		top := transcode.Rung{Name: fmt.Sprintf("%dp", short/2*2), ShortSide: short / 2 * 2}
		for _, r := range ladder { // the bitrate of the smallest rung at or above it
			if r.ShortSide >= short && (top.VideoBitrate == 0 || r.VideoBitrate < top.VideoBitrate) {
				top.VideoBitrate = r.VideoBitrate
			}
		}
		if bitrate > 0 && (top.VideoBitrate == 0 || bitrate < top.VideoBitrate) {
			top.VideoBitrate = bitrate
		}
		out = append([]transcode.Rung{top}, out...)
	}
	return out
}
