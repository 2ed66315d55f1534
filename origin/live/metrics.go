package live

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The Manager is a prometheus.Collector: while a stream broadcasts, its
// ingest (as Status.Ingest reports it) and its viewers (as the edges
// report them) are series labelled with the stream ID. Streams without a
// broadcast on have no series, so the label set stays the streams that
// are live now.
var _ prometheus.Collector = (*Manager)(nil)

var (
	ingestBitrateDesc = prometheus.NewDesc("streamfront_live_ingest_bitrate_bits_per_second",
		"What the encoder sends, averaged over its connection, by live stream.", []string{"stream"}, nil)
	ingestFrameRateDesc = prometheus.NewDesc("streamfront_live_ingest_frame_rate",
		"Video frames per second of media the encoder sends, by live stream.", []string{"stream"}, nil)
	ingestKeyframeDesc = prometheus.NewDesc("streamfront_live_ingest_keyframe_interval_seconds",
		"Media time between the encoder's keyframes (segments are at least this long), by live stream.", []string{"stream"}, nil)
	viewersDesc = prometheus.NewDesc("streamfront_live_viewers",
		"Viewers of a live stream: the sum of the recent counts the edges report on their playlist fills.", []string{"stream"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Manager) Describe(ch chan<- *prometheus.Desc) {
	ch <- ingestBitrateDesc
	ch <- ingestFrameRateDesc
	ch <- ingestKeyframeDesc
	ch <- viewersDesc
}

// Collect implements prometheus.Collector.
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	type sample struct {
		id     string
		ingest *IngestStats
	}
	var live []sample
	m.mu.Lock()
	for id, s := range m.streams {
		if s.muxer == nil {
			continue
		}
		smp := sample{id: id}
		if s.status.State == StateLive && s.publisher != nil {
			in := s.publisher.counters.snapshot()
			smp.ingest = &in
		}
		live = append(live, smp)
	}
	m.mu.Unlock()
	now := time.Now()
	for _, s := range live {
		ch <- prometheus.MustNewConstMetric(viewersDesc, prometheus.GaugeValue, float64(m.viewers.count(s.id, now)), s.id)
		if s.ingest == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(ingestBitrateDesc, prometheus.GaugeValue, float64(s.ingest.Bitrate), s.id)
		ch <- prometheus.MustNewConstMetric(ingestFrameRateDesc, prometheus.GaugeValue, s.ingest.FrameRate, s.id)
		ch <- prometheus.MustNewConstMetric(ingestKeyframeDesc, prometheus.GaugeValue, s.ingest.KeyframeInterval.Seconds(), s.id)
	}
}
