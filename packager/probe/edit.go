package probe

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamfront/streamfront/packager/index"
)

// edit is a track's edit list in the one shape the remuxer bakes into
// timestamps: an optional empty edit (a delay) then one edit from media
// time Skip at normal rate. Anything richer is re-encoded by ffmpeg, which
// applies edit lists itself.
type edit struct {
	Delay int64 // ticks of the track's timescale before the media starts
	Skip  int64 // media ticks not presented (encoder delay, AAC priming)
}

var errComplexEdit = errors.New("the track's edit list is re-encoded to apply it")

func readEdit(trak *mp4.TrakBox, movieScale, trackScale uint32) (edit, error) {
	var e edit
	if trak.Edts == nil || len(trak.Edts.Elst) == 0 {
		return e, nil
	}
	media := 0
	for _, entry := range trak.Edts.Elst[0].Entries {
		switch {
		case entry.MediaTime == -1 && media == 0:
			if movieScale == 0 {
				return e, errComplexEdit
			}
			e.Delay += int64(float64(entry.SegmentDuration) * float64(trackScale) / float64(movieScale))
		case entry.MediaTime >= 0 && entry.MediaRateInteger == 1 && media == 0:
			e.Skip = entry.MediaTime
			media++
		default:
			return edit{}, errComplexEdit
		}
	}
	return e, nil
}

// bakeEdits rewrites timing so that each sample is presented exactly when
// the edit list says, with no edit list left to apply: browsers ignore edit
// lists under MSE.
//
// A sample's presentation time is DTS + CTO - Skip + Delay. Composition
// offsets are kept non-negative (each track's smallest offset m is taken
// out of all of them and added to the decode times instead): negative
// offsets need trun version 1, and players disagree on how to place them
// (ffmpeg shifts presentation a frame later than Chromium does). Then every
// track moves by one amount of time, shift, so the first video frame is
// presented at videoStart — or, with no video, so the edit list's time zero
// (where an audio track's content begins, after its priming) is. Audio-only
// renditions made beside a video therefore line up with it. A/V sync is
// unchanged, to one tick. If the file needs more room than videoStart
// (B-frame delay or audio leading the video by more), shift is the least
// that keeps every time at or above zero.
func bakeEdits(tracks []*index.Track, edits []edit, videoStart time.Duration) {
	offsets := make([]int64, len(tracks)) // DTS' = DTS + offset (+ shift)
	mins := make([]int32, len(tracks))
	needed := 0.0 // seconds of shift that keep every decode time >= 0
	videoFirst := math.NaN()
	for i, t := range tracks {
		m := int32(math.MaxInt32)
		for _, s := range t.Samples {
			m = min(m, s.CTO)
		}
		mins[i] = m
		offsets[i] = int64(m) - edits[i].Skip + edits[i].Delay
		needed = max(needed, float64(-offsets[i])/float64(t.Timescale))
		if t.Kind == index.Video && math.IsNaN(videoFirst) {
			first := int64(math.MaxInt64)
			dts := offsets[i]
			for _, s := range t.Samples {
				first = min(first, dts+int64(s.CTO-m))
				dts += int64(s.Dur)
			}
			videoFirst = float64(first) / float64(t.Timescale)
		}
	}
	if math.IsNaN(videoFirst) {
		videoFirst = 0 // no video: place the edit list's time zero
	}
	shift := max(needed, videoStart.Seconds()-videoFirst)
	for i, t := range tracks {
		t.StartDTS = offsets[i] + int64(math.Round(shift*float64(t.Timescale)))
		if t.StartDTS < 0 {
			t.StartDTS = 0 // rounding only: at most one tick
		}
		for j := range t.Samples {
			t.Samples[j].CTO -= mins[i]
		}
	}
}

func (e edit) String() string { return fmt.Sprintf("delay %d skip %d", e.Delay, e.Skip) }
