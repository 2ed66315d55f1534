package usagestore_test

import (
	"context"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/usagestore"
)

// TestConsume_ReportsFromTheQueueStoredOnce sends reports the way an edge
// without S3 credentials does: published twice (a retry inside JetStream's
// duplicate window) and once more after the first copy was already in S3
// (a replay after the window), each counted once.
func TestConsume_ReportsFromTheQueueStoredOnce(t *testing.T) {
	ctx := context.Background()
	kind := usageQueue(t)
	s := testStore(t)
	clk := newClock(midnight.Add(10 * time.Minute))
	l := newLedger(t, s, clk)

	first := report("edge-1", "abc", 1, midnight, "v1", 5, 500)
	second := report("edge-1", "abc", 2, midnight, "v1", 7, 700)
	if err := l.Sink().Put(ctx, first); err != nil { // already stored: a replay
		t.Fatal(err)
	}
	sink := &usage.QueueSink{Kind: kind}
	for _, r := range []*usage.Report{first, second, second} {
		if err := sink.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if waiting, _, err := kind.Depth(ctx); err != nil || waiting != 2 {
		t.Fatalf("queue holds %d reports (%v), want 2: the duplicate publish is dropped", waiting, err)
	}

	consumeAll(t, l, kind)
	a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByVideo)
	if a.Totals.Requests != 12 || a.Totals.BytesOut != 1200 {
		t.Fatalf("totals %+v, want 12 requests and 1200 bytes", a.Totals)
	}
}

// TestMeter_ThroughTheQueue_GracefulExactCrashShortByOneInterval is the
// issue's acceptance in small: an edge's Meter publishes on the queue, the
// origin stores; a graceful Close loses nothing, and an edge that dies
// (its last interval never flushed) is short by that interval, never over.
func TestMeter_ThroughTheQueue_GracefulExactCrashShortByOneInterval(t *testing.T) {
	ctx := context.Background()
	kind := usageQueue(t)
	s := testStore(t)
	clk := newClock(midnight.Add(10 * time.Minute))
	l := newLedger(t, s, clk)
	sink := &usage.QueueSink{Kind: kind}

	graceful := newMeter(t, "edge-1", sink, clk)
	published := make(chan struct{}, 1)
	crashing := newMeter(t, "edge-2", sinkFunc(func(ctx context.Context, r *usage.Report) error {
		err := sink.Put(ctx, r)
		if err == nil {
			published <- struct{}{}
		}
		return err
	}), clk)
	ev := usage.Event{Video: "v1", Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 1000, Delivered: 4 * time.Second}
	for range 30 {
		graceful.Add(ev)
		crashing.Add(ev)
	}
	graceful.Flush()
	crashing.Flush()
	for range 12 { // the last interval
		graceful.Add(ev)
		crashing.Add(ev)
	}
	if err := graceful.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// crashing is never closed: its last 12 events die with it. Its flushed
	// report is out before the test looks.
	<-published
	consumeAll(t, l, kind)
	a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByEdge)
	if len(a.Rows) != 2 || a.Rows[0].Edge != "edge-1" || a.Rows[0].Requests != 42 || a.Rows[0].BytesOut != 42_000 ||
		a.Rows[1].Edge != "edge-2" || a.Rows[1].Requests != 30 || a.Rows[1].DeliveredSeconds != 120 {
		t.Fatalf("rows %+v", a.Rows)
	}
}

// usageQueue starts NATS and opens the usage queue kind.
func usageQueue(t *testing.T) *queue.Kind {
	t.Helper()
	ns, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Close)
	ctx := context.Background()
	q, err := queue.Open(ctx, queue.Config{URL: ns.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	kind, err := q.Kind(ctx, usage.QueueKind)
	if err != nil {
		t.Fatal(err)
	}
	return kind
}

// consumeAll runs the origin's consumer until the queue is empty.
func consumeAll(t *testing.T, l *usagestore.Ledger, kind *queue.Kind) {
	t.Helper()
	ctx := context.Background()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Consume(runCtx, kind) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		waiting, inFlight, err := kind.Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == 0 && inFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reports still queued: %d waiting, %d in flight", waiting, inFlight)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type sinkFunc func(context.Context, *usage.Report) error

func (f sinkFunc) Put(ctx context.Context, r *usage.Report) error { return f(ctx, r) }
