package web

import (
	"net/http"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
)

// usageRange is a choice of period on the overview.
type usageRange struct {
	Key         string // the ?range= value
	Label       string
	Span        time.Duration
	Granularity string // hour or day
}

var usageRanges = []usageRange{
	{"2d", "Last 48 hours, by hour", 48 * time.Hour, "hour"},
	{"14d", "Last 14 days, by day", 14 * 24 * time.Hour, "day"},
	{"60d", "Last 60 days, by day", 60 * 24 * time.Hour, "day"},
}

// topVideos is how many videos the top videos chart shows.
const topVideos = 10

// overviewView is the overview's View.
type overviewView struct {
	Ranges   []usageRange
	Range    usageRange
	Totals   usageTotals
	Month    *usageReport // this month so far, for the bill
	MonthTag string       // e.g. "December 2026"
	Charts   []chartView
}

func (s *Server) adminOverview(w http.ResponseWriter, r *http.Request, sess *session) error {
	rng := usageRanges[0]
	if key := r.URL.Query().Get("range"); key != "" {
		found := false
		for _, u := range usageRanges {
			if u.Key == key {
				rng, found = u, true
			}
		}
		if !found {
			return &pageError{Status: http.StatusBadRequest, Message: "Choose one of the periods the overview offers."}
		}
	}
	now := time.Now().UTC()
	from := now.Add(-rng.Span)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)

	var byEdge, byVideo, month *usageReport
	var titles map[string]string
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) {
		byEdge, err = s.api.usage(ctx, sess.apiKey, from, now, rng.Granularity, "edge")
		return err
	})
	g.Go(func() (err error) {
		byVideo, err = s.api.usage(ctx, sess.apiKey, from, now, "day", "video")
		return err
	})
	g.Go(func() (err error) {
		month, err = s.api.usage(ctx, sess.apiKey, monthStart, now, "day", "kind")
		return err
	})
	g.Go(func() error {
		// Titles for the top videos chart; without them it shows IDs.
		if page, err := s.api.listVideosAs(ctx, sess.apiKey, "", 100); err == nil {
			titles = map[string]string{}
			for _, v := range page.Videos {
				titles[v.ID] = v.Title
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}

	view := overviewView{Ranges: usageRanges, Range: rng, Totals: byEdge.Totals, Month: month, MonthTag: now.Format("January 2006")}
	charts, err := overviewCharts(byEdge, byVideo, titles)
	if err != nil {
		return err
	}
	view.Charts = charts
	return s.renderAdmin(w, http.StatusOK, "admin_overview", "Dashboard", "overview", sess, view)
}

// overviewCharts draws bytes over time (to viewers and from the origin),
// requests over time, bytes by edge and the top videos.
func overviewCharts(byEdge, byVideo *usageReport, titles map[string]string) ([]chartView, error) {
	step := time.Hour
	if byEdge.Granularity == "day" {
		step = 24 * time.Hour
	}
	periods := periodsOf(byEdge.From, byEdge.To, step)
	index := map[time.Time]int{}
	for i, p := range periods {
		index[p] = i
	}
	bytesOut := make([]float64, len(periods))
	originBytes := make([]float64, len(periods))
	requests := make([]float64, len(periods))
	edges := map[string]float64{}
	for _, row := range byEdge.Rows {
		if i, ok := index[row.Start.UTC()]; ok {
			bytesOut[i] += float64(row.BytesOut)
			originBytes[i] += float64(row.OriginBytes)
			requests[i] += float64(row.Requests)
		}
		edges[row.Edge] += float64(row.BytesOut)
	}
	labels := make([]string, len(periods))
	for i, p := range periods {
		labels[i] = periodLabel(p, step)
	}
	var out []chartView
	traffic, err := lineChart("chart-bytes", "Bytes delivered",
		"Bytes sent to viewers and bytes the edges fetched from the origin, per "+byEdge.Granularity+"; the gap between the two lines is what the caches saved.",
		labels, []chartSeries{{"To viewers", bytesOut}, {"From the origin", originBytes}}, humanBytes)
	if err != nil {
		return nil, err
	}
	reqs, err := lineChart("chart-requests", "Requests", "Requests the edges answered, per "+byEdge.Granularity+".",
		labels, []chartSeries{{"Requests", requests}}, humanCount)
	if err != nil {
		return nil, err
	}
	edgeNames, edgeBytes := ranked(edges, 0)
	perEdge, err := barChart("chart-edges", "Bytes by edge", "Bytes each edge sent to viewers over the period.",
		"Edge", edgeNames, edgeBytes, humanBytes)
	if err != nil {
		return nil, err
	}
	videos := map[string]float64{}
	for _, row := range byVideo.Rows {
		videos[row.Video] += float64(row.BytesOut)
	}
	ids, videoBytes := ranked(videos, topVideos)
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id
		if t := titles[id]; t != "" {
			names[i] = t
		} else if id == "" {
			names[i] = "Not a video (other paths)"
		}
	}
	top, err := barChart("chart-videos", "Top videos", "The "+strconv.Itoa(topVideos)+" videos that sent the most bytes to viewers over the period.",
		"Video", names, videoBytes, humanBytes)
	if err != nil {
		return nil, err
	}
	return append(out, traffic, reqs, perEdge, top), nil
}

// periodsOf lists the starts of the periods from from (inclusive) to to
// (exclusive), step apart.
func periodsOf(from, to time.Time, step time.Duration) []time.Time {
	from = from.UTC().Truncate(step)
	var out []time.Time
	for p := from; p.Before(to) && len(out) < 24*62; p = p.Add(step) {
		out = append(out, p)
	}
	return out
}

func periodLabel(p time.Time, step time.Duration) string {
	if step < 24*time.Hour {
		return p.Format("Jan 2 15h")
	}
	return p.Format("Jan 2")
}

// ranked sorts a map's keys by value, largest first (then by key), and keeps
// the first n (all when n is 0).
func ranked(m map[string]float64, n int) ([]string, []float64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if m[keys[a]] != m[keys[b]] {
			return m[keys[a]] > m[keys[b]]
		}
		return keys[a] < keys[b]
	})
	if n > 0 && len(keys) > n {
		keys = keys[:n]
	}
	values := make([]float64, len(keys))
	for i, k := range keys {
		values[i] = m[k]
	}
	return keys, values
}

// humanBytes is a byte count in decimal units, as prices per GB count them.
func humanBytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + " " + units[i]
}

// humanCount is a count with thousands separators (fractions dropped, as
// axis ticks may be fractional).
func humanCount(n float64) string {
	s := strconv.FormatInt(int64(n), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
