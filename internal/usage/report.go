package usage

import (
	"errors"
	"fmt"
	"time"
)

// Report is one flush of one edge's Meter for one hour: what the edge
// delivered from From to To. Its ID (edge, run, seq) is fixed when the
// Meter makes it, so every retry and every replay carries the same ID, and
// storage keeps the first copy of an ID only.
type Report struct {
	// Edge is the edge's name.
	Edge string `json:"edge"`
	// Run is a random ID of the edge process: a restarted edge starts its
	// sequence again under a new run, never reusing an ID.
	Run string `json:"run"`
	// Seq numbers the reports of one run, from 1.
	Seq uint64 `json:"seq"`
	// Hour is the UTC hour every row belongs to (a flush that spans an hour
	// boundary makes one report per hour).
	Hour time.Time `json:"hour"`
	// From and To bound the flush interval (the first report of a run has
	// From at the Meter's start).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Rows has one row per (video, kind, result) seen in the interval.
	Rows []ReportRow `json:"rows"`
}

// ReportRow is the sums for one (video, kind, result) in a Report.
type ReportRow struct {
	Video  string `json:"video"`
	Kind   Kind   `json:"kind"`
	Result Result `json:"result"`
	Counts
}

// ID names the report uniquely and stably: "{edge}/{run}-{seq}".
func (r *Report) ID() string { return fmt.Sprintf("%s/%s-%08d", r.Edge, r.Run, r.Seq) }

// Records spreads the report into Records (for aggregation).
func (r *Report) Records() []Record {
	out := make([]Record, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = Record{Hour: r.Hour, Edge: r.Edge, Video: row.Video, Kind: row.Kind, Result: row.Result, Counts: row.Counts}
	}
	return out
}

// MaxReportRows bounds the rows of one report a reader accepts (a Meter
// writes at most Config.MaxKeys × stripes rows per hour).
const MaxReportRows = 1 << 20

// Validate checks what a reader must not trust: the names that become
// parts of S3 keys, and the hour.
func (r *Report) Validate() error {
	if !ValidName(r.Edge) {
		return fmt.Errorf("usage: report edge name %q: want 1-64 of [A-Za-z0-9._-]", r.Edge)
	}
	if !ValidName(r.Run) {
		return fmt.Errorf("usage: report run %q: want 1-64 of [A-Za-z0-9._-]", r.Run)
	}
	if r.Seq == 0 {
		return errors.New("usage: report seq is 0")
	}
	if !r.Hour.Equal(HourOf(r.Hour)) {
		return fmt.Errorf("usage: report hour %s is not the start of an hour", r.Hour)
	}
	if len(r.Rows) > MaxReportRows {
		return fmt.Errorf("usage: report has %d rows, over %d", len(r.Rows), MaxReportRows)
	}
	return nil
}

// ValidName tells whether s may name an edge or a run: it becomes part of
// an S3 key, so only a safe alphabet, and never "." or "..".
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 64 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Record is one key's counts at full detail: what storage keeps and
// queries aggregate.
type Record struct {
	Hour   time.Time `json:"hour"`
	Edge   string    `json:"edge"`
	Video  string    `json:"video"`
	Kind   Kind      `json:"kind"`
	Result Result    `json:"result"`
	Counts
}

// HourOf is the UTC hour t falls in.
func HourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// DayOf is the UTC day t falls in.
func DayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// recordKey is a Record's identity, for folding records together.
type recordKey struct {
	hour        int64
	edge, video string
	kind        Kind
	result      Result
}

// Fold sums records with the same (hour, edge, video, kind, result) and
// returns them in a stable order (hour, edge, video, kind, result).
func Fold(records ...[]Record) []Record {
	sums := map[recordKey]*Record{}
	var order []*Record
	for _, rs := range records {
		for _, r := range rs {
			k := recordKey{r.Hour.Unix(), r.Edge, r.Video, r.Kind, r.Result}
			if s, ok := sums[k]; ok {
				s.Counts.add(r.Counts)
				continue
			}
			c := r
			c.Hour = r.Hour.UTC()
			sums[k] = &c
			order = append(order, &c)
		}
	}
	out := make([]Record, len(order))
	for i, r := range order {
		out[i] = *r
	}
	sortRecords(out)
	return out
}
