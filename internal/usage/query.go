package usage

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Granularity is the length of an answer row's period.
type Granularity string

// Granularities.
const (
	Hourly Granularity = "hour"
	Daily  Granularity = "day"
)

// GroupBy is the dimension answer rows are split by.
type GroupBy string

// Dimensions.
const (
	ByVideo GroupBy = "video"
	ByEdge  GroupBy = "edge"
	ByKind  GroupBy = "kind"
)

// Query asks for usage from From to To (UTC hours: From is rounded down and
// To up to whole hours; days are UTC days), by Granularity and GroupBy.
type Query struct {
	From, To    time.Time
	Granularity Granularity
	GroupBy     GroupBy
	// Video, when set, keeps that video's deliveries only (a video's own
	// usage object).
	Video string
}

// MaxQuerySpan bounds a query's period (the dashboard shows 60
// days daily; a year leaves room and bounds the reads).
const MaxQuerySpan = 366 * 24 * time.Hour

// Normalize checks q and rounds its bounds to whole hours.
func (q Query) Normalize() (Query, error) {
	switch q.Granularity {
	case "":
		q.Granularity = Hourly
	case Hourly, Daily:
	default:
		return q, fmt.Errorf("usage: granularity %q: want hour or day", q.Granularity)
	}
	switch q.GroupBy {
	case "":
		q.GroupBy = ByVideo
	case ByVideo, ByEdge, ByKind:
	default:
		return q, fmt.Errorf("usage: group_by %q: want video, edge or kind", q.GroupBy)
	}
	if q.From.IsZero() || q.To.IsZero() {
		return q, fmt.Errorf("usage: from and to are required")
	}
	q.From = HourOf(q.From)
	if to := HourOf(q.To); to.Before(q.To) {
		q.To = to.Add(time.Hour)
	} else {
		q.To = to
	}
	if !q.From.Before(q.To) {
		return q, fmt.Errorf("usage: from (%s) must be before to (%s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if q.To.Sub(q.From) > MaxQuerySpan {
		return q, fmt.Errorf("usage: %s to %s is longer than %d days", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), MaxQuerySpan/(24*time.Hour))
	}
	return q, nil
}

// Row is one answer row: one period and one group.
type Row struct {
	// Start is the period's start, a UTC hour or day (a daily row of a
	// query that starts mid-day still starts at midnight, and counts from
	// the query's From).
	Start time.Time `json:"start"`
	// Exactly one of Video, Edge and Kind is set: the query's GroupBy.
	Video string `json:"video,omitempty"`
	Edge  string `json:"edge,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Totals
}

// Totals are the sums of a row or of a whole answer.
type Totals struct {
	BytesOut         int64   `json:"bytes_out"`
	Requests         int64   `json:"requests"`
	DeliveredSeconds float64 `json:"delivered_seconds"`
	OriginBytes      int64   `json:"origin_bytes"`
	// HitRatio is the share of requests answered from an edge's cache
	// (hit, refresh-hit, stale); 0 when there were no requests.
	HitRatio float64 `json:"hit_ratio"`

	hits, deliveredNanos int64
}

func (t *Totals) add(r Record) {
	t.BytesOut += r.BytesOut
	t.Requests += r.Requests
	t.OriginBytes += r.OriginBytes
	t.deliveredNanos += r.DeliveredNanos
	if r.Result.FromCache() {
		t.hits += r.Requests
	}
}

func (t *Totals) finish() {
	t.DeliveredSeconds = float64(t.deliveredNanos) / 1e9
	if t.Requests > 0 {
		t.HitRatio = float64(t.hits) / float64(t.Requests)
	}
}

// Answer is what a Query returns.
type Answer struct {
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	Granularity Granularity `json:"granularity"`
	GroupBy     GroupBy     `json:"group_by"`
	Video       string      `json:"video,omitempty"`
	Rows        []Row       `json:"rows"`
	Totals      Totals      `json:"totals"`
}

// Aggregate answers q (normalized) from records; records outside q's
// period are ignored. Rows come by start, then group key.
func Aggregate(q Query, records []Record) Answer {
	a := NewAggregator(q)
	a.Add(records)
	return a.Answer()
}

// Aggregator sums records into an answer as they are read, so a query
// holds its rows rather than every record of its period. It is not safe
// for concurrent use.
type Aggregator struct {
	q      Query
	rows   map[rowKey]*Row
	totals Totals
}

type rowKey struct {
	start int64
	group string
}

// NewAggregator starts an answer to q (normalized).
func NewAggregator(q Query) *Aggregator {
	return &Aggregator{q: q, rows: map[rowKey]*Row{}}
}

// Add sums records into the answer.
func (a *Aggregator) Add(records []Record) {
	q := a.q
	for _, r := range records {
		if r.Hour.Before(q.From) || !r.Hour.Before(q.To) || (q.Video != "" && r.Video != q.Video) {
			continue
		}
		start := r.Hour.UTC()
		if q.Granularity == Daily {
			start = DayOf(start)
		}
		var group string
		switch q.GroupBy {
		case ByEdge:
			group = r.Edge
		case ByKind:
			group = r.Kind.String()
		default:
			group = r.Video
		}
		k := rowKey{start.Unix(), group}
		row := a.rows[k]
		if row == nil {
			row = &Row{Start: start}
			switch q.GroupBy {
			case ByEdge:
				row.Edge = group
			case ByKind:
				row.Kind = group
			default:
				row.Video = group
			}
			a.rows[k] = row
		}
		row.add(r)
		a.totals.add(r)
	}
}

// Answer is the answer so far.
func (a *Aggregator) Answer() Answer {
	q := a.q
	out := Answer{From: q.From, To: q.To, Granularity: q.Granularity, GroupBy: q.GroupBy, Video: q.Video,
		Rows: make([]Row, 0, len(a.rows)), Totals: a.totals}
	for _, row := range a.rows {
		r := *row
		r.finish()
		out.Rows = append(out.Rows, r)
	}
	out.Totals.finish()
	slices.SortFunc(out.Rows, func(x, y Row) int {
		// Only the group's field is set, so comparing all three compares it.
		return cmp.Or(x.Start.Compare(y.Start), cmp.Compare(x.Video, y.Video), cmp.Compare(x.Edge, y.Edge), cmp.Compare(x.Kind, y.Kind))
	})
	return out
}

func sortRecords(rs []Record) {
	slices.SortFunc(rs, func(x, y Record) int {
		return cmp.Or(x.Hour.Compare(y.Hour), cmp.Compare(x.Edge, y.Edge), cmp.Compare(x.Video, y.Video),
			cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Result, y.Result))
	})
}

func sortReportRows(rs []ReportRow) {
	slices.SortFunc(rs, func(x, y ReportRow) int {
		return cmp.Or(cmp.Compare(x.Video, y.Video), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Result, y.Result))
	})
}

func sortInts(xs []int64) { slices.Sort(xs) }
