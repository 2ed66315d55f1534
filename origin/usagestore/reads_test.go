package usagestore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/origin/usagestore"
)

// countingTransport counts the requests made to the (real) S3.
type countingTransport struct {
	http.RoundTripper
	n atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.RoundTripper.RoundTrip(r)
}

// TestLedger_MonthQueryReadsDaysNotReports stores a month of reports from
// three edges (one per edge per hour) and checks a month's query reads one
// object per closed day, one per hour of the open days and two listings,
// rather than the 2,000-odd reports.
func TestLedger_MonthQueryReadsDaysNotReports(t *testing.T) {
	s3srv := testenv.StartS3(t)
	counter := &countingTransport{RoundTripper: http.DefaultTransport.(*http.Transport).Clone()}
	s, err := store.New(store.Config{Endpoint: s3srv.Endpoint, Bucket: "streamfront", AccessKey: s3srv.AccessKey,
		SecretKey: s3srv.SecretKey, PathStyle: true, HTTPClient: &http.Client{Transport: counter}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now := start.AddDate(0, 0, 30).Add(12*time.Hour + 30*time.Minute) // Dec 1, 12:30
	clk := newClock(now)
	l := newLedger(t, s, clk)

	var hours []time.Time
	for h := start; !h.After(now); h = h.Add(time.Hour) {
		hours = append(hours, h)
	}
	edges := []string{"edge-1", "edge-2", "edge-3"}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				h, e := hours[i/len(edges)], edges[i%len(edges)]
				if err := l.Sink().Put(ctx, report(e, "run1", uint64(i+1), h, fmt.Sprintf("v%d", i%5), 1, 100)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range len(hours) * len(edges) {
		work <- i
	}
	close(work)
	wg.Wait()
	reports := int64(len(hours) * len(edges))

	for d := start; d.Before(now); d = d.AddDate(0, 0, 1) {
		if err := l.CompactDay(ctx, d); err != nil && !errorsIsNotFinal(err) {
			t.Fatal(err)
		}
	}
	l.CompactRecent(ctx)

	before := counter.n.Load()
	a, err := l.Query(ctx, usage.Query{From: start, To: now, Granularity: usage.Daily, GroupBy: usage.ByEdge})
	if err != nil {
		t.Fatal(err)
	}
	reads := counter.n.Load() - before
	if a.Totals.Requests != reports || len(a.Rows) != 31*len(edges) {
		t.Fatalf("totals %+v in %d rows, want %d requests in %d rows", a.Totals, len(a.Rows), reports, 31*len(edges))
	}
	// Nov 1-29 are final (their day objects: 29 reads), Nov 30 and Dec 1
	// are read by hour (24 + 13 objects) and the last two hours are listed.
	if max := int64(29 + 24 + 13 + 2); reads > max {
		t.Fatalf("a month's query made %d S3 requests, want at most %d", reads, max)
	}
	t.Logf("a month's query (%d reports from %d edges) made %d S3 requests", reports, len(edges), reads)
}

func errorsIsNotFinal(err error) bool { return errors.Is(err, usagestore.ErrNotFinal) }
