package usage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

// discard is a Sink that accepts everything (benchmarks measure Add).
type discard struct{}

func (discard) Put(context.Context, *usage.Report) error { return nil }

func benchMeter(b *testing.B) *usage.Meter {
	m, err := usage.New(usage.Config{Edge: "edge-1", Sink: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

var benchVideos = func() []string {
	v := make([]string, 1000)
	for i := range v {
		v[i] = fmt.Sprintf("0vq5m2k9c1a3b%05d", i)
	}
	return v
}()

// BenchmarkMeterAdd is one goroutine adding (the edge's hit path on one
// core); the key set is warm, as in the steady state.
func BenchmarkMeterAdd(b *testing.B) {
	m := benchMeter(b)
	ev := usage.Event{Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 1 << 20, Delivered: 2 * time.Second}
	for _, v := range benchVideos {
		ev.Video = v
		m.Add(ev)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.Video = benchVideos[i%len(benchVideos)]
		m.Add(ev)
	}
}

// BenchmarkMeterAddAt is BenchmarkMeterAdd with the time given by the
// caller, as the edge's fast path can (it reads the clock anyway).
func BenchmarkMeterAddAt(b *testing.B) {
	m := benchMeter(b)
	ev := usage.Event{Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 1 << 20, Delivered: 2 * time.Second, At: time.Now()}
	for _, v := range benchVideos {
		ev.Video = v
		m.Add(ev)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.Video = benchVideos[i%len(benchVideos)]
		m.Add(ev)
	}
}

// BenchmarkMeterAddParallel is every core adding at once: one hot video
// (the worst case for contention) and 1,000 videos.
func BenchmarkMeterAddParallel(b *testing.B) {
	for _, tc := range []struct {
		n  int
		at bool
	}{{1, false}, {1000, false}, {1, true}, {1000, true}} {
		n, at := tc.n, tc.at
		b.Run(fmt.Sprintf("videos=%d/at=%v", n, at), func(b *testing.B) {
			m := benchMeter(b)
			for _, v := range benchVideos[:n] {
				m.Add(usage.Event{Video: v, Kind: usage.KindSegment, Result: usage.ResultHit})
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ev := usage.Event{Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 1 << 20, Delivered: 2 * time.Second}
				if at {
					ev.At = time.Now()
				}
				i := 0
				for pb.Next() {
					ev.Video = benchVideos[i%n]
					m.Add(ev)
					i++
				}
			})
		})
	}
}

// BenchmarkMeterFlush is one flush of 10,000 keys (1,000 videos × kinds ×
// results): Adds that pick the stripe being drained wait this long divided
// by the number of stripes.
func BenchmarkMeterFlush(b *testing.B) {
	m := benchMeter(b)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, v := range benchVideos {
			for k := range 2 {
				for r := range 5 {
					m.Add(usage.Event{Video: v, Kind: usage.Kind(k), Result: usage.Result(r), BytesOut: 1})
				}
			}
		}
		b.StartTimer()
		m.Flush()
	}
}

// oneLock is the naive meter the striped one is measured against: one
// mutex and one map for every core.
type oneLock struct {
	mu sync.Mutex
	m  map[string]*usage.Counts
}

func (o *oneLock) add(video string, bytes int64) {
	o.mu.Lock()
	c := o.m[video]
	if c == nil {
		c = new(usage.Counts)
		o.m[video] = c
	}
	c.Requests++
	c.BytesOut += bytes
	o.mu.Unlock()
}

// BenchmarkOneLockParallel is the baseline for BenchmarkMeterAddParallel:
// compare the two at -cpu 2 and more. Its key is a bare string (no hour,
// kind or result), so it is cheaper alone; stripes earn their keep only
// where many cores add at once, which the shared 2-core machine of the
// first measurements (load 5-7) could not show: measure on an edge's
// hardware.
func BenchmarkOneLockParallel(b *testing.B) {
	o := &oneLock{m: map[string]*usage.Counts{}}
	for _, v := range benchVideos {
		o.add(v, 0)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			o.add(benchVideos[i%len(benchVideos)], 1<<20)
			i++
		}
	})
}
