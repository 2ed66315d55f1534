package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The edges page reads the router's GET /edges (which edges exist, whether
// its health checks find them up, the latency it measured) and each edge's
// Prometheus /metrics (requests by cache result, bytes sent, bytes in each
// cache tier). Both are read from the site's server, with Config.RouterURL
// as the entry; an edge the site cannot reach is listed with the reason.

// maxMetricsBody bounds what is read of one edge's /metrics; an edge's
// whole exposition is a few tens of kilobytes.
const maxMetricsBody = 4 << 20

// edgeStatus is one edge as the edges page shows it.
type edgeStatus struct {
	Name    string
	URL     string
	Up      bool
	RTTMs   *float64
	Problem string // the router's health-check error, if any

	Metrics    *edgeMetrics // nil when /metrics could not be read
	MetricsErr string
}

// edgeMetrics is what the page takes from an edge's /metrics.
type edgeMetrics struct {
	Requests    map[string]float64 // by cache result: Hit, Miss, RefreshHit, Stale, Pass
	BytesServed float64
	CacheBytes  map[string]float64 // by tier: memory, disk
}

// HitRatio is the share of cacheable requests answered from cache (Hit,
// RefreshHit and Stale over those plus Miss); -1 before any.
func (m *edgeMetrics) HitRatio() float64 {
	hits := m.Requests["Hit"] + m.Requests["RefreshHit"] + m.Requests["Stale"]
	total := hits + m.Requests["Miss"]
	if total == 0 {
		return -1
	}
	return hits / total
}

// TotalRequests counts every answered request, pass-through included.
func (m *edgeMetrics) TotalRequests() float64 {
	var n float64
	for _, v := range m.Requests {
		n += v
	}
	return n
}

// routerEdges is the router's GET /edges.
type routerEdges struct {
	Edges []struct {
		Name        string   `json:"name"`
		URL         string   `json:"url"`
		InternalURL string   `json:"internal_url"`
		Up          bool     `json:"up"`
		RTTMs       *float64 `json:"rtt_ms"`
		Error       string   `json:"error"`
	} `json:"edges"`
}

// readEdges asks the router for its edges, then every edge for its
// metrics, at once.
func (s *Server) readEdges(ctx context.Context) ([]edgeStatus, error) {
	var re routerEdges
	if err := s.getFrom(ctx, s.routerURL.JoinPath("edges"), func(r io.Reader) error {
		return json.NewDecoder(io.LimitReader(r, maxAPIResponse)).Decode(&re)
	}); err != nil {
		return nil, fmt.Errorf("the router at %s: %w", s.routerURL, err)
	}
	out := make([]edgeStatus, len(re.Edges))
	var wg sync.WaitGroup
	for i, e := range re.Edges {
		out[i] = edgeStatus{Name: e.Name, URL: e.URL, Up: e.Up, RTTMs: e.RTTMs, Problem: e.Error}
		base := e.InternalURL
		if base == "" {
			base = e.URL
		}
		// Each goroutine records its edge's failure in out[i]: one edge
		// that cannot be read leaves the others on the page.
		wg.Go(func() { out[i].Metrics, out[i].MetricsErr = s.readEdgeMetrics(ctx, base) })
	}
	wg.Wait()
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// readEdgeMetrics reads one edge's /metrics, or says why it could not.
func (s *Server) readEdgeMetrics(ctx context.Context, base string) (*edgeMetrics, string) {
	u, err := parseBaseURL(base)
	if err != nil {
		return nil, "The router gives no usable address for this edge."
	}
	var m *edgeMetrics
	err = s.getFrom(ctx, u.JoinPath("metrics"), func(r io.Reader) error {
		var perr error
		m, perr = parseEdgeMetrics(io.LimitReader(r, maxMetricsBody))
		return perr
	})
	if err != nil {
		return nil, "Its metrics could not be read: " + err.Error()
	}
	return m, ""
}

// getFrom GETs u with the API client's timeout and hands a 200's body to
// read.
func (s *Server) getFrom(ctx context.Context, u *url.URL, read func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	res, err := s.api.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", res.StatusCode)
	}
	return read(res.Body)
}

// parseEdgeMetrics reads the Prometheus text exposition of an edge and
// keeps the few series the page shows. Unknown families are skipped;
// malformed text is an error.
func parseEdgeMetrics(r io.Reader) (*edgeMetrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("read the metrics: %w", err)
	}
	m := &edgeMetrics{Requests: map[string]float64{}, CacheBytes: map[string]float64{}}
	found := false
	if f := families["streamfront_edge_requests_total"]; f != nil {
		found = true
		for _, mt := range f.GetMetric() {
			m.Requests[labelValue(mt.GetLabel(), "result")] += mt.GetCounter().GetValue()
		}
	}
	if f := families["streamfront_edge_bytes_served_total"]; f != nil {
		for _, mt := range f.GetMetric() {
			m.BytesServed += mt.GetCounter().GetValue()
		}
	}
	if f := families["streamfront_edge_cache_bytes"]; f != nil {
		for _, mt := range f.GetMetric() {
			m.CacheBytes[labelValue(mt.GetLabel(), "tier")] += mt.GetGauge().GetValue()
		}
	}
	if !found {
		return nil, errors.New("they have no streamfront_edge_requests_total: is this address a Streamfront edge?")
	}
	return m, nil
}

func labelValue[L interface {
	GetName() string
	GetValue() string
}](labels []L, name string) string {
	for _, l := range labels {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
