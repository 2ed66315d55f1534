package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mp4box"
)

// Options bound what a probe will accept.
type Options struct {
	// MaxMoovBytes is the largest moov read into memory. A two-hour film's
	// moov is a few MB; this prevents RAM exhaustion by a hostile header.
	// It defaults to 64 MiB.
	MaxMoovBytes int64
	// MaxSamples bounds the samples of one track (allocation guard). It
	// defaults to 20 million (three days at 60 fps).
	MaxSamples int
	// VideoStart is where the first video frame is presented on the output
	// timeline. Every rendition of a video is placed at the same start, so
	// segment n of each one covers the same stretch of the same timeline
	// and players switch between them seamlessly. It leaves room for
	// B-frame delay and AAC priming before it (both would otherwise need
	// negative times). It defaults to 200 ms; when a file needs more room
	// (its audio starts well before its video) it gets what it needs.
	VideoStart time.Duration
}

func (o *Options) setDefaults() {
	if o.MaxMoovBytes == 0 {
		o.MaxMoovBytes = 64 << 20
	}
	if o.MaxSamples == 0 {
		o.MaxSamples = 20_000_000
	}
	if o.VideoStart == 0 {
		o.VideoStart = 200 * time.Millisecond
	}
}

// maxFtypBytes bounds the ftyp kept: real ones list a few brands.
const maxFtypBytes = 4096

// Media is what a probe found.
type Media struct {
	Size  int64        // file size
	Boxes []mp4box.Box // top-level layout
	Moov  mp4box.Box
	// MoovBytes is the raw moov box (header included).
	MoovBytes []byte
	// Ftyp is the raw ftyp box when the file starts with one.
	Ftyp   []byte
	Tracks []TrackInfo
	// Index holds the tracks that will be served (the first video and the
	// first audio track, those of them that can be remuxed), offsets as in
	// this file, edit lists baked in. Its segments are not planned yet. It
	// has no track when neither can be remuxed (ProRes with PCM audio).
	Index *index.Index
	// Transcode lists why the file cannot be served as it is (codec,
	// rotation, edit list…); empty means it can be remuxed.
	Transcode []string

	// unservedEnd is the end of the last sample byte of the tracks that
	// are re-encoded rather than served (see mediaEnd).
	unservedEnd int64
}

// TrackInfo describes one track of the file, served or not.
type TrackInfo struct {
	ID        uint32
	Kind      string // "video", "audio" or the handler type
	Format    string // sample entry fourcc: avc1, hvc1, mp4a…
	Codec     string // RFC 6381 when known
	Width     int
	Height    int
	Rotation  int // degrees clockwise
	Channels  int
	Duration  time.Duration
	Remuxable bool
	Why       string // why not remuxable
	Encrypted bool   // a protected sample entry (encv, enca): nothing can decode it
}

// Errors a probe returns; each is wrapped with detail.
var (
	// ErrNotMP4: the bytes are not an MP4/MOV (maybe another container).
	ErrNotMP4 = errors.New("not an MP4 or MOV file")
	// ErrEmpty: the file has no bytes.
	ErrEmpty = errors.New("the file is empty")
	// ErrNoMoov: the file has no movie header.
	ErrNoMoov = errors.New("no moov")
	// ErrDamaged: the structure is malformed.
	ErrDamaged = errors.New("damaged")
	// ErrNoStreams: nothing to play.
	ErrNoStreams = errors.New("no playable streams")
	// ErrFragmented: a fragmented MP4 (moof), which the remuxer does not read.
	ErrFragmented = errors.New("fragmented MP4")
	// ErrEncrypted: the video or audio is encrypted (DRM); without its key
	// neither we nor ffmpeg can decode it.
	ErrEncrypted = errors.New("encrypted")
)

// TruncatedError means the file ends before its media does.
type TruncatedError struct {
	Percent  float64 // how much of the file arrived
	MoovLost bool    // the cut came before the moov (written at the end)
}

func (e *TruncatedError) Error() string {
	if e.MoovLost {
		return fmt.Sprintf("the file ends early: it was cut at about %.0f %%, before its index (moov)", e.Percent)
	}
	return fmt.Sprintf("the file ends early: it was cut at %.0f %%", e.Percent)
}

// Probe reads r (size bytes) and describes it.
func Probe(ctx context.Context, r io.ReaderAt, size int64, opt Options) (*Media, error) {
	opt.setDefaults()
	if size == 0 {
		return nil, ErrEmpty
	}
	boxes, err := mp4box.ScanTop(r, size)
	var trunc *mp4box.TruncatedError
	switch {
	case errors.Is(err, mp4box.ErrNotMP4):
		return nil, ErrNotMP4
	case errors.As(err, &trunc):
		// Judge below, once we know whether the moov made it.
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	m := &Media{Size: size, Boxes: boxes}
	found := false
	for _, b := range boxes {
		switch b.Type {
		case "moov":
			if !found {
				m.Moov, found = b, true
			}
		case "moof":
			return nil, ErrFragmented
		}
	}
	if !found {
		if trunc != nil {
			// The cut box is usually the mdat: percent of what it declared.
			return nil, &TruncatedError{Percent: 100 * float64(size) / float64(trunc.Box.End()), MoovLost: true}
		}
		return nil, ErrNoMoov
	}
	if m.Moov.Size > opt.MaxMoovBytes {
		return nil, fmt.Errorf("%w: the moov is %d bytes, over the %d byte limit", ErrDamaged, m.Moov.Size, opt.MaxMoovBytes)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(boxes) > 0 && boxes[0].Type == "ftyp" && boxes[0].Size <= maxFtypBytes {
		m.Ftyp = make([]byte, boxes[0].Size)
		if _, err := r.ReadAt(m.Ftyp, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read ftyp: %w", err)
		}
	}
	m.MoovBytes = make([]byte, m.Moov.Size)
	if _, err := r.ReadAt(m.MoovBytes, m.Moov.Offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read moov: %w", err)
	}
	moov, err := decodeMoov(m.MoovBytes)
	if err != nil {
		return nil, err
	}
	rotations, err := mp4box.Rotations(m.MoovBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if err := m.describe(moov, rotations, opt); err != nil {
		return nil, err
	}
	if end := m.mediaEnd(); end > size {
		return nil, &TruncatedError{Percent: 100 * float64(size) / float64(end)}
	}
	return m, nil
}

// decodeMoov runs mp4ff on the raw moov. mp4ff is fuzzed upstream, but a
// panic on one hostile upload must not take the origin down with it.
func decodeMoov(raw []byte) (moov *mp4.MoovBox, err error) {
	defer func() {
		if p := recover(); p != nil {
			moov, err = nil, fmt.Errorf("%w: moov could not be decoded (%v)", ErrDamaged, p)
		}
	}()
	// QuickTime's own sound descriptions are rewritten as ISO ones for
	// mp4ff; the faststart head keeps the original moov.
	raw, err = mp4box.NormalizeSound(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: moov: %v", ErrDamaged, err)
	}
	// The slice-reader decoder works on raw in place (DecodeBox would
	// io.ReadAll a copy of the whole moov first).
	box, err := mp4.DecodeBoxSR(0, bits.NewFixedSliceReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: moov: %v", ErrDamaged, err)
	}
	moov, ok := box.(*mp4.MoovBox)
	if !ok || moov.Mvhd == nil {
		return nil, fmt.Errorf("%w: moov has no movie header", ErrDamaged)
	}
	return moov, nil
}

// mediaEnd is the end of the last sample byte of the served tracks and of
// those re-encoded instead.
func (m *Media) mediaEnd() int64 {
	end := m.unservedEnd
	if m.Index == nil {
		return end
	}
	for _, t := range m.Index.Tracks {
		for _, s := range t.Samples {
			end = max(end, s.Offset+int64(s.Size))
		}
	}
	return end
}

// Duration is the served tracks' length.
func (m *Media) Duration() time.Duration {
	if m.Index == nil {
		return 0
	}
	return m.Index.Duration()
}
