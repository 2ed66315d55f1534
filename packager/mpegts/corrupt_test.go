package mpegts_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mpegts"
	"github.com/streamfront/streamfront/packager/probe"
)

// tiny is the committed tiny MP4 (H.264 + AAC), probed and planned.
func tiny(t testing.TB) (*index.Index, []byte) {
	t.Helper()
	data, err := os.ReadFile("../testdata/tiny.mp4")
	must(t, err)
	m, err := probe.Probe(context.Background(), bytes.NewReader(data), int64(len(data)), probe.Options{})
	must(t, err)
	must(t, m.Index.Plan(200*time.Millisecond))
	return m.Index, data
}

func cloneTrack(t *index.Track) *index.Track {
	c := *t
	c.SampleEntry = bytes.Clone(t.SampleEntry)
	c.Samples = append([]index.Sample(nil), t.Samples...)
	c.Segments = append([]index.SegmentRef(nil), t.Segments...)
	return &c
}

// writeAll writes every segment of the pair, checking Size against what is
// written; it returns the first error.
func writeAll(video, audio *index.Track, data []byte) error {
	ref := video
	if ref == nil {
		ref = audio
	}
	if ref == nil {
		_, err := mpegts.NewSegment(video, audio, 0)
		return err
	}
	for n := range ref.Segments {
		seg, err := mpegts.NewSegment(video, audio, n)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		written, err := seg.WriteTo(context.Background(), &buf, fmp4.ReaderAtSource{R: bytes.NewReader(data)})
		if err != nil {
			return err
		}
		if written != seg.Size() || int64(buf.Len()) != seg.Size() {
			panic("segment size differs from Size without an error")
		}
	}
	return nil
}

func TestNewSegment_TinyMuxesEverySegment(t *testing.T) {
	ix, data := tiny(t)
	v, a := ix.Track(index.Video), ix.Track(index.Audio)
	if len(v.Segments) < 2 {
		t.Fatalf("tiny plans %d segments; the test wants several", len(v.Segments))
	}
	for _, pair := range [][2]*index.Track{{v, a}, {v, nil}, {nil, a}} {
		if err := writeAll(pair[0], pair[1], data); err != nil {
			t.Errorf("video %v audio %v: %v", pair[0] != nil, pair[1] != nil, err)
		}
	}
}

func TestNewSegment_RefusesCorruptTracks(t *testing.T) {
	ix, data := tiny(t)
	v, a := ix.Track(index.Video), ix.Track(index.Audio)
	nalAt := int64(len(data)) // where the bad sample below is appended
	vp9, err := encodeBox(mp4.CreateVisualSampleEntryBox("vp09", 64, 64, nil))
	must(t, err)

	cases := []struct {
		name    string
		corrupt func(v, a *index.Track) (video, audio *index.Track)
		want    error // nil: any error
	}{
		{"no tracks", func(v, a *index.Track) (*index.Track, *index.Track) { return nil, nil }, nil},
		{"tracks swapped", func(v, a *index.Track) (*index.Track, *index.Track) { return a, v }, nil},
		{"empty video sample entry", func(v, a *index.Track) (*index.Track, *index.Track) {
			v.SampleEntry = nil
			return v, a
		}, mpegts.ErrCorrupt},
		{"truncated audio sample entry", func(v, a *index.Track) (*index.Track, *index.Track) {
			a.SampleEntry = a.SampleEntry[:len(a.SampleEntry)/2]
			return v, a
		}, mpegts.ErrCorrupt},
		{"VP9 video", func(v, a *index.Track) (*index.Track, *index.Track) {
			v.SampleEntry = vp9
			return v, a
		}, mpegts.ErrUnsupported},
		{"video plan past the samples", func(v, a *index.Track) (*index.Track, *index.Track) {
			v.Segments[len(v.Segments)-1].First = uint32(len(v.Samples) + 5)
			return v, a
		}, mpegts.ErrCorrupt},
		{"audio frame too large for ADTS", func(v, a *index.Track) (*index.Track, *index.Track) {
			a.Samples[0].Size = 9000
			return v, a
		}, mpegts.ErrCorrupt},
		{"timescale zero", func(v, a *index.Track) (*index.Track, *index.Track) {
			v.Timescale = 0
			return v, a
		}, mpegts.ErrCorrupt},
		{"negative composition offset", func(v, a *index.Track) (*index.Track, *index.Track) {
			v.Samples[1].CTO = -1000
			return v, a
		}, mpegts.ErrUnsupported},
		{"NAL unit longer than its sample", func(v, a *index.Track) (*index.Track, *index.Track) {
			v.Samples[0].Offset, v.Samples[0].Size = nalAt, 8
			return v, a
		}, mpegts.ErrCorrupt},
		{"sample past the end of the file", func(v, a *index.Track) (*index.Track, *index.Track) {
			a.Samples[len(a.Samples)-1].Offset = int64(len(data)) + 100
			return v, a
		}, io.ErrUnexpectedEOF},
	}
	// A sample whose one NAL unit claims more bytes than the sample has.
	data = binary.BigEndian.AppendUint32(bytes.Clone(data), 1000)
	data = append(data, 0x65, 0, 0, 0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			video, audio := c.corrupt(cloneTrack(v), cloneTrack(a))
			err := writeAll(video, audio, data)
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
	if _, err := mpegts.NewSegment(v, a, len(v.Segments)); !errors.Is(err, mpegts.ErrNoSegment) {
		t.Errorf("segment past the plan: %v, want ErrNoSegment", err)
	}
}

// FuzzNewSegment_SampleEntry: whatever the sample entries hold, NewSegment
// and WriteTo return an error or a segment of exactly Size bytes; they
// never panic.
func FuzzNewSegment_SampleEntry(f *testing.F) {
	ix, data := tiny(f)
	v, a := ix.Track(index.Video), ix.Track(index.Audio)
	f.Add(v.SampleEntry, a.SampleEntry)
	f.Add(v.SampleEntry[:40], a.SampleEntry[:20])
	f.Fuzz(func(t *testing.T, ventry, aentry []byte) {
		video, audio := cloneTrack(v), cloneTrack(a)
		video.SampleEntry, audio.SampleEntry = ventry, aentry
		_ = writeAll(video, audio, data)
	})
}

// TestNewSegment_SurvivesDamagedSampleEntries flips every byte of the
// sample entries in turn (the fuzz target's seed work, run every time).
func TestNewSegment_SurvivesDamagedSampleEntries(t *testing.T) {
	ix, data := tiny(t)
	v, a := ix.Track(index.Video), ix.Track(index.Audio)
	for _, tr := range []*index.Track{v, a} {
		for i := range tr.SampleEntry {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				video, audio := cloneTrack(v), cloneTrack(a)
				damaged := video
				if tr == a {
					damaged = audio
				}
				damaged.SampleEntry[i] ^= mask
				_ = writeAll(video, audio, data)
				damaged.SampleEntry = damaged.SampleEntry[:i]
				_ = writeAll(video, audio, data)
			}
		}
	}
}

// TestWriteTo_MemoryDoesNotGrowWithSamples streams a segment of three
// 24 MiB pictures from a source that makes its bytes up as they are read,
// and checks that what WriteTo allocates stays near MemoryBound: no sample
// is ever held whole.
func TestWriteTo_MemoryDoesNotGrowWithSamples(t *testing.T) {
	ix, _ := tiny(t)
	v := cloneTrack(ix.Track(index.Video))
	const sampleSize = 24 << 20
	v.Samples = v.Samples[:3]
	for i := range v.Samples {
		v.Samples[i] = index.Sample{Offset: int64(i) * sampleSize, Size: sampleSize, Dur: 512, Sync: i == 0}
	}
	v.Segments = []index.SegmentRef{{First: 0, DTS: v.StartDTS}}
	seg, err := mpegts.NewSegment(v, nil, 0)
	must(t, err)
	if seg.Size() < 3*sampleSize {
		t.Fatalf("Size %d for %d bytes of samples", seg.Size(), 3*sampleSize)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	written, err := seg.WriteTo(context.Background(), io.Discard, syntheticSource{sampleSize: sampleSize})
	runtime.ReadMemStats(&after)
	must(t, err)
	if written != seg.Size() {
		t.Fatalf("wrote %d bytes, Size %d", written, seg.Size())
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("streamed %d MiB allocating %d KiB (MemoryBound %d KiB)", written>>20, allocated>>10, mpegts.MemoryBound>>10)
	if allocated > 2*mpegts.MemoryBound {
		t.Errorf("allocated %d bytes streaming a %d-byte segment; the bound is %d", allocated, written, mpegts.MemoryBound)
	}
}

// syntheticSource serves a file of back-to-back video samples of
// sampleSize bytes, each one IDR slice NAL unit with a four-byte length.
type syntheticSource struct{ sampleSize int64 }

func (s syntheticSource) OpenRange(_ context.Context, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(&syntheticReader{s: s, pos: off, end: off + n}), nil
}

type syntheticReader struct {
	s        syntheticSource
	pos, end int64
}

func (r *syntheticReader) Read(p []byte) (int, error) {
	if r.pos >= r.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.end-r.pos)]
	for i := range p {
		in := (r.pos + int64(i)) % r.s.sampleSize
		switch {
		case in < 4:
			var l [4]byte
			binary.BigEndian.PutUint32(l[:], uint32(r.s.sampleSize-4))
			p[i] = l[in]
		case in == 4:
			p[i] = 0x65
		default:
			p[i] = 0x5a
		}
	}
	r.pos += int64(len(p))
	return len(p), nil
}

func encodeBox(b mp4.Box) ([]byte, error) {
	var buf bytes.Buffer
	err := b.Encode(&buf)
	return buf.Bytes(), err
}
