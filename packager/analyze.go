package packager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/probe"
)

// Options tune packaging.
type Options struct {
	// SegmentTarget is the segment duration aimed for; segments start on
	// keyframes, so they vary around it. It defaults to 6 s (Apple's HLS
	// authoring recommendation).
	SegmentTarget time.Duration
	// Probe bounds what a probe accepts.
	Probe probe.Options
}

func (o *Options) setDefaults() {
	if o.SegmentTarget == 0 {
		o.SegmentTarget = 6 * time.Second
	}
}

// Analysis is what Analyze learned about a source.
type Analysis struct {
	Media *probe.Media // its MoovBytes is released once the layout is made
	// Transcode lists why the source must be re-encoded; empty means it is
	// served as it is (remuxed).
	Transcode []string
	// NotMP4 means the source is another container (MKV, WebM, AVI…) for
	// ffmpeg to read.
	NotMP4 bool
	// For a remuxable source:
	Layout Layout       // how the faststart rendition is made of the source
	Index  *index.Index // offsets in the rendition, segments planned
}

// Remux reports whether the source is served without re-encoding.
func (a *Analysis) Remux() bool { return !a.NotMP4 && len(a.Transcode) == 0 }

// Analyze probes the source and, when it can be served as it is, prepares
// its faststart layout and its index. A source with a stream that cannot be
// served as it is (ProRes or DNxHD video, PCM audio, 10-bit H.264…) is an
// Analysis whose Transcode says why, even when none of its streams can be.
// Errors that are the file's fault are *InputError.
func Analyze(ctx context.Context, r io.ReaderAt, size int64, opt Options) (*Analysis, error) {
	opt.setDefaults()
	m, err := probe.Probe(ctx, r, size, opt.Probe)
	switch {
	case errors.Is(err, probe.ErrNotMP4), errors.Is(err, probe.ErrFragmented):
		return &Analysis{NotMP4: true}, nil
	case errors.Is(err, probe.ErrDamaged):
		// A complete file whose moov our reader does not understand (e.g.
		// QuickTime's version-1 sound descriptions): ffmpeg may read it, and
		// says so in its own words if it cannot.
		return &Analysis{NotMP4: true, Transcode: []string{err.Error()}}, nil
	case err != nil:
		return nil, explainProbe(err)
	}
	a := &Analysis{Media: m, Transcode: append(m.Transcode, notForBrowsers(m.Index)...)}
	for _, t := range m.Tracks {
		if t.Kind == "video" && t.Rotation != 0 {
			a.Transcode = append(a.Transcode, fmt.Sprintf("the video is rotated %d° and is re-encoded upright", t.Rotation))
		}
	}
	if !a.Remux() {
		return a, nil
	}
	layout, err := faststart(m)
	if err != nil {
		a.Transcode = append(a.Transcode, err.Error())
		return a, nil
	}
	a.Layout = layout
	// The head carries the moov now: a long film's 10 MiB need not be
	// held twice while the origin stores head and index.
	m.MoovBytes = nil
	a.Index = m.Index
	shiftOffsets(a.Index, layout.Delta())
	if err := a.Index.Plan(opt.SegmentTarget); err != nil {
		return nil, explainProbe(fmt.Errorf("%w: %v", probe.ErrDamaged, err))
	}
	return a, nil
}

// IndexRendition probes a rendition file we wrote ourselves (faststart, no
// layout to apply) and plans its segments at the given boundaries, or near
// the target when boundaries is empty. A file with a stream that cannot be
// served as it is (a stream copy of 10-bit or interlaced H.264) is an
// error: it must be encoded instead.
func IndexRendition(ctx context.Context, r io.ReaderAt, size int64, boundaries []time.Duration, opt Options) (*index.Index, error) {
	opt.setDefaults()
	m, err := probe.Probe(ctx, r, size, opt.Probe)
	if err != nil {
		return nil, fmt.Errorf("index rendition: %w", err)
	}
	if why := append(slices.Clone(m.Transcode), notForBrowsers(m.Index)...); len(why) > 0 {
		// A stream copy of what browsers do not play (10-bit H.264, or
		// interlaced H.264 that ffprobe took for progressive) would be
		// indexed without it, or served to players that fail on it: it
		// must be encoded instead.
		return nil, fmt.Errorf("index rendition: it cannot be served as it is: %s", strings.Join(why, "; "))
	}
	if len(boundaries) > 0 {
		err = m.Index.PlanAt(boundaries)
	} else {
		err = m.Index.Plan(opt.SegmentTarget)
	}
	if err != nil {
		return nil, fmt.Errorf("index rendition: %w", err)
	}
	return m.Index, nil
}

func shiftOffsets(ix *index.Index, delta int64) {
	if delta == 0 {
		return
	}
	for _, t := range ix.Tracks {
		for i := range t.Samples {
			t.Samples[i].Offset += delta
		}
	}
}

// notForBrowsers says why tracks of ix that would be served as they are
// cannot be: their codec strings are not decodable by browsers (10-bit,
// 4:2:2 or 4:4:4 H.264, AAC other than LC and HE). HEVC is exempt: it is
// served to the players that take it, beside an H.264 ladder.
func notForBrowsers(ix *index.Index) []string {
	var why []string
	for _, t := range ix.Tracks {
		if strings.HasPrefix(t.Codec, "hvc1.") || strings.HasPrefix(t.Codec, "hev1.") || hls.BrowserDecodable(t.Codec) {
			continue
		}
		switch {
		case t.Kind == index.Video && (strings.HasPrefix(t.Codec, "avc1.") || strings.HasPrefix(t.Codec, "avc3.")):
			why = append(why, fmt.Sprintf("H.264 %s (%s) is not played by browsers and is re-encoded to 8-bit 4:2:0 H.264", h264Profile(t.Codec), t.Codec))
		case t.Kind == index.Video:
			why = append(why, fmt.Sprintf("video codec %s is not played by browsers and is re-encoded to H.264", t.Codec))
		default:
			why = append(why, fmt.Sprintf("audio codec %s is not played by browsers and is re-encoded to AAC", t.Codec))
		}
	}
	return why
}

// h264Profile names the profile of an H.264 codec string (avc1.PPCCLL).
func h264Profile(codec string) string {
	names := map[string]string{
		"42": "Baseline", "4d": "Main", "58": "Extended", "64": "High",
		"6e": "High 10", "7a": "High 4:2:2", "f4": "High 4:4:4 Predictive", "2c": "CAVLC 4:4:4 Intra",
	}
	_, rest, _ := strings.Cut(codec, ".")
	if len(rest) < 2 {
		return "profile unknown"
	}
	if n, ok := names[strings.ToLower(rest[:2])]; ok {
		return n
	}
	return "profile 0x" + rest[:2]
}
