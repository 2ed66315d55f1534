package usage_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

// dayEdge is midnight UTC between two days.
var dayEdge = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

// records spans 23:00 and 00:00 around dayEdge and 01:00 after it.
func sampleRecords() []usage.Record {
	rec := func(h int, edge, video string, k usage.Kind, res usage.Result, req, out int64) usage.Record {
		return usage.Record{Hour: dayEdge.Add(time.Duration(h) * time.Hour), Edge: edge, Video: video, Kind: k, Result: res,
			Counts: usage.Counts{Requests: req, BytesOut: out, OriginBytes: out / 10, DeliveredNanos: req * int64(time.Second)}}
	}
	return []usage.Record{
		rec(-1, "edge-1", "v1", usage.KindSegment, usage.ResultHit, 3, 3000),
		rec(-1, "edge-1", "v1", usage.KindSegment, usage.ResultMiss, 1, 1000),
		rec(-1, "edge-2", "v2", usage.KindPlaylist, usage.ResultHit, 4, 40),
		rec(0, "edge-1", "v1", usage.KindMP4, usage.ResultStale, 2, 500),
		rec(0, "edge-2", "v1", usage.KindSegment, usage.ResultPass, 2, 200),
		rec(1, "edge-2", "v2", usage.KindSegment, usage.ResultRefreshHit, 1, 100),
		rec(-30, "edge-1", "v1", usage.KindSegment, usage.ResultHit, 100, 100), // before the query
	}
}

type rowWant struct {
	start         time.Time
	key           string
	req, out, org int64
	hitRatio      float64
}

func TestAggregate_EachGroupByAndGranularityAcrossDayBoundary(t *testing.T) {
	h := func(n int) time.Time { return dayEdge.Add(time.Duration(n) * time.Hour) }
	day0, day1 := dayEdge.Add(-24*time.Hour), dayEdge
	tests := []struct {
		g    usage.Granularity
		by   usage.GroupBy
		want []rowWant
	}{
		{usage.Hourly, usage.ByVideo, []rowWant{
			{h(-1), "v1", 4, 4000, 400, 0.75}, {h(-1), "v2", 4, 40, 4, 1},
			{h(0), "v1", 4, 700, 70, 0.5}, {h(1), "v2", 1, 100, 10, 1}}},
		{usage.Hourly, usage.ByEdge, []rowWant{
			{h(-1), "edge-1", 4, 4000, 400, 0.75}, {h(-1), "edge-2", 4, 40, 4, 1},
			{h(0), "edge-1", 2, 500, 50, 1}, {h(0), "edge-2", 2, 200, 20, 0}, {h(1), "edge-2", 1, 100, 10, 1}}},
		{usage.Hourly, usage.ByKind, []rowWant{
			{h(-1), "hls-segment", 4, 4000, 400, 0.75}, {h(-1), "playlist", 4, 40, 4, 1},
			{h(0), "hls-segment", 2, 200, 20, 0}, {h(0), "mp4", 2, 500, 50, 1}, {h(1), "hls-segment", 1, 100, 10, 1}}},
		{usage.Daily, usage.ByVideo, []rowWant{
			{day0, "v1", 4, 4000, 400, 0.75}, {day0, "v2", 4, 40, 4, 1},
			{day1, "v1", 4, 700, 70, 0.5}, {day1, "v2", 1, 100, 10, 1}}},
		{usage.Daily, usage.ByEdge, []rowWant{
			{day0, "edge-1", 4, 4000, 400, 0.75}, {day0, "edge-2", 4, 40, 4, 1},
			{day1, "edge-1", 2, 500, 50, 1}, {day1, "edge-2", 3, 300, 30, 1.0 / 3}}},
		{usage.Daily, usage.ByKind, []rowWant{
			{day0, "hls-segment", 4, 4000, 400, 0.75}, {day0, "playlist", 4, 40, 4, 1},
			{day1, "hls-segment", 3, 300, 30, 1.0 / 3}, {day1, "mp4", 2, 500, 50, 1}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.g)+"/"+string(tt.by), func(t *testing.T) {
			// From and To off the hour: rounded out to 22:00 and 02:00.
			q, err := usage.Query{From: h(-2).Add(10 * time.Minute), To: h(1).Add(5 * time.Minute), Granularity: tt.g, GroupBy: tt.by}.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			a := usage.Aggregate(q, sampleRecords())
			checkRows(t, a, tt.want)
			if a.Totals.Requests != 13 || a.Totals.BytesOut != 4840 || a.Totals.OriginBytes != 484 ||
				a.Totals.DeliveredSeconds != 13 || a.Totals.HitRatio != 10.0/13 {
				t.Fatalf("totals %+v", a.Totals)
			}
		})
	}
}

func checkRows(t *testing.T, a usage.Answer, want []rowWant) {
	t.Helper()
	if len(a.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(a.Rows), len(want), a.Rows)
	}
	for i, w := range want {
		r := a.Rows[i]
		key := r.Video + r.Edge + r.Kind
		if !r.Start.Equal(w.start) || key != w.key || r.Requests != w.req || r.BytesOut != w.out || r.OriginBytes != w.org ||
			r.HitRatio != w.hitRatio || r.DeliveredSeconds != float64(w.req) {
			t.Errorf("row %d: %s %q req=%d out=%d origin=%d hit=%v s=%v; want %+v", i, r.Start, key, r.Requests, r.BytesOut,
				r.OriginBytes, r.HitRatio, r.DeliveredSeconds, w)
		}
	}
}

func TestAggregate_OneVideo(t *testing.T) {
	q, _ := usage.Query{From: dayEdge.Add(-time.Hour), To: dayEdge.Add(2 * time.Hour), Granularity: usage.Daily, GroupBy: usage.ByEdge, Video: "v2"}.Normalize()
	a := usage.Aggregate(q, sampleRecords())
	checkRows(t, a, []rowWant{
		{dayEdge.Add(-24 * time.Hour), "edge-2", 4, 40, 4, 1},
		{dayEdge, "edge-2", 1, 100, 10, 1},
	})
}

func TestQuery_NormalizeRefuses(t *testing.T) {
	for _, q := range []usage.Query{
		{From: dayEdge, To: dayEdge.Add(time.Hour), Granularity: "week"},
		{From: dayEdge, To: dayEdge.Add(time.Hour), GroupBy: "country"},
		{From: dayEdge, To: dayEdge},
		{From: dayEdge.Add(time.Hour), To: dayEdge},
		{To: dayEdge},
		{From: dayEdge, To: dayEdge.AddDate(2, 0, 0)},
	} {
		if _, err := q.Normalize(); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	q, _ := usage.Query{From: dayEdge.Add(-time.Hour), To: dayEdge.Add(time.Hour), GroupBy: usage.ByEdge}.Normalize()
	var b bytes.Buffer
	if err := usage.WriteCSV(&b, usage.Aggregate(q, sampleRecords())); err != nil {
		t.Fatal(err)
	}
	want := "start,edge,bytes_out,requests,delivered_seconds,origin_bytes,hit_ratio\n" +
		"2026-12-04T23:00:00Z,edge-1,4000,4,4,400,0.7500\n" +
		"2026-12-04T23:00:00Z,edge-2,40,4,4,4,1.0000\n" +
		"2026-12-05T00:00:00Z,edge-1,500,2,2,50,1.0000\n" +
		"2026-12-05T00:00:00Z,edge-2,200,2,2,20,0.0000\n"
	if b.String() != want {
		t.Fatalf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFold_SumsSameKey(t *testing.T) {
	rs := sampleRecords()
	folded := usage.Fold(rs, rs)
	if len(folded) != len(rs) {
		t.Fatalf("%d records folded from two copies of %d", len(folded), len(rs))
	}
	if got, want := sum(folded), sum(rs); got.Requests != 2*want.Requests || got.BytesOut != 2*want.BytesOut {
		t.Fatalf("folded %+v from 2× %+v", got, want)
	}
}
