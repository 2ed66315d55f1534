package usagestore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/origin/usagestore"
)

func testStore(t *testing.T) *store.Store {
	t.Helper()
	s3srv := testenv.StartS3(t)
	s, err := store.New(store.Config{Endpoint: s3srv.Endpoint, Bucket: "streamfront", AccessKey: s3srv.AccessKey,
		SecretKey: s3srv.SecretKey, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a time the test moves.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }

func newLedger(t *testing.T, s *store.Store, clk *clock) *usagestore.Ledger {
	t.Helper()
	l, err := usagestore.New(usagestore.Config{Store: s, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newMeter(t *testing.T, edge string, sink usage.Sink, clk *clock) *usage.Meter {
	t.Helper()
	m, err := usage.New(usage.Config{Edge: edge, Sink: sink, Now: clk.now, FlushInterval: time.Hour,
		RetryMin: time.Millisecond, RetryMax: 4 * time.Millisecond})
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

// lostAnswer stores through the real S3 sink but reports failure for the
// first n puts: the retry finds the report already there, as after an
// answer lost on the network.
type lostAnswer struct {
	usage.Sink
	mu     sync.Mutex
	n      int
	failed int
}

func (s *lostAnswer) Put(ctx context.Context, r *usage.Report) error {
	if err := s.Sink.Put(ctx, r); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed < s.n {
		s.failed++
		return context.DeadlineExceeded
	}
	return nil
}

func query(t *testing.T, l *usagestore.Ledger, from, to time.Time, g usage.Granularity, by usage.GroupBy) usage.Answer {
	t.Helper()
	a, err := l.Query(context.Background(), usage.Query{From: from, To: to, Granularity: g, GroupBy: by})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
