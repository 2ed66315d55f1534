package index

import (
	"fmt"
	"math"
	"time"
)

// Plan cuts the segments of every track. The reference track (video when
// there is one) is cut on keyframes, each cut at the keyframe nearest to
// target after the previous cut, so segments stay close to target while
// always starting on a keyframe; a GOP longer than target makes segments as
// long as the GOP. Every other track is cut at the reference's cut times,
// so segment n of every playlist covers the same stretch of the timeline.
func (ix *Index) Plan(target time.Duration) error {
	ref := ix.reference()
	if ref == nil {
		return fmt.Errorf("%w: no tracks", ErrCorrupt)
	}
	if len(ref.Samples) == 0 {
		return ErrEmpty
	}
	cuts := cutNearTarget(ref, target)
	ref.setSegments(cuts)
	return ix.PlanAt(ix.Boundaries())
}

// PlanAt cuts every track at the given presentation times (the first is the
// start): video on the keyframe nearest each time, audio on the nearest
// sample. Ladder renditions encoded with keyframes forced at the top
// rendition's boundaries use this to get identical segment boundaries.
func (ix *Index) PlanAt(boundaries []time.Duration) error {
	for _, t := range ix.Tracks {
		if len(t.Samples) == 0 {
			return ErrEmpty
		}
		if t == ix.reference() && len(t.Segments) > 0 && sameBoundaries(t, boundaries) {
			continue
		}
		t.setSegments(t.cutsAt(boundaries))
	}
	return nil
}

// Boundaries returns the presentation times where the reference track's
// segments start.
func (ix *Index) Boundaries() []time.Duration {
	ref := ix.reference()
	if ref == nil {
		return nil
	}
	out := make([]time.Duration, len(ref.Segments))
	for n := range ref.Segments {
		out[n] = ref.ticks(ref.SegmentStart(n))
	}
	return out
}

func (ix *Index) reference() *Track {
	if v := ix.Track(Video); v != nil {
		return v
	}
	if len(ix.Tracks) > 0 {
		return ix.Tracks[0]
	}
	return nil
}

func sameBoundaries(t *Track, b []time.Duration) bool {
	if len(t.Segments) != len(b) {
		return false
	}
	for n := range t.Segments {
		if t.ticks(t.SegmentStart(n)) != b[n] {
			return false
		}
	}
	return true
}

// decodeTimes returns each sample's decode time.
func (t *Track) decodeTimes() []int64 {
	dts := make([]int64, len(t.Samples))
	d := t.StartDTS
	for i, s := range t.Samples {
		dts[i] = d
		d += int64(s.Dur)
	}
	return dts
}

// cutNearTarget returns the first sample of each segment of t. Cuts aim at
// a fixed grid (start + k·target) rather than at target after the previous
// cut, so the keyframe chosen each time does not make segments drift short
// or long: their average stays at target. Each cut is the keyframe nearest
// its grid point, and no segment is shorter than half the target.
func cutNearTarget(t *Track, target time.Duration) []int {
	dts := t.decodeTimes()
	pts := func(i int) int64 { return dts[i] + int64(t.Samples[i].CTO) }
	tgt := max(1, int64(target.Seconds()*float64(t.Timescale)))
	origin := pts(0)
	cuts := []int{0}
	k := int64(1)
	prev := -1 // the last keyframe before the grid point: a candidate cut
	for i := 1; i < len(t.Samples); i++ {
		if !t.Samples[i].Sync {
			continue
		}
		last := pts(cuts[len(cuts)-1])
		for origin+k*tgt <= last+tgt/2 {
			k++ // grid points passed by a long GOP are skipped
		}
		grid := origin + k*tgt
		if pts(i) < grid {
			if pts(i)-last >= tgt/2 {
				prev = i
			}
			continue
		}
		if prev >= 0 && grid-pts(prev) < pts(i)-grid {
			// The earlier keyframe is nearer the grid point: cut there, then
			// look at this keyframe again from the new cut.
			cuts = append(cuts, prev)
			prev = -1
			i--
			continue
		}
		cuts = append(cuts, i)
		prev = -1
	}
	return cuts
}

// cutsAt returns the first sample of each segment when t is cut at the
// given presentation times. Times beyond the track's end are dropped.
func (t *Track) cutsAt(boundaries []time.Duration) []int {
	dts := t.decodeTimes()
	cuts := []int{0}
	for _, b := range boundaries[min(1, len(boundaries)):] {
		want := int64(math.Round(b.Seconds() * float64(t.Timescale)))
		best, bestDist := -1, int64(math.MaxInt64)
		for i := cuts[len(cuts)-1] + 1; i < len(t.Samples); i++ {
			s := t.Samples[i]
			if t.Kind == Video && !s.Sync {
				continue
			}
			p := dts[i] + int64(s.CTO)
			dist := p - want
			if dist < 0 {
				dist = -dist
			}
			if dist < bestDist {
				best, bestDist = i, dist
			}
			if p > want {
				break // samples are in decode order; keyframe times only grow
			}
		}
		if best < 0 {
			break
		}
		cuts = append(cuts, best)
	}
	return cuts
}

func (t *Track) setSegments(cuts []int) {
	dts := t.decodeTimes()
	t.Segments = make([]SegmentRef, len(cuts))
	for n, c := range cuts {
		t.Segments[n] = SegmentRef{First: uint32(c), DTS: dts[c]}
	}
}
