package mpegts_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"

	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mpegts"
)

// benchSegment is a 6 s segment of 25 fps video at about 10 Mbit/s (50 kB
// pictures, a 200 kB keyframe every 2 s) with 48 kHz AAC at 128 kbit/s,
// interleaved in half-second chunks like ffmpeg's MP4s, held in memory.
func benchSegment(b *testing.B) (v, a *index.Track, data []byte) {
	ix, _ := tiny(b)
	v, a = cloneTrack(ix.Track(index.Video)), cloneTrack(ix.Track(index.Audio))
	v.Samples, a.Samples = nil, nil
	v.Timescale, a.Timescale = 12800, 48000
	var buf bytes.Buffer
	addVideo := func(size int, sync bool) {
		off := int64(buf.Len())
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(size-4)))
		buf.WriteByte(0x65)
		buf.Write(make([]byte, size-5))
		v.Samples = append(v.Samples, index.Sample{Offset: off, Size: uint32(size), Dur: 512, CTO: 1024, Sync: sync})
	}
	addAudio := func() {
		off := int64(buf.Len())
		buf.Write(make([]byte, 341))
		a.Samples = append(a.Samples, index.Sample{Offset: off, Size: 341, Dur: 1024, Sync: true})
	}
	for chunk := 0; chunk < 12; chunk++ {
		for i := 0; i < 12; i++ {
			n := len(v.Samples)
			if n%50 == 0 {
				addVideo(200_000, true)
			} else {
				addVideo(50_000, false)
			}
		}
		for i := 0; i < 23; i++ {
			addAudio()
		}
	}
	v.Segments = []index.SegmentRef{{First: 0, DTS: 0}}
	a.Segments = []index.SegmentRef{{First: 0, DTS: 0}}
	return v, a, buf.Bytes()
}

func BenchmarkSegment_WriteTo(b *testing.B) {
	v, a, data := benchSegment(b)
	seg, err := mpegts.NewSegment(v, a, 0)
	must(b, err)
	src := fmp4.ReaderAtSource{R: bytes.NewReader(data)}
	b.SetBytes(seg.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := seg.WriteTo(context.Background(), io.Discard, src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewSegment(b *testing.B) {
	v, a, _ := benchSegment(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mpegts.NewSegment(v, a, 0); err != nil {
			b.Fatal(err)
		}
	}
}
