package index

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// The binary form, all integers varint-encoded (signed ones zig-zag):
//
//	"SFIX" version(1)
//	tracks
//	per track: kind codec timescale language width height samplerate channels
//	           sampleEntry startDTS
//	           samples; per sample: offset-delta size dur cto sync
//	           segments; per segment: first-delta dts-delta
//	crc32(IEEE) of everything before it, 4 bytes big-endian
//
// offset-delta is relative to the end of the previous sample, which is 0
// for samples stored back to back: most samples cost 5-7 bytes.

const (
	magic   = "SFIX"
	version = 1

	maxTracks      = 16
	maxString      = 256
	maxSampleEntry = 1 << 16
	// minSampleBytes is the fewest bytes one encoded sample can take; counts
	// are checked against it before allocating.
	minSampleBytes  = 5
	minSegmentBytes = 2
)

// Encode returns the binary form of ix.
func (ix *Index) Encode() []byte {
	b := make([]byte, 0, 64+len(ix.Tracks)*8*1024)
	b = append(b, magic...)
	b = append(b, version)
	b = binary.AppendUvarint(b, uint64(len(ix.Tracks)))
	for _, t := range ix.Tracks {
		b = append(b, byte(t.Kind))
		b = appendString(b, t.Codec)
		b = binary.AppendUvarint(b, uint64(t.Timescale))
		b = appendString(b, t.Language)
		b = binary.AppendUvarint(b, uint64(t.Width))
		b = binary.AppendUvarint(b, uint64(t.Height))
		b = binary.AppendUvarint(b, uint64(t.SampleRate))
		b = binary.AppendUvarint(b, uint64(t.Channels))
		b = appendString(b, string(t.SampleEntry))
		b = binary.AppendVarint(b, t.StartDTS)
		b = binary.AppendUvarint(b, uint64(len(t.Samples)))
		var end int64
		for _, s := range t.Samples {
			b = binary.AppendVarint(b, s.Offset-end)
			b = binary.AppendUvarint(b, uint64(s.Size))
			b = binary.AppendUvarint(b, uint64(s.Dur))
			b = binary.AppendVarint(b, int64(s.CTO))
			if s.Sync {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
			end = s.Offset + int64(s.Size)
		}
		b = binary.AppendUvarint(b, uint64(len(t.Segments)))
		var first uint32
		var dts int64
		for _, sg := range t.Segments {
			b = binary.AppendUvarint(b, uint64(sg.First-first))
			b = binary.AppendVarint(b, sg.DTS-dts)
			first, dts = sg.First, sg.DTS
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// Decode parses the binary form. Any input that is not an index Encode
// wrote gives an error wrapping ErrCorrupt; it never panics and never
// allocates more than the input's size justifies.
func Decode(data []byte) (*Index, error) {
	if len(data) < len(magic)+1+4 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not an index", ErrCorrupt)
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if body[len(magic)] != version {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, body[len(magic)], version)
	}
	r := &reader{b: body[len(magic)+1:]}
	nTracks := r.count(maxTracks, 1)
	ix := &Index{}
	for i := 0; i < nTracks && r.err == nil; i++ {
		t := &Track{}
		t.Kind = Kind(r.byte())
		t.Codec = r.string(maxString)
		t.Timescale = r.u32()
		t.Language = r.string(maxString)
		t.Width = r.u16()
		t.Height = r.u16()
		t.SampleRate = r.u32()
		t.Channels = r.u16()
		t.SampleEntry = []byte(r.string(maxSampleEntry))
		t.StartDTS = r.varint()
		n := r.count(math.MaxInt32, minSampleBytes)
		t.Samples = make([]Sample, 0, n)
		var end int64
		for j := 0; j < n && r.err == nil; j++ {
			var s Sample
			s.Offset = end + r.varint()
			s.Size = r.u32()
			s.Dur = r.u32()
			cto := r.varint()
			if cto < math.MinInt32 || cto > math.MaxInt32 {
				r.fail("composition offset out of range")
			}
			s.CTO = int32(cto)
			s.Sync = r.byte() == 1
			end = s.Offset + int64(s.Size)
			t.Samples = append(t.Samples, s)
		}
		nSeg := r.count(n, minSegmentBytes)
		t.Segments = make([]SegmentRef, 0, nSeg)
		var first uint64
		var dts int64
		for j := 0; j < nSeg && r.err == nil; j++ {
			first += r.uvarint()
			dts += r.varint()
			if first > math.MaxUint32 {
				r.fail("segment start out of range")
			}
			t.Segments = append(t.Segments, SegmentRef{First: uint32(first), DTS: dts})
		}
		ix.Tracks = append(ix.Tracks, t)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	if err := ix.Validate(); err != nil {
		return nil, err
	}
	return ix, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader remembers its first error, so Decode reads many fields and checks
// once (the mp4ff bit-reader habit).
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u32() uint32 {
	v := r.uvarint()
	if v > math.MaxUint32 {
		r.fail("number out of range")
	}
	return uint32(v)
}

func (r *reader) u16() uint16 {
	v := r.uvarint()
	if v > math.MaxUint16 {
		r.fail("number out of range")
	}
	return uint16(v)
}

// count reads an element count and checks that the remaining input can hold
// that many elements of at least minBytes each.
func (r *reader) count(limit, minBytes int) int {
	v := r.uvarint()
	if r.err != nil {
		return 0
	}
	if v > uint64(limit) || v > uint64(len(r.b)/minBytes) {
		r.fail("count exceeds input")
		return 0
	}
	return int(v)
}

func (r *reader) string(limit int) string {
	n := r.count(limit, 1)
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
