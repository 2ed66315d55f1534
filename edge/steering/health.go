package steering

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// healthPath is what the router probes on every edge: the edge's own
// health endpoint, which answers without touching the cache or the origin.
const healthPath = "/healthz"

// edgeHealth is the router's view of one edge: whether it is up and how
// far away it is. Its prober writes it; request handlers read snapshots.
type edgeHealth struct {
	edge  Edge
	index int // position in Config.Edges, for stable tie-breaks

	mu        sync.Mutex
	up        bool
	fails     int           // consecutive failed health checks
	passes    int           // consecutive passed health checks
	rtt       time.Duration // moving average; meaningful when samples > 0
	samples   int64
	lastError string
}

// edgeStatus is a snapshot of one edgeHealth.
type edgeStatus struct {
	Name    string
	URL     string
	Index   int
	Up      bool
	RTT     time.Duration // 0 when unknown
	Samples int64
	Error   string // the last failed check's reason while down
}

// newEdgeHealth starts an edge as up: until the first checks say
// otherwise, a viewer is better served by trying it than by an error.
func newEdgeHealth(e Edge, index int) *edgeHealth {
	return &edgeHealth{edge: e, index: index, up: true}
}

func (h *edgeHealth) status() edgeStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := edgeStatus{Name: h.edge.Name, URL: h.edge.URL, Index: h.index, Up: h.up, Samples: h.samples}
	if h.samples > 0 {
		s.RTT = max(h.rtt, time.Microsecond) // known RTTs are never 0
	}
	if !h.up {
		s.Error = h.lastError
	}
	return s
}

// recordCheck counts one health check and reports whether it turned the
// edge down or up. failAfter consecutive failures mark it down,
// recoverAfter consecutive passes mark it up again.
func (h *edgeHealth) recordCheck(err error, failAfter, recoverAfter int) (changed, up bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.passes = 0
		h.fails++
		h.lastError = err.Error()
		if h.up && h.fails >= failAfter {
			h.up = false
			return true, false
		}
		return false, h.up
	}
	h.fails = 0
	h.passes++
	if !h.up && h.passes >= recoverAfter {
		h.up = true
		h.lastError = ""
		return true, true
	}
	return false, h.up
}

// recordRTT folds one round-trip sample into the moving average.
func (h *edgeHealth) recordRTT(sample time.Duration, weight float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.samples == 0 {
		h.rtt = sample
	} else {
		h.rtt = time.Duration(weight*float64(sample) + (1-weight)*float64(h.rtt))
	}
	h.samples++
}

// statuses returns a snapshot of every edge, in configuration order.
func (rt *Router) statuses() []edgeStatus {
	out := make([]edgeStatus, len(rt.edges))
	for i, h := range rt.edges {
		out[i] = h.status()
	}
	return out
}

// runProbes health-checks and latency-probes every edge until ctx is done,
// one goroutine per edge, each owned by rt.probes.
func (rt *Router) runProbes(ctx context.Context) {
	for _, h := range rt.edges {
		rt.probes.Add(1)
		go func() {
			defer rt.probes.Done()
			rt.probeLoop(ctx, h)
		}()
	}
}

// probeLoop checks one edge at once, then on every tick. Health checks
// decide up and down; both kinds of probe feed the round-trip average.
func (rt *Router) probeLoop(ctx context.Context, h *edgeHealth) {
	rt.healthCheck(ctx, h)
	health := time.NewTicker(rt.cfg.HealthCheckInterval)
	defer health.Stop()
	var latency <-chan time.Time
	if rt.cfg.LatencyProbeInterval > 0 {
		t := time.NewTicker(rt.cfg.LatencyProbeInterval)
		defer t.Stop()
		latency = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-health.C:
			rt.healthCheck(ctx, h)
		case <-latency:
			if rtt, _, err := rt.probe(ctx, h.edge); err == nil {
				h.recordRTT(rtt, rt.cfg.RTTWeight)
			}
		}
	}
}

func (rt *Router) healthCheck(ctx context.Context, h *edgeHealth) {
	rtt, status, err := rt.probe(ctx, h.edge)
	if ctx.Err() != nil {
		return // shutting down: not the edge's fault
	}
	if err == nil {
		h.recordRTT(rtt, rt.cfg.RTTWeight)
		if status/100 != 2 {
			err = fmt.Errorf("GET %s answered %d", healthPath, status)
		}
	}
	changed, up := h.recordCheck(err, rt.cfg.FailAfter, rt.cfg.RecoverAfter)
	switch {
	case changed && up:
		rt.log.Info("edge is up again", "edge", h.edge.Name, "url", h.edge.internal())
	case changed:
		rt.log.Warn("edge is down", "edge", h.edge.Name, "url", h.edge.internal(), "err", err)
	}
}

// probe sends GET {edge's InternalURL}/healthz and returns the round-trip time: from
// the request written to the first response byte, which leaves out DNS,
// connection and TLS setup (the connection is usually reused) and so
// measures what a viewer's request to that edge waits for.
func (rt *Router) probe(ctx context.Context, e Edge) (time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(ctx, rt.cfg.HealthCheckTimeout)
	defer cancel()
	// The transport calls these from its own goroutines (writing and
	// reading the connection), hence atomics.
	var wrote, firstByte atomic.Int64 // monotonic nanoseconds since start
	start := time.Now()
	trace := &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote.Store(int64(time.Since(start))) },
		GotFirstResponseByte: func() { firstByte.Store(int64(time.Since(start))) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, e.internal()+healthPath, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := rt.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", healthPath, err)
	}
	// Drain a little so the connection is reused; health answers are tiny.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	w, f := wrote.Load(), firstByte.Load()
	if w == 0 || f < w {
		return 0, resp.StatusCode, fmt.Errorf("GET %s: no timing from the transport", healthPath)
	}
	return time.Duration(f - w), resp.StatusCode, nil
}
