package usage_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

// clock is a time the test moves.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }

// recorder is a Sink that keeps what it is given, by report ID, and can be
// told to fail: the Meter's own tests look at what leaves it (the S3 sink
// is tested in origin/usagestore).
type recorder struct {
	mu      sync.Mutex
	reports map[string]*usage.Report
	puts    int
	failN   int // fail this many more Puts
	always  bool
	onFail  func() // called when a Put fails
}

var errSinkDown = errors.New("sink down")

func (r *recorder) Put(_ context.Context, rep *usage.Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.puts++
	if r.always || r.failN > 0 {
		r.failN--
		if r.onFail != nil {
			r.onFail()
		}
		return errSinkDown
	}
	if r.reports == nil {
		r.reports = map[string]*usage.Report{}
	}
	if _, ok := r.reports[rep.ID()]; !ok {
		r.reports[rep.ID()] = rep
	}
	return nil
}

func (r *recorder) records() []usage.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all [][]usage.Record
	for _, rep := range r.reports {
		all = append(all, rep.Records())
	}
	return usage.Fold(all...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reports)
}

func sum(rs []usage.Record) usage.Counts {
	var c usage.Counts
	for _, r := range rs {
		c.Requests += r.Requests
		c.BytesOut += r.BytesOut
		c.OriginBytes += r.OriginBytes
		c.DeliveredNanos += r.DeliveredNanos
	}
	return c
}

func newMeter(t *testing.T, cfg usage.Config) *usage.Meter {
	t.Helper()
	if cfg.Edge == "" {
		cfg.Edge = "edge-1"
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Hour // tests flush by hand
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = time.Millisecond, 4*time.Millisecond
	}
	m, err := usage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = m.Close(ctx)
	})
	return m
}
