package usagestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/usagestore"
)

var midnight = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

func report(edge, run string, seq uint64, hour time.Time, video string, requests, bytes int64) *usage.Report {
	return &usage.Report{Edge: edge, Run: run, Seq: seq, Hour: hour, From: hour, To: hour.Add(10 * time.Second),
		Rows: []usage.ReportRow{{Video: video, Kind: usage.KindSegment, Result: usage.ResultHit,
			Counts: usage.Counts{Requests: requests, BytesOut: bytes, DeliveredNanos: requests * int64(4*time.Second)}}}}
}

func TestSink_SameReportTwiceCountsOnce(t *testing.T) {
	s := testStore(t)
	clk := newClock(midnight.Add(30 * time.Minute))
	l := newLedger(t, s, clk)
	ctx := context.Background()
	r := report("edge-1", "abc", 1, midnight, "v1", 3, 300)
	for range 2 { // a retry, then a replay
		if err := l.Sink().Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	keys, _, err := s.ListPage(ctx, "usage/raw/", "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"usage/raw/2026-12-05T00/edge-1/abc-00000001.json"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("raw objects %v, want %v", keys, want)
	}
	a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByVideo)
	if a.Totals.Requests != 3 || a.Totals.BytesOut != 300 {
		t.Fatalf("totals %+v", a.Totals)
	}
	// The same report after its hour was compacted still counts once.
	if err := l.CompactHour(ctx, midnight); err != nil {
		t.Fatal(err)
	}
	if err := l.Sink().Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	if a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByVideo); a.Totals.Requests != 3 {
		t.Fatalf("after compaction and a replay: %+v", a.Totals)
	}
}

func TestMeter_FlushRetriedAfterLostAnswerCountsOnce(t *testing.T) {
	s := testStore(t)
	clk := newClock(midnight.Add(30 * time.Minute))
	l := newLedger(t, s, clk)
	sink := &lostAnswer{Sink: l.Sink(), n: 2}
	m := newMeter(t, "edge-1", sink, clk)
	for range 10 {
		m.Add(usage.Event{Video: "v1", Kind: usage.KindSegment, Result: usage.ResultMiss, BytesOut: 1000, OriginBytes: 1000, Delivered: 4 * time.Second})
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := m.Stats(); st.SinkErrors != 2 || st.Sent != 1 {
		t.Fatalf("stats %+v", st)
	}
	a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByVideo)
	if a.Totals.Requests != 10 || a.Totals.BytesOut != 10_000 || a.Totals.OriginBytes != 10_000 || a.Totals.DeliveredSeconds != 40 {
		t.Fatalf("totals %+v", a.Totals)
	}
}

// TestLedger_SameAnswerRawCompactedAndDaily sends traffic from two edges
// over a day boundary and checks every group_by and granularity gives the
// same, exact answer from raw reports, after hourly compaction, with a late
// report, and once the first day is folded into one object.
func TestLedger_SameAnswerRawCompactedAndDaily(t *testing.T) {
	s := testStore(t)
	ctx := context.Background()
	clk := newClock(midnight.Add(-90 * time.Minute)) // 22:30
	l := newLedger(t, s, clk)
	edges := map[string]*usage.Meter{}
	for _, e := range []string{"edge-1", "edge-2"} {
		edges[e] = newMeter(t, e, l.Sink(), clk)
	}
	type step struct {
		at      time.Duration // from midnight
		edge    string
		video   string
		kind    usage.Kind
		result  usage.Result
		n       int
		bytesOf int64
	}
	steps := []step{
		{-90 * time.Minute, "edge-1", "v1", usage.KindSegment, usage.ResultMiss, 2, 1000},
		{-30 * time.Minute, "edge-1", "v1", usage.KindSegment, usage.ResultHit, 5, 1000},
		{-20 * time.Minute, "edge-2", "v2", usage.KindPlaylist, usage.ResultHit, 3, 10},
		{10 * time.Minute, "edge-2", "v1", usage.KindMP4, usage.ResultStale, 4, 5000},
		{70 * time.Minute, "edge-1", "v2", usage.KindSegment, usage.ResultRefreshHit, 1, 700},
	}
	for _, st := range steps {
		clk.set(midnight.Add(st.at))
		for range st.n {
			edges[st.edge].Add(usage.Event{Video: st.video, Kind: st.kind, Result: st.result, BytesOut: st.bytesOf,
				Delivered: time.Second, OriginBytes: map[bool]int64{true: 0, false: st.bytesOf}[st.result.FromCache()]})
		}
		edges[st.edge].Flush()
	}
	for _, m := range edges {
		if err := m.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	from, to := midnight.Add(-3*time.Hour), midnight.Add(3*time.Hour)
	type qk struct {
		g  usage.Granularity
		by usage.GroupBy
	}
	var qs []qk
	for _, g := range []usage.Granularity{usage.Hourly, usage.Daily} {
		for _, by := range []usage.GroupBy{usage.ByVideo, usage.ByEdge, usage.ByKind} {
			qs = append(qs, qk{g, by})
		}
	}
	answers := func() map[qk]usage.Answer {
		out := map[qk]usage.Answer{}
		for _, q := range qs {
			out[q] = query(t, l, from, to, q.g, q.by)
		}
		return out
	}
	raw := answers()
	byEdgeDaily := raw[qk{usage.Daily, usage.ByEdge}]
	want := []struct {
		start     time.Time
		edge      string
		req, out  int64
		hit       float64
		originOut int64
	}{
		{midnight.Add(-24 * time.Hour), "edge-1", 7, 7000, 5.0 / 7, 2000},
		{midnight.Add(-24 * time.Hour), "edge-2", 3, 30, 1, 0},
		{midnight, "edge-1", 1, 700, 1, 0},
		{midnight, "edge-2", 4, 20_000, 1, 0},
	}
	if len(byEdgeDaily.Rows) != len(want) {
		t.Fatalf("rows %+v", byEdgeDaily.Rows)
	}
	for i, w := range want {
		r := byEdgeDaily.Rows[i]
		if !r.Start.Equal(w.start) || r.Edge != w.edge || r.Requests != w.req || r.BytesOut != w.out || r.HitRatio != w.hit || r.OriginBytes != w.originOut {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	for q, a := range raw {
		if a.Totals.Requests != 15 || a.Totals.BytesOut != 27_730 || a.Totals.DeliveredSeconds != 15 {
			t.Errorf("%v: totals %+v", q, a.Totals)
		}
	}
	if hourly := raw[qk{usage.Hourly, usage.ByKind}]; len(hourly.Rows) != 5 {
		t.Errorf("hourly by kind: %+v", hourly.Rows)
	}

	// Compacting the hours changes no answer.
	clk.set(midnight.Add(2 * time.Hour))
	l.CompactRecent(ctx)
	if got := answers(); !reflect.DeepEqual(got, raw) {
		t.Fatalf("after hourly compaction:\n%+v\nwant\n%+v", got, raw)
	}
	hourly, _, err := s.Get(ctx, "usage/hourly/2026-12-04T23.json", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Folded map[string][][2]uint64 `json:"folded"`
	}
	if err := json.Unmarshal(hourly, &obj); err != nil || len(obj.Folded) != 2 {
		t.Fatalf("hourly object folds %v (%v)", obj.Folded, err)
	}

	// A late report for a compacted hour (an edge that was cut off) counts
	// from the Compactor's next round: queries list raw reports of the last
	// two hours only.
	late := report("edge-3", "0123abcd", 1, midnight.Add(-time.Hour), "v3", 2, 100)
	if err := l.Sink().Put(ctx, late); err != nil {
		t.Fatal(err)
	}
	if got := answers(); !reflect.DeepEqual(got, raw) {
		t.Fatalf("a late report before compaction: %+v", got)
	}
	l.CompactRecent(ctx)
	withLate := answers()
	if tot := withLate[qk{usage.Daily, usage.ByEdge}].Totals; tot.Requests != 17 || tot.BytesOut != 27_830 {
		t.Fatalf("with a late report: %+v", tot)
	}
	l.CompactRecent(ctx)
	if got := answers(); !reflect.DeepEqual(got, withLate) {
		t.Fatalf("a second compaction changed answers: %+v", got)
	}

	// Past the horizon the first day becomes one object; answers stay.
	if err := l.CompactDay(ctx, midnight.Add(-time.Hour)); err == nil {
		t.Fatal("compacted a day that may still receive reports")
	}
	clk.set(midnight.Add(25*time.Hour + time.Minute))
	l.CompactRecent(ctx)
	if _, err := s.Head(ctx, "usage/daily/2026-12-04.json"); err != nil {
		t.Fatalf("day object: %v", err)
	}
	if got := answers(); !reflect.DeepEqual(got, withLate) {
		t.Fatalf("from the day object: %+v", got)
	}
}

func TestLedger_ConcurrentCompactionsCountOnce(t *testing.T) {
	s := testStore(t)
	ctx := context.Background()
	clk := newClock(midnight.Add(10 * time.Minute))
	ledgers := []*usagestore.Ledger{newLedger(t, s, clk), newLedger(t, s, clk)}
	sink := ledgers[0].Sink()
	var wg sync.WaitGroup
	for i, l := range ledgers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; seq <= 20; seq++ {
				// Both processes write reports and compact the hour at once.
				if err := sink.Put(ctx, report("edge-1", fmt.Sprintf("run%d", i), uint64(seq), midnight, "v1", 1, 10)); err != nil {
					t.Error(err)
				}
				if err := l.CompactHour(ctx, midnight); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := ledgers[0].CompactHour(ctx, midnight); err != nil {
		t.Fatal(err)
	}
	for _, l := range ledgers {
		a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByEdge)
		if a.Totals.Requests != 40 || a.Totals.BytesOut != 400 {
			t.Fatalf("totals %+v", a.Totals)
		}
	}
}

func TestLedger_IgnoresReportUnlikeItsKey(t *testing.T) {
	s := testStore(t)
	ctx := context.Background()
	clk := newClock(midnight.Add(10 * time.Minute))
	l := newLedger(t, s, clk)
	r := report("edge-2", "abc", 1, midnight, "v1", 1000, 1000)
	body, _ := json.Marshal(r)
	// Stored under edge-1's key: not what it says it is.
	if _, err := s.PutIfAbsent(ctx, "usage/raw/2026-12-05T00/edge-1/abc-00000001.json", body, "application/json"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIfAbsent(ctx, "usage/raw/2026-12-05T00/edge-1/not-a-report.txt", body, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if err := l.Sink().Put(ctx, report("edge-1", "abc", 2, midnight, "v1", 1, 1)); err != nil {
		t.Fatal(err)
	}
	if a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByEdge); a.Totals.Requests != 1 {
		t.Fatalf("totals %+v", a.Totals)
	}
	// Compaction marks the bad one considered (not read again) and counts
	// nothing of it.
	clk.set(midnight.Add(3 * time.Hour))
	if err := l.CompactHour(ctx, midnight); err != nil {
		t.Fatal(err)
	}
	if a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByEdge); a.Totals.Requests != 1 {
		t.Fatalf("after compaction: totals %+v", a.Totals)
	}
	bad := report("../x", "abc", 1, midnight, "v1", 1, 1)
	if err := l.Sink().Put(ctx, bad); err == nil {
		t.Fatal("stored a report whose edge name is a path")
	}
}
