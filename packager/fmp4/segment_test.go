package fmp4

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/probe"
)

func tinyIndex(t *testing.T) (*index.Index, []byte) {
	t.Helper()
	data, err := os.ReadFile("../testdata/tiny.mp4")
	if err != nil {
		t.Fatal(err)
	}
	m, err := probe.Probe(context.Background(), bytes.NewReader(data), int64(len(data)), probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Index.Plan(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return m.Index, data
}

// countingSource serves ranges of data slowly, counting reads in flight
// and bodies left open; failAt makes the read at that offset fail.
type countingSource struct {
	data      []byte
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	open      atomic.Int32
	failAt    int64
}

func (c *countingSource) OpenRange(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	now := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		old := c.maxFlight.Load()
		if now <= old || c.maxFlight.CompareAndSwap(old, now) {
			break
		}
	}
	select {
	case <-time.After(2 * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if off == c.failAt {
		return nil, errors.New("injected failure")
	}
	c.open.Add(1)
	return &trackedBody{Reader: bytes.NewReader(c.data[off : off+n]), open: &c.open}, nil
}

type trackedBody struct {
	io.Reader
	open *atomic.Int32
	once sync.Once
}

func (b *trackedBody) Close() error {
	b.once.Do(func() { b.open.Add(-1) })
	return nil
}

// reference is a segment's expected bytes: header, then each sample's bytes
// in order.
func reference(s *Segment, data []byte) []byte {
	out := append([]byte(nil), s.header...)
	for _, smp := range s.samples {
		out = append(out, data[smp.Offset:smp.Offset+int64(smp.Size)]...)
	}
	return out
}

func TestSegment_WriteToMatchesItsSizeAndTheSamples(t *testing.T) {
	ix, data := tinyIndex(t)
	for _, tr := range ix.Tracks {
		for n := range tr.Segments {
			seg, err := NewSegment(tr, n)
			if err != nil {
				t.Fatal(err)
			}
			src := &countingSource{data: data, failAt: -1}
			var buf bytes.Buffer
			written, err := seg.WriteTo(context.Background(), &buf, src)
			if err != nil {
				t.Fatal(err)
			}
			if written != seg.Size() || !bytes.Equal(buf.Bytes(), reference(seg, data)) {
				t.Fatalf("%s segment %d: wrote %d bytes, announced %d, equal to reference %v", tr.Kind, n, written, seg.Size(), bytes.Equal(buf.Bytes(), reference(seg, data)))
			}
			if m := src.maxFlight.Load(); m > prefetch {
				t.Fatalf("%d reads in flight, bound is %d", m, prefetch)
			}
			if o := src.open.Load(); o != 0 {
				t.Fatalf("%d bodies left open", o)
			}
		}
	}
}

func TestSegment_AFailedReadClosesEverythingItOpened(t *testing.T) {
	// Samples far apart: every one is its own ranged read.
	data := make([]byte, 1<<20)
	tr := &index.Track{Kind: index.Audio, Timescale: 48000, SampleEntry: nil}
	for i := 0; i < 8; i++ {
		tr.Samples = append(tr.Samples, index.Sample{Offset: int64(i) * 100_000, Size: 1000, Dur: 1024, Sync: true})
	}
	tr.Segments = []index.SegmentRef{{First: 0}}
	seg, err := NewSegment(tr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs(seg.samples)) != 8 {
		t.Fatalf("want 8 separate reads, have %d", len(runs(seg.samples)))
	}
	for _, failAt := range []int64{0, 100_000, 500_000, 700_000} {
		src := &countingSource{data: data, failAt: failAt}
		if _, err := seg.WriteTo(context.Background(), io.Discard, src); err == nil {
			t.Fatalf("a failed read at %d must fail the segment", failAt)
		}
		if o := src.open.Load(); o != 0 {
			t.Fatalf("failure at %d: %d bodies left open", failAt, o)
		}
		if m := src.maxFlight.Load(); m > prefetch {
			t.Fatalf("%d reads in flight, bound is %d", m, prefetch)
		}
	}
}
