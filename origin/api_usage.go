package origin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/usagestore"
)

// Usage: edges meter what they deliver (internal/usage) and send reports
// through the queue; this origin folds them into S3 (origin/usagestore)
// and answers GET /api/v1/usage with rows, totals and a bill estimate.

// getUsage is GET /api/v1/usage?from=&to=&granularity=hour|day&group_by=video|edge|kind[&video=][&format=csv].
func (s *Server) getUsage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err := parseUsageTime(q.Get("from"), false)
	if err != nil {
		return errorf(http.StatusBadRequest, "from "+err.Error())
	}
	to, err := parseUsageTime(q.Get("to"), true)
	if err != nil {
		return errorf(http.StatusBadRequest, "to "+err.Error())
	}
	uq := usage.Query{From: from, To: to, Granularity: usage.Granularity(q.Get("granularity")),
		GroupBy: usage.GroupBy(q.Get("group_by")), Video: q.Get("video")}
	if _, err := uq.Normalize(); err != nil {
		return errorf(http.StatusBadRequest, strings.TrimPrefix(err.Error(), "usage: ")+".")
	}
	ans, err := s.ledger.Query(r.Context(), uq)
	if err != nil {
		return err
	}
	switch q.Get("format") {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="usage.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		return usage.WriteCSV(w, ans)
	case "", "json":
	default:
		return errorf(http.StatusBadRequest, `format must be "json" or "csv".`)
	}
	minutes, err := s.storedMinutes(r.Context())
	if err != nil {
		return err
	}
	// Stored minutes are priced for the period they were kept: today's
	// library over the period's share of a 30-day month.
	months := ans.To.Sub(ans.From).Hours() / (30 * 24)
	paths := s.invalidatedPaths(r.Context(), ans.From, ans.To)
	bill := usage.Estimate(ans.Totals, paths, minutes*months, s.cfg.Prices)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, struct {
		usage.Answer
		StoredMinutes    float64    `json:"stored_minutes"`
		InvalidatedPaths int64      `json:"invalidated_paths"`
		Estimate         usage.Bill `json:"estimate"`
	}{ans, minutes, paths, bill})
}

// invalidatedPaths counts the paths invalidated in [from, to) — what
// CloudFront bills past 1,000 a month — from the feed (kept 30 days).
func (s *Server) invalidatedPaths(ctx context.Context, from, to time.Time) int64 {
	if s.invalFeed == nil {
		return 0
	}
	n, err := s.invalFeed.CountPaths(ctx, from, to)
	if err != nil {
		s.log.Warn("invalidations not counted in the estimate", slog.Any("err", err))
	}
	return n
}

// parseUsageTime reads RFC 3339 or a date (YYYY-MM-DD, UTC); a date given
// as the end of a period means the end of that day.
func parseUsageTime(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("is required: an RFC 3339 time or a date (YYYY-MM-DD).")
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, errors.New("must be an RFC 3339 time or a date (YYYY-MM-DD).")
	}
	if end {
		t = t.Add(24 * time.Hour)
	}
	return t, nil
}

// storedMinutes is the minutes of every video stored now (the per-minute
// plan's storage), read from the catalog page by page.
func (s *Server) storedMinutes(ctx context.Context) (float64, error) {
	var total float64
	cursor := ""
	for {
		videos, next, err := s.catalog.List(ctx, cursor, 100)
		if err != nil {
			return 0, err
		}
		for _, v := range videos {
			if v.Status == catalog.Ready {
				total += v.DurationS / 60
			}
		}
		if next == "" {
			return total, nil
		}
		cursor = next
	}
}

// videoUsage keeps the last 30 days by video for a minute, so the usage
// object of GET /api/v1/videos/{id} costs one ledger query a minute per
// origin, not one per request (the watch page polls the video).
type videoUsage struct {
	ledger *usagestore.Ledger
	mu     sync.Mutex
	at     time.Time
	byID   map[string]usage.Totals
	// failed is the last query's error, answered until the next try.
	failed error
}

const videoUsageFor = 30 * 24 * time.Hour

func (vu *videoUsage) of(ctx context.Context, id string) (*usage.Totals, error) {
	vu.mu.Lock()
	defer vu.mu.Unlock()
	if vu.byID == nil || time.Since(vu.at) > time.Minute {
		now := time.Now().UTC()
		ans, err := vu.ledger.Query(ctx, usage.Query{From: now.Add(-videoUsageFor), To: now, Granularity: usage.Daily, GroupBy: usage.ByVideo})
		if err != nil {
			// Try again in a minute, not on every request while S3 is in
			// trouble; until then the videos answer without usage.
			vu.byID, vu.at, vu.failed = map[string]usage.Totals{}, time.Now(), err
			return nil, err
		}
		byID := map[string]usage.Totals{}
		for _, row := range ans.Rows {
			t := byID[row.Video]
			t.BytesOut += row.BytesOut
			t.Requests += row.Requests
			t.DeliveredSeconds += row.DeliveredSeconds
			t.OriginBytes += row.OriginBytes
			// hit_ratio: weighted by requests
			t.HitRatio += row.HitRatio * float64(row.Requests)
			byID[row.Video] = t
		}
		for id, t := range byID {
			if t.Requests > 0 {
				t.HitRatio /= float64(t.Requests)
			}
			byID[id] = t
		}
		vu.byID, vu.at, vu.failed = byID, time.Now(), nil
	}
	if vu.failed != nil {
		return nil, vu.failed
	}
	t := vu.byID[id]
	return &t, nil
}
