package edge

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamfront/streamfront/edge/fastpath"
)

// metrics are the edge's Prometheus series, on a registry the Edge owns
// (never the global default one), so several edges in one process — as
// in `streamfront all` and in tests — do not collide.
type metrics struct {
	registry *prometheus.Registry
	handler  http.Handler

	requests      [xcacheCount + 1]prometheus.Counter  // by X-Cache, plus pass-through
	duration      [xcacheCount + 1]prometheus.Observer // by X-Cache, plus pass-through
	bytesServed   prometheus.Counter
	originFetches prometheus.Counter
	passThrough   prometheus.Counter
	originTTFB    prometheus.Observer
	invalidated   prometheus.Counter
	accessDenied  *prometheus.CounterVec
	// fastAnswered counts requests answered by the fast path (they are
	// also in requests); handovers counts connections it gave to net/http.
	fastAnswered prometheus.Counter
	handovers    [fastpath.HandoverReasons]prometheus.Counter
}

// resultLabels are the "result" label values: X-Cache values, then "Pass".
var resultLabels = [xcacheCount + 1]string{"Hit", "Miss", "RefreshHit", "Stale", "Pass"}

const resultPass = int(xcacheCount)

func newMetrics(e *Edge) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{registry: reg}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamfront_edge_requests_total",
		Help: "Requests answered, by cache result (X-Cache value, or Pass for uncached pass-through).",
	}, []string{"result"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "streamfront_edge_request_duration_seconds",
		Help:    "Time from request to the end of the response, by cache result.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"result"})
	for i, l := range resultLabels {
		m.requests[i] = requests.WithLabelValues(l)
		m.duration[i] = duration.WithLabelValues(l)
	}
	m.bytesServed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "streamfront_edge_bytes_served_total",
		Help: "Response body bytes sent to clients.",
	})
	m.originFetches = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "streamfront_edge_origin_fetches_total",
		Help: "Fetches made by cache fills to the origin (or shield); pass-through requests are not counted.",
	})
	m.passThrough = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "streamfront_edge_passthrough_requests_total",
		Help: "Requests proxied to the origin without caching.",
	})
	ttfb := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "streamfront_edge_origin_first_byte_seconds",
		Help:    "Time from sending a fill request to the origin's response headers.",
		Buckets: prometheus.DefBuckets,
	})
	m.originTTFB = ttfb
	m.invalidated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "streamfront_edge_invalidated_entries_total",
		Help: "Cache entries removed by invalidation requests.",
	})
	m.accessDenied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamfront_edge_access_denied_total",
		Help: "Requests for private objects refused with 403, by reason (no_token, expired, wrong_path, bad_signature, not_configured, ...).",
	}, []string{"reason"})
	m.fastAnswered = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "streamfront_edge_fastpath_requests_total",
		Help: "Requests answered by the fast path for memory hits (also counted in streamfront_edge_requests_total).",
	})
	handovers := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamfront_edge_fastpath_handovers_total",
		Help: "Connections the fast path handed to net/http, by the reason for the first request it did not answer (tls, request: outside the strict subset, route: not a cacheable path, not_hit).",
	}, []string{"reason"})
	for r := range fastpath.HandoverReasons {
		m.handovers[r] = handovers.WithLabelValues(r.String())
	}
	cacheBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "streamfront_edge_cache_bytes",
		Help:        "Bytes held by each cache tier.",
		ConstLabels: prometheus.Labels{"tier": "memory"},
	}, func() float64 { return float64(e.mem.bytes()) })
	reg.MustRegister(requests, duration, m.bytesServed, m.fastAnswered, handovers, m.originFetches, m.passThrough, ttfb, m.invalidated, m.accessDenied, cacheBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if e.disk != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "streamfront_edge_cache_bytes",
			Help:        "Bytes held by each cache tier.",
			ConstLabels: prometheus.Labels{"tier": "disk"},
		}, func() float64 { return float64(e.disk.Bytes()) }))
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

func (e *Edge) serveMetrics(w http.ResponseWriter, r *http.Request) {
	e.setEdgeHeaders(w.Header(), xcacheMiss, 0)
	w.Header()["Cache-Control"] = e.hdrs.noStore
	e.metrics.handler.ServeHTTP(w, r)
}

// Registry is the Edge's Prometheus registry, for a caller that wants to
// expose it elsewhere or add its own collectors.
func (e *Edge) Registry() *prometheus.Registry { return e.metrics.registry }
