package fmp4

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamfront/streamfront/packager/index"
)

// Sample flags (ISO/IEC 14496-12 8.8.3.1): a keyframe depends on nothing;
// other frames depend on others and are not sync samples.
const (
	flagsSync    = 0x02000000
	flagsNonSync = 0x01010000
)

// maxGap is how far apart two samples' bytes may be and still be read in
// one ranged request, reading (and dropping) what lies between. Audio and
// video sit in alternating chunks: a video segment skips the small audio
// chunks in one request, while an audio segment does not read a second of
// video between each of its chunks (that would be ten times its size);
// those separate requests overlap (see prefetch).
const maxGap = 64 << 10

// prefetch is how many ranged reads of one segment are open at once: the
// next runs' requests are on their way while the current run is copied,
// so their latencies overlap instead of adding up. Each open read holds a
// connection and its socket buffer, nothing more.
const prefetch = 4

// copyBufSize is the per-segment copy buffer: the memory bound of serving a
// segment, whatever its size.
const copyBufSize = 128 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Segment is a media segment ready to stream: its header is built, its
// sample bytes are still in the rendition file.
type Segment struct {
	header  []byte // styp + moof + mdat header
	samples []index.Sample
	size    int64
}

// NewSegment builds media segment n of track t. Segments are numbered from
// 0; the moof sequence number is n+1.
func NewSegment(t *index.Track, n int) (*Segment, error) {
	if n < 0 || n >= len(t.Segments) {
		return nil, fmt.Errorf("fmp4: segment %d of %d: %w", n, len(t.Segments), ErrNoSegment)
	}
	first, end := t.SegmentRange(n)
	return build(t, first, end, t.Segments[n].DTS, uint32(n+1))
}

// NewSampleSegment builds a segment holding just sample i of track t: an
// I-frame playlist entry when i is a keyframe.
func NewSampleSegment(t *index.Track, i int) (*Segment, error) {
	if i < 0 || i >= len(t.Samples) {
		return nil, fmt.Errorf("fmp4: sample %d of %d: %w", i, len(t.Samples), ErrNoSegment)
	}
	dts := t.StartDTS
	for _, s := range t.Samples[:i] {
		dts += int64(s.Dur)
	}
	return build(t, i, i+1, dts, uint32(i+1))
}

func build(t *index.Track, first, end int, dts int64, seq uint32) (*Segment, error) {
	samples := t.Samples[first:end]

	moof := &mp4.MoofBox{}
	if err := moof.AddChild(mp4.CreateMfhd(seq)); err != nil {
		return nil, err
	}
	traf := &mp4.TrafBox{}
	if err := moof.AddChild(traf); err != nil {
		return nil, err
	}
	if err := traf.AddChild(mp4.CreateTfhd(trackID)); err != nil {
		return nil, err
	}
	if err := traf.AddChild(mp4.CreateTfdt(uint64(dts))); err != nil {
		return nil, err
	}
	trun := mp4.CreateTrun(0)
	var payload int64
	for _, s := range samples {
		flags := uint32(flagsNonSync)
		if s.Sync {
			flags = flagsSync
		}
		trun.AddSample(mp4.NewSample(flags, s.Dur, s.Size, s.CTO))
		payload += int64(s.Size)
	}
	if err := traf.AddChild(trun); err != nil {
		return nil, err
	}
	styp := mp4.CreateStyp()

	mdatHeader := 8
	if payload+8 > 1<<32-1 {
		mdatHeader = 16
	}
	// The data offset counts from the moof's first byte to the first sample.
	trun.DataOffset = int32(moof.Size()) + int32(mdatHeader)

	var buf bytes.Buffer
	buf.Grow(int(styp.Size() + moof.Size() + 16))
	if err := styp.Encode(&buf); err != nil {
		return nil, err
	}
	if err := moof.Encode(&buf); err != nil {
		return nil, err
	}
	if mdatHeader == 8 {
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(payload+8)))
		buf.WriteString("mdat")
	} else {
		buf.Write(binary.BigEndian.AppendUint32(nil, 1))
		buf.WriteString("mdat")
		buf.Write(binary.BigEndian.AppendUint64(nil, uint64(payload+16)))
	}
	return &Segment{header: buf.Bytes(), samples: samples, size: int64(buf.Len()) + payload}, nil
}

// ErrNoSegment means the segment number is out of range.
var ErrNoSegment = fmt.Errorf("no such segment")

// Size is the segment's length in bytes.
func (s *Segment) Size() int64 { return s.size }

// WriteTo streams the segment to w, reading sample bytes from src in as few
// ranged reads as the layout allows, up to prefetch of them in flight. An
// error after the first byte means w got a short segment: the caller must
// abort the response, not end it.
func (s *Segment) WriteTo(ctx context.Context, w io.Writer, src Source) (int64, error) {
	n, err := w.Write(s.header)
	written := int64(n)
	if err != nil {
		return written, err
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	rs := runs(s.samples)
	bodies := openAhead(ctx, src, rs)
	defer bodies.close()
	for i, r := range rs {
		body, err := bodies.next(i)
		if err != nil {
			return written, fmt.Errorf("fmp4: read samples at %d: %w", r.off, err)
		}
		m, err := copyRun(w, body, r, *bufp)
		written += m
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// openedRun is the answer to one ranged read.
type openedRun struct {
	body io.ReadCloser
	err  error
}

// aheadReader opens the runs' ranged reads in order, at most prefetch
// ahead of the one being copied, and owns every body it opened until
// next hands it over.
type aheadReader struct {
	cancel  context.CancelFunc
	results []chan openedRun
	slots   chan struct{}
	wg      sync.WaitGroup
	handed  int // results taken by next
}

func openAhead(ctx context.Context, src Source, rs []run) *aheadReader {
	ctx, cancel := context.WithCancel(ctx)
	a := &aheadReader{cancel: cancel, results: make([]chan openedRun, len(rs)), slots: make(chan struct{}, prefetch)}
	for i := range a.results {
		a.results[i] = make(chan openedRun, 1)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for i, r := range rs {
			select {
			case a.slots <- struct{}{}:
			case <-ctx.Done():
				for _, ch := range a.results[i:] {
					ch <- openedRun{err: ctx.Err()}
				}
				return
			}
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				body, err := src.OpenRange(ctx, r.off, r.end-r.off)
				a.results[i] <- openedRun{body: body, err: err}
			}()
		}
	}()
	return a
}

// next returns run i's body (runs are taken in order); the caller closes it
// before asking for the next.
func (a *aheadReader) next(i int) (io.ReadCloser, error) {
	if i > 0 {
		<-a.slots // run i-1 is done: let one more request start
	}
	o := <-a.results[i]
	a.handed = i + 1
	return o.body, o.err
}

// close stops requests not yet made and closes bodies never handed over.
func (a *aheadReader) close() {
	a.cancel()
	a.wg.Wait()
	for _, ch := range a.results[a.handed:] {
		if o := <-ch; o.body != nil {
			o.body.Close()
		}
	}
}

// run is a stretch of the file read with one request; samples within it
// are copied and the bytes between them dropped.
type run struct {
	off, end int64
	samples  []index.Sample
}

func runs(samples []index.Sample) []run {
	var out []run
	for i, s := range samples {
		if len(out) > 0 {
			r := &out[len(out)-1]
			if s.Offset >= r.end && s.Offset-r.end <= maxGap {
				r.end = s.Offset + int64(s.Size)
				r.samples = samples[i-len(r.samples) : i+1]
				continue
			}
		}
		out = append(out, run{off: s.Offset, end: s.Offset + int64(s.Size), samples: samples[i : i+1]})
	}
	return out
}

// copyRun copies r's samples from body (which starts at r.off) to w and
// closes body.
func copyRun(w io.Writer, body io.ReadCloser, r run, buf []byte) (int64, error) {
	defer body.Close()
	pos := r.off
	var written int64
	for _, s := range r.samples {
		if skip := s.Offset - pos; skip > 0 {
			if _, err := io.CopyBuffer(io.Discard, io.LimitReader(body, skip), buf); err != nil {
				return written, fmt.Errorf("fmp4: read samples at %d: %w", pos, err)
			}
		}
		n, err := io.CopyBuffer(w, io.LimitReader(body, int64(s.Size)), buf)
		written += n
		if err == nil && n < int64(s.Size) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return written, fmt.Errorf("fmp4: copy sample at %d: %w", s.Offset, err)
		}
		pos = s.Offset + int64(s.Size)
	}
	return written, nil
}
