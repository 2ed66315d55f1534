package origin

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamfront/streamfront/internal/queue"
)

// jobMetrics are the queue's and the encoders' series, on origins and
// workers alike.
type jobMetrics struct {
	redeliveries *prometheus.CounterVec
	encodes      *prometheus.HistogramVec
	inFlight     prometheus.Gauge

	mu    sync.Mutex
	kinds jobKinds
}

func newJobMetrics() *jobMetrics {
	return &jobMetrics{
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamfront_job_redeliveries_total",
			Help: "Jobs taken again after a worker died or a try failed, by subject.",
		}, []string{"subject"}),
		encodes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamfront_worker_encode_seconds",
			Help:    "Time of one encode job on this worker, by task and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 16),
		}, []string{"task", "outcome"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamfront_worker_jobs_in_flight",
			Help: "Encode jobs running on this worker now.",
		}),
	}
}

// watch makes the queue depth of kinds part of what collectors report.
func (m *jobMetrics) watch(k jobKinds) {
	m.mu.Lock()
	m.kinds = k
	m.mu.Unlock()
}

// collectors are the series to register (queue depth is read from NATS
// at each scrape, for every process, not counted by one).
func (m *jobMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.redeliveries, m.encodes, m.inFlight, depthCollector{m}}
}

var depthDesc = prometheus.NewDesc("streamfront_queue_jobs",
	"Jobs in the queue by kind and state (waiting: not yet taken; in_flight: taken, not yet done), across all processes.",
	[]string{"kind", "state"}, nil)

type depthCollector struct{ m *jobMetrics }

func (d depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc }

func (d depthCollector) Collect(ch chan<- prometheus.Metric) {
	d.m.mu.Lock()
	k := d.m.kinds
	d.m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, kind := range []*queue.Kind{k.pkg, k.first, k.ladder, k.liveLadder} {
		if kind == nil {
			continue
		}
		waiting, inFlight, err := kind.Depth(ctx)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(waiting), kind.Name(), "waiting")
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(inFlight), kind.Name(), "in_flight")
	}
}
