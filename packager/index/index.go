package index

import (
	"errors"
	"fmt"
	"time"
)

// Kind says what a track carries.
type Kind uint8

// Track kinds.
const (
	Video Kind = 1
	Audio Kind = 2
)

func (k Kind) String() string {
	switch k {
	case Video:
		return "video"
	case Audio:
		return "audio"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Index describes one rendition file.
type Index struct {
	Tracks []*Track
}

// Track is one elementary stream of the rendition.
type Track struct {
	Kind      Kind
	Codec     string // RFC 6381 codec, e.g. "avc1.64001f", "mp4a.40.2"
	Timescale uint32 // ticks per second of every time below
	Language  string // ISO 639-2/T, "und" when unknown

	Width, Height uint16 // video: coded picture size
	SampleRate    uint32 // audio
	Channels      uint16 // audio

	// SampleEntry is the encoded stsd child box (avc1, hvc1, mp4a…): init
	// segments are built from it.
	SampleEntry []byte

	// StartDTS is the output decode time of the first sample, edit list and
	// global alignment already applied.
	StartDTS int64
	Samples  []Sample
	// Segments is the segment plan: segment n holds Samples[Segments[n].First :
	// Segments[n+1].First] (the last one runs to the end).
	Segments []SegmentRef
}

// Sample is one access unit.
type Sample struct {
	Offset int64  // byte offset in the rendition file
	Size   uint32 // bytes
	Dur    uint32 // decode duration in ticks
	CTO    int32  // composition offset in ticks, signed (edit list baked in)
	Sync   bool   // a keyframe: decoding can start here
}

// SegmentRef is where a segment starts.
type SegmentRef struct {
	First uint32 // index of its first sample
	DTS   int64  // decode time of that sample
}

// Errors of Decode and of index construction.
var (
	ErrCorrupt = errors.New("index: corrupt")
	ErrEmpty   = errors.New("index: track has no samples")
)

// SegmentRange returns the sample range [first, end) of segment n.
func (t *Track) SegmentRange(n int) (first, end int) {
	first = int(t.Segments[n].First)
	end = len(t.Samples)
	if n+1 < len(t.Segments) {
		end = int(t.Segments[n+1].First)
	}
	return first, end
}

// EndDTS is the decode time just after the last sample.
func (t *Track) EndDTS() int64 {
	if len(t.Segments) == 0 {
		return t.StartDTS
	}
	last := t.Segments[len(t.Segments)-1]
	dts := last.DTS
	for _, s := range t.Samples[last.First:] {
		dts += int64(s.Dur)
	}
	return dts
}

// SegmentStart is the presentation time (ticks) where segment n starts:
// the earliest composition time among its samples.
func (t *Track) SegmentStart(n int) int64 {
	first, end := t.SegmentRange(n)
	dts := t.Segments[n].DTS
	earliest := int64(1<<63 - 1)
	for _, s := range t.Samples[first:end] {
		if pts := dts + int64(s.CTO); pts < earliest {
			earliest = pts
		}
		dts += int64(s.Dur)
	}
	return earliest
}

// PresentationEnd is the presentation time (ticks) just after the last
// presented sample.
func (t *Track) PresentationEnd() int64 {
	dts := t.StartDTS
	end := int64(-1 << 63)
	for _, s := range t.Samples {
		if e := dts + int64(s.CTO) + int64(s.Dur); e > end {
			end = e
		}
		dts += int64(s.Dur)
	}
	return end
}

// SegmentDuration is segment n's presented length: from its start to the
// next segment's start (or the track's end).
func (t *Track) SegmentDuration(n int) time.Duration {
	start := t.SegmentStart(n)
	var end int64
	if n+1 < len(t.Segments) {
		end = t.SegmentStart(n + 1)
	} else {
		end = t.PresentationEnd()
	}
	return t.ticks(end - start)
}

// SegmentBytes is the media payload of segment n (sum of sample sizes).
func (t *Track) SegmentBytes(n int) int64 {
	first, end := t.SegmentRange(n)
	var total int64
	for _, s := range t.Samples[first:end] {
		total += int64(s.Size)
	}
	return total
}

// Duration is the track's presented length.
func (t *Track) Duration() time.Duration {
	if len(t.Samples) == 0 {
		return 0
	}
	return t.ticks(t.PresentationEnd() - t.SegmentStart(0))
}

// FrameRate is the average number of samples per second (video).
func (t *Track) FrameRate() float64 {
	d := t.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(len(t.Samples)) / d
}

// Bitrates returns the peak and average bits per second over segments.
func (t *Track) Bitrates() (peak, average int64) {
	var bytes int64
	var secs float64
	for n := range t.Segments {
		b := t.SegmentBytes(n)
		d := t.SegmentDuration(n).Seconds()
		bytes += b
		secs += d
		if d > 0 {
			if r := int64(float64(b*8) / d); r > peak {
				peak = r
			}
		}
	}
	if secs > 0 {
		average = int64(float64(bytes*8) / secs)
	}
	if peak < average {
		peak = average
	}
	return peak, average
}

func (t *Track) ticks(n int64) time.Duration {
	if t.Timescale == 0 {
		return 0
	}
	return time.Duration(float64(n) / float64(t.Timescale) * float64(time.Second))
}

// Track returns the first track of kind k, or nil.
func (ix *Index) Track(k Kind) *Track {
	for _, t := range ix.Tracks {
		if t.Kind == k {
			return t
		}
	}
	return nil
}

// VideoStart is when the first video frame is presented (0 without video).
func (ix *Index) VideoStart() time.Duration {
	t := ix.Track(Video)
	if t == nil || len(t.Segments) == 0 {
		return 0
	}
	return time.Duration(float64(t.SegmentStart(0)) / float64(t.Timescale) * float64(time.Second))
}

// Duration is the longest track's presented length.
func (ix *Index) Duration() time.Duration {
	var d time.Duration
	for _, t := range ix.Tracks {
		d = max(d, t.Duration())
	}
	return d
}

// Validate checks the invariants every consumer relies on; Decode calls it,
// so an index from S3 that passes can be served without further checks.
func (ix *Index) Validate() error {
	if len(ix.Tracks) == 0 {
		return fmt.Errorf("%w: no tracks", ErrCorrupt)
	}
	for i, t := range ix.Tracks {
		if t.Kind != Video && t.Kind != Audio {
			return fmt.Errorf("%w: track %d has unknown kind %d", ErrCorrupt, i, t.Kind)
		}
		if t.Timescale == 0 {
			return fmt.Errorf("%w: track %d has timescale 0", ErrCorrupt, i)
		}
		if len(t.Samples) == 0 {
			return fmt.Errorf("track %d: %w", i, ErrEmpty)
		}
		if len(t.Segments) == 0 || t.Segments[0].First != 0 {
			return fmt.Errorf("%w: track %d segment plan does not start at sample 0", ErrCorrupt, i)
		}
		for n := 1; n < len(t.Segments); n++ {
			if t.Segments[n].First <= t.Segments[n-1].First || int(t.Segments[n].First) >= len(t.Samples) {
				return fmt.Errorf("%w: track %d segment %d is out of order", ErrCorrupt, i, n)
			}
		}
		for j, s := range t.Samples {
			if s.Offset < 0 || s.Offset > 1<<50 {
				return fmt.Errorf("%w: track %d sample %d has offset %d", ErrCorrupt, i, j, s.Offset)
			}
		}
	}
	return nil
}
