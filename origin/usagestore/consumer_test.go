package usagestore_test

import (
	"context"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/usage"
)

// TestConsume_ReportsFromTheQueueStoredOnce sends reports the way an edge
// without S3 credentials does: published twice (a retry inside JetStream's
// duplicate window) and once more after the first copy was already in S3
// (a replay after the window), each counted once.
func TestConsume_ReportsFromTheQueueStoredOnce(t *testing.T) {
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
	a := query(t, l, midnight, midnight.Add(time.Hour), usage.Hourly, usage.ByVideo)
	if a.Totals.Requests != 12 || a.Totals.BytesOut != 1200 {
		t.Fatalf("totals %+v, want 12 requests and 1200 bytes", a.Totals)
	}
}
