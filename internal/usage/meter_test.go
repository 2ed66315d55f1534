package usage_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

var t0 = time.Date(2026, 12, 4, 13, 59, 0, 0, time.UTC)

func TestMeter_ConcurrentAddsExactAfterClose(t *testing.T) {
	clk := newClock(t0)
	sink := &recorder{}
	m := newMeter(t, usage.Config{Sink: sink, Now: clk.now})
	const workers, perWorker = 8, 5000
	videos := []string{"v1", "v2", "v3", ""}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := []byte("vX")
			for i := range perWorker {
				v := videos[(w+i)%len(videos)]
				// The video ID aliases a buffer this goroutine overwrites
				// right after, as an edge's request reader would.
				copy(buf, v)
				id := string(buf[:len(v)])
				m.Add(usage.Event{Video: id, Kind: usage.Kind(i % 4), Result: usage.Result(i % 5),
					BytesOut: 1000, OriginBytes: int64(i % 2), Delivered: 2 * time.Second})
				if w == 0 && i == perWorker/2 {
					clk.set(t0.Add(2 * time.Minute)) // next hour, while others add
				}
			}
		}()
	}
	// Flushes race the adds: a count is in exactly one report.
	done := make(chan struct{})
	var flushes sync.WaitGroup
	flushes.Add(1)
	go func() {
		defer flushes.Done()
		for {
			select {
			case <-done:
				return
			default:
				m.Flush()
			}
		}
	}()
	wg.Wait()
	close(done)
	flushes.Wait()
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := int64(workers * perWorker)
	got := sum(sink.records())
	want := usage.Counts{Requests: n, BytesOut: 1000 * n, OriginBytes: n / 2, DeliveredNanos: n * int64(2*time.Second)}
	if got != want {
		t.Fatalf("after Close: %+v, want %+v", got, want)
	}
	hours := map[time.Time]bool{}
	for _, r := range sink.records() {
		hours[r.Hour] = true
		if r.Edge != "edge-1" {
			t.Fatalf("record of edge %q", r.Edge)
		}
	}
	if len(hours) != 2 {
		t.Fatalf("records in %d hours, want 2 (the clock crossed one)", len(hours))
	}
	if s := m.Stats(); s.DroppedReports != 0 || s.Pending != 0 || int(s.Sent) != sink.count() {
		t.Fatalf("stats %+v with %d reports stored", s, sink.count())
	}
}

func TestMeter_ReportPerHourWithStableIDs(t *testing.T) {
	clk := newClock(t0)
	sink := &recorder{}
	m := newMeter(t, usage.Config{Sink: sink, Now: clk.now})
	m.Add(usage.Event{Video: "a", Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 10})
	clk.set(t0.Add(time.Minute))
	m.Add(usage.Event{Video: "a", Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 20})
	m.Flush()
	m.Add(usage.Event{Video: "a", Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 40})
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id, r := range sink.reports {
		ids = append(ids, fmt.Sprintf("%s@%s=%d", id, r.Hour.Format("15"), r.Rows[0].BytesOut))
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
	}
	run := m.Run()
	want := map[string]bool{
		"edge-1/" + run + "-00000001@13=10": true,
		"edge-1/" + run + "-00000002@14=20": true,
		"edge-1/" + run + "-00000003@14=40": true,
	}
	if len(ids) != len(want) {
		t.Fatalf("reports %v", ids)
	}
	for _, id := range ids {
		if !want[id] {
			t.Fatalf("report %s not expected; got %v", id, ids)
		}
	}
}

func TestMeter_SinkFailuresRetriedUntilStored(t *testing.T) {
	sink := &recorder{failN: 3}
	m := newMeter(t, usage.Config{Sink: sink, Now: newClock(t0).now})
	m.Add(usage.Event{Video: "a", BytesOut: 7})
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.puts != 4 || sink.count() != 1 {
		t.Fatalf("%d puts, %d reports stored; want 4 and 1", sink.puts, sink.count())
	}
	if s := m.Stats(); s.SinkErrors != 3 || s.Sent != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMeter_BoundedWhileSinkDownAndDropsCounted(t *testing.T) {
	sink := &recorder{always: true}
	m := newMeter(t, usage.Config{Sink: sink, Now: newClock(t0).now, MaxPendingBytes: 2000})
	for i := range 50 {
		m.Add(usage.Event{Video: fmt.Sprintf("v%d", i), BytesOut: 100})
		m.Flush() // one report a flush, ~400 bytes each: the fifth does not fit
	}
	s := m.Stats()
	if s.PendingBytes > 2000 || s.Pending == 0 || s.DroppedReports == 0 {
		t.Fatalf("stats %+v", s)
	}
	if s.Pending+s.DroppedReports != 50 || s.DroppedRequests != s.DroppedReports || s.DroppedBytesOut != 100*s.DroppedReports {
		t.Fatalf("stats do not add up: %+v", s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := m.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "unsent") {
		t.Fatalf("Close with the sink down: %v", err)
	}
	if s := m.Stats(); s.DroppedRequests != 50 || s.Pending != 0 {
		t.Fatalf("after Close: %+v", s)
	}
}

func TestMeter_TooOldReportsDropped(t *testing.T) {
	clk := newClock(t0)
	// The first Put fails and, meanwhile, two hours pass: the retry finds
	// the report older than MaxReportAge and drops it (counted).
	sink := &recorder{failN: 1, onFail: func() { clk.set(t0.Add(2 * time.Hour)) }}
	m := newMeter(t, usage.Config{Sink: sink, Now: clk.now, MaxReportAge: time.Hour})
	m.Add(usage.Event{Video: "a", BytesOut: 1})
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.DroppedRequests != 1 || s.Sent != 0 || sink.puts != 1 {
		t.Fatalf("stats %+v after %d puts", s, sink.puts)
	}
}

func TestMeter_KeyFloodCountedUnderEmptyVideo(t *testing.T) {
	sink := &recorder{}
	m := newMeter(t, usage.Config{Sink: sink, Now: newClock(t0).now, MaxKeys: 10})
	for i := range 1000 {
		m.Add(usage.Event{Video: fmt.Sprintf("made-up-%d", i), BytesOut: 1})
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := sink.records()
	if got := sum(recs); got.Requests != 1000 || got.BytesOut != 1000 {
		t.Fatalf("totals %+v", got)
	}
	if s := m.Stats(); s.Overflowed < 1000-10*64 || len(recs) > 10*64+1 {
		t.Fatalf("%d records, stats %+v", len(recs), s)
	}
}

func TestMeter_RefusesBadConfig(t *testing.T) {
	for _, cfg := range []usage.Config{
		{Edge: "", Sink: &recorder{}},
		{Edge: "a/b", Sink: &recorder{}},
		{Edge: "..", Sink: &recorder{}},
		{Edge: "edge-1"},
	} {
		if _, err := usage.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// A fill's upstream bytes are counted as the video's and kind's origin
// bytes, under "miss", without a request: requests stay what viewers made.
func TestMeter_AddFillCountsOriginBytesWithoutARequest(t *testing.T) {
	clk := newClock(t0)
	sink := &recorder{}
	m := newMeter(t, usage.Config{Sink: sink, Now: clk.now})
	m.Add(usage.Event{Video: "v1", Kind: usage.KindSegment, Result: usage.ResultMiss, BytesOut: 700})
	m.Add(usage.Event{Video: "v1", Kind: usage.KindSegment, Result: usage.ResultMiss, BytesOut: 700})
	m.AddFill("v1", usage.KindSegment, 700, time.Time{}) // one collapsed fill for both
	m.AddFill("v1", usage.KindSegment, 0, time.Time{})   // a 304: nothing
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := sink.records()
	want := usage.Counts{Requests: 2, BytesOut: 1400, OriginBytes: 700}
	if got := sum(recs); got != want || len(recs) != 1 || recs[0].Result != usage.ResultMiss {
		t.Fatalf("records %+v (sum %+v), want one miss row %+v", recs, got, want)
	}
}
