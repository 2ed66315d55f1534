package mpegts

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/index"
)

// writeBufSize gathers 188-byte packets into larger writes.
const writeBufSize = 32 << 10

var writeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufSize) }}

// MemoryBound is what streaming one segment holds besides its plan (about
// 48 bytes per PES packet: one per picture, one per few AAC frames): a
// read buffer per track, a write buffer and one transport packet. It does
// not grow with the segment or with the size of a sample.
const MemoryBound = 2*readBufSize + writeBufSize + packetSize

// Segment is an MPEG-TS media segment ready to stream: its packetisation
// is planned, its sample bytes are still in the rendition file.
type Segment struct {
	video, audio *index.Track
	vc           *videoConfig
	ac           *audioConfig
	// vFirst..vEnd and aFirst..aEnd are the segment's samples of each track.
	vFirst, vEnd int
	aFirst, aEnd int
	tables       []byte
	pes          []pes
	size         int64
}

// NewSegment plans MPEG-TS segment n: segment n of the video track's plan,
// muxed with the audio samples of the same stretch of the timeline. Either
// track may be nil (audio-only, video-only); with no video, audio's own
// plan numbers the segments.
//
// The audio track must be planned at the video's boundaries (tracks of
// one index are; index.PlanAt does it for another index): its segment n is
// taken whole, and the last video segment takes every audio sample left.
func NewSegment(video, audio *index.Track, n int) (*Segment, error) {
	ref := video
	if ref == nil {
		ref = audio
	}
	if ref == nil {
		return nil, fmt.Errorf("mpegts: a segment needs a video or an audio track")
	}
	if video != nil && video.Kind != index.Video || audio != nil && audio.Kind != index.Audio {
		return nil, fmt.Errorf("mpegts: tracks given in the wrong places")
	}
	if n < 0 || n >= len(ref.Segments) {
		return nil, fmt.Errorf("mpegts: segment %d of %d: %w", n, len(ref.Segments), ErrNoSegment)
	}
	s := &Segment{video: video, audio: audio}
	var vpes, apes []pes
	if video != nil {
		first, end, err := segmentRange(video, n, false)
		if err != nil {
			return nil, err
		}
		if s.vc, err = videoConfigOf(video); err != nil {
			return nil, err
		}
		s.vFirst, s.vEnd = first, end
		if vpes, err = planVideo(video, s.vc, first, end, video.Segments[n].DTS); err != nil {
			return nil, err
		}
	}
	if audio != nil {
		// Audio-only: its own segment n. Beside video: its segment n, and
		// everything after it with the video's last segment.
		first, end, err := segmentRange(audio, n, video != nil && n == len(video.Segments)-1)
		if err != nil {
			return nil, err
		}
		if s.ac, err = audioConfigOf(audio); err != nil {
			return nil, err
		}
		s.aFirst, s.aEnd = first, end
		if end > first {
			if apes, err = planAudio(audio, first, end, audio.Segments[n].DTS, video == nil); err != nil {
				return nil, err
			}
		}
	}
	var err error
	s.tables, err = tables(video != nil, s.vc != nil && s.vc.hevc, audio != nil)
	if err != nil {
		return nil, err
	}
	s.pes = interleave(vpes, apes)
	s.size = tablesLen
	for i := range s.pes {
		s.size += s.pes[i].packets() * packetSize
	}
	return s, nil
}

// segmentRange returns the samples of t's segment n (none when t has no
// segment n), to the track's end when toEnd; it checks the plan against the
// samples rather than trusting it.
func segmentRange(t *index.Track, n int, toEnd bool) (first, end int, err error) {
	if t.Timescale == 0 {
		return 0, 0, fmt.Errorf("%w: %s track has timescale 0", ErrCorrupt, t.Kind)
	}
	if n >= len(t.Segments) {
		return 0, 0, nil
	}
	first = int(t.Segments[n].First)
	end = len(t.Samples)
	if n+1 < len(t.Segments) && !toEnd {
		end = int(t.Segments[n+1].First)
	}
	if first > end || end > len(t.Samples) {
		return 0, 0, fmt.Errorf("%w: %s segment %d is samples [%d, %d) of %d", ErrCorrupt, t.Kind, n, first, end, len(t.Samples))
	}
	return first, end, nil
}

// Size is the segment's length in bytes, known before any media is read.
func (s *Segment) Size() int64 { return s.size }

// WriteTo streams the segment to w, reading sample bytes from src: each
// track's samples in order, one ranged read per run of nearby samples.
// Memory is bounded by MemoryBound plus the plan. An error after the first
// byte means w got a short segment: the caller must abort the response, not
// end it.
func (s *Segment) WriteTo(ctx context.Context, w io.Writer, src fmp4.Source) (int64, error) {
	return s.WriteFrom(ctx, w, src, src)
}

// WriteFrom is WriteTo for tracks that live in two files: a ladder rung's
// video muxed with another rendition's audio.
func (s *Segment) WriteFrom(ctx context.Context, w io.Writer, videoSrc, audioSrc fmp4.Source) (int64, error) {
	cw := &countingWriter{w: w}
	bw := writeBufs.Get().(*bufio.Writer)
	bw.Reset(cw)
	defer func() {
		bw.Reset(nil)
		writeBufs.Put(bw)
	}()
	err := s.write(ctx, bw, videoSrc, audioSrc)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && cw.n != s.size {
		err = fmt.Errorf("mpegts: wrote %d bytes of a %d-byte segment", cw.n, s.size)
	}
	return cw.n, err
}

func (s *Segment) write(ctx context.Context, w io.Writer, videoSrc, audioSrc fmp4.Source) error {
	if _, err := w.Write(s.tables); err != nil {
		return err
	}
	pw := newPacketWriter(w)
	var vr, ar *sampleReader
	if s.video != nil {
		vr = newSampleReader(ctx, videoSrc, s.video, s.vFirst, s.vEnd)
		defer vr.close()
	}
	if s.audio != nil {
		ar = newSampleReader(ctx, audioSrc, s.audio, s.aFirst, s.aEnd)
		defer ar.close()
	}
	for i := range s.pes {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := &s.pes[i]
		var err error
		if p.video {
			err = s.writeVideo(pw, vr, p)
		} else {
			err = s.writeAudio(pw, ar, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var startCode = [4]byte{0, 0, 0, 1}

// writeVideo writes one picture: AUD, parameter sets before a keyframe,
// the sample's NAL units with start codes, and zero bytes up to the planned
// length.
func (s *Segment) writeVideo(pw *packetWriter, r *sampleReader, p *pes) error {
	if err := pw.begin(p, pidVideo); err != nil {
		return err
	}
	if err := pw.write(startCode[:]); err != nil {
		return err
	}
	if err := pw.write(s.vc.aud()); err != nil {
		return err
	}
	if p.keyframe {
		for _, ps := range s.vc.paramSets {
			if err := pw.write(startCode[:]); err != nil {
				return err
			}
			if err := pw.write(ps); err != nil {
				return err
			}
		}
	}
	for i := p.first; i < p.end; i++ {
		if err := r.open(i); err != nil {
			return err
		}
		if err := s.annexB(pw, r.br, i); err != nil {
			return err
		}
		r.done(i)
	}
	if err := pw.pad(); err != nil {
		return err
	}
	return pw.end()
}

// annexB copies video sample i from br to pw, each length prefix becoming
// a start code; the sample's own access unit delimiters are dropped.
func (s *Segment) annexB(pw *packetWriter, br *bufio.Reader, i int) error {
	c := s.vc
	sample := s.video.Samples[i]
	left := int64(sample.Size)
	sc := startCode[4-c.startCodeLen():]
	var prefix [4]byte
	for left > 0 {
		if left < int64(c.lengthSize) {
			return fmt.Errorf("%w: video sample %d ends inside a NAL length prefix", ErrCorrupt, i)
		}
		if _, err := io.ReadFull(br, prefix[4-c.lengthSize:]); err != nil {
			return fmt.Errorf("mpegts: read video sample %d: %w", i, unexpectedEOF(err))
		}
		n := int64(binary.BigEndian.Uint32(prefix[:]))
		left -= int64(c.lengthSize)
		if n > left {
			return fmt.Errorf("%w: video sample %d has a NAL unit of %d bytes with %d left", ErrCorrupt, i, n, left)
		}
		if n == 0 {
			continue
		}
		left -= n
		head, err := br.Peek(1)
		if err != nil {
			return fmt.Errorf("mpegts: read video sample %d: %w", i, unexpectedEOF(err))
		}
		if c.isAUD(head[0]) {
			if _, err := br.Discard(int(n)); err != nil {
				return fmt.Errorf("mpegts: read video sample %d: %w", i, unexpectedEOF(err))
			}
			continue
		}
		if err := pw.write(sc); err != nil {
			return err
		}
		if err := pw.copyFrom(br, n); err != nil {
			return fmt.Errorf("mpegts: read video sample %d: %w", i, err)
		}
	}
	return nil
}

// writeAudio writes a run of AAC frames, each behind its ADTS header.
func (s *Segment) writeAudio(pw *packetWriter, r *sampleReader, p *pes) error {
	if err := pw.begin(p, pidAudio); err != nil {
		return err
	}
	var header [adtsHeaderLen]byte
	for i := p.first; i < p.end; i++ {
		size := s.audio.Samples[i].Size
		if err := r.open(i); err != nil {
			return err
		}
		s.ac.withLength(header[:], int(size))
		if err := pw.write(header[:]); err != nil {
			return err
		}
		if err := pw.copyFrom(r.br, int64(size)); err != nil {
			return fmt.Errorf("mpegts: read audio sample %d: %w", i, err)
		}
		r.done(i)
	}
	return pw.end()
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
