package mpegts

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/index"
)

// maxGap is how far apart two samples of one track may be and still be
// read in one ranged request, dropping what lies between (the other
// track's chunk): the same trade as the fmp4 package's.
const maxGap = 256 << 10

// readBufSize is the read buffer of each track: NAL length prefixes and
// headers are read a few bytes at a time from it.
const readBufSize = 32 << 10

var readBufs = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}

// sampleReader reads one track's samples of a segment in order, opening a
// ranged read per run of nearby samples.
type sampleReader struct {
	ctx     context.Context
	src     fmp4.Source
	samples []index.Sample // the segment's samples of the track
	base    int            // track index of samples[0]

	body   io.ReadCloser
	br     *bufio.Reader
	pos    int64 // file offset of the next byte br gives
	runEnd int64 // end of the open range
}

// newSampleReader reads t.Samples[first:end].
func newSampleReader(ctx context.Context, src fmp4.Source, t *index.Track, first, end int) *sampleReader {
	return &sampleReader{ctx: ctx, src: src, samples: t.Samples[first:end], base: first}
}

// open positions the reader at the first byte of the track's sample i
// (within the segment); the caller then reads exactly its Size bytes from
// r.br and calls done.
func (r *sampleReader) open(i int) error {
	i -= r.base
	s := r.samples[i]
	end := s.Offset + int64(s.Size)
	if r.body != nil && s.Offset >= r.pos && end <= r.runEnd {
		if _, err := r.br.Discard(int(s.Offset - r.pos)); err != nil {
			return fmt.Errorf("mpegts: read samples at %d: %w", r.pos, unexpectedEOF(err))
		}
		r.pos = s.Offset
		return nil
	}
	r.closeBody()
	for _, next := range r.samples[i+1:] {
		if next.Offset < end || next.Offset-end > maxGap {
			break
		}
		end = next.Offset + int64(next.Size)
	}
	body, err := r.src.OpenRange(r.ctx, s.Offset, end-s.Offset)
	if err != nil {
		return fmt.Errorf("mpegts: read samples at %d: %w", s.Offset, err)
	}
	if r.br == nil {
		r.br = readBufs.Get().(*bufio.Reader)
	}
	r.br.Reset(body)
	r.body, r.pos, r.runEnd = body, s.Offset, end
	return nil
}

// done records that the track's sample i was read whole.
func (r *sampleReader) done(i int) {
	s := r.samples[i-r.base]
	r.pos = s.Offset + int64(s.Size)
}

func (r *sampleReader) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// close releases the open range and the buffer.
func (r *sampleReader) close() {
	r.closeBody()
	if r.br != nil {
		r.br.Reset(nil)
		readBufs.Put(r.br)
		r.br = nil
	}
}
