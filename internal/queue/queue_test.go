package queue_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/queue"
)

func startQueue(t *testing.T, ackWait time.Duration) *queue.Queue {
	t.Helper()
	ns, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Close)
	q, err := queue.Open(context.Background(), queue.Config{URL: ns.URL(), AckWait: ackWait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	return q
}

// runPool works jobs until the test ends.
func runPool(t *testing.T, p *queue.Pool) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func TestQueue_EachJobOnceAcrossWorkers_DuplicatesDropped(t *testing.T) {
	q := startQueue(t, 5*time.Second)
	ctx := context.Background()
	k, err := q.Kind(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		id := fmt.Sprintf("job-%d", i)
		for range 2 { // published twice: kept once
			if _, err := k.Publish(ctx, id, []byte(id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var all sync.WaitGroup
	all.Add(20)
	for range 3 {
		c, err := q.Kind(ctx, "test") // one handle per worker, as in separate processes
		if err != nil {
			t.Fatal(err)
		}
		runPool(t, &queue.Pool{Kinds: []*queue.Kind{c}, Slots: 2, Poll: 50 * time.Millisecond,
			Handle: func(_ context.Context, j *queue.Job) {
				mu.Lock()
				seen[string(j.Body())]++
				mu.Unlock()
				_ = j.Done()
				all.Done()
			}})
	}
	waitOrFail(t, &all, 20*time.Second)
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 20 {
		t.Fatalf("%d distinct jobs worked, want 20", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s worked %d times", id, n)
		}
	}
}

func TestQueue_JobOfDeadWorkerIsRedelivered(t *testing.T) {
	q := startQueue(t, time.Second)
	ctx := context.Background()
	c, err := q.Kind(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, "a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	// The first worker takes the job and "dies": it never settles it and
	// sends no heartbeat (its handler blocks past the pool's stop).
	taken := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	dead := &queue.Pool{Kinds: []*queue.Kind{c}, Poll: 50 * time.Millisecond, AckWait: time.Hour,
		Handle: func(context.Context, *queue.Job) { close(taken); <-release }}
	deadCtx, stopDead := context.WithCancel(context.Background())
	defer stopDead() // ends its fetch loop (its handler ends with release)
	go func() { _ = dead.Run(deadCtx) }()
	<-taken

	got := make(chan int, 1)
	runPool(t, &queue.Pool{Kinds: []*queue.Kind{c}, Poll: 50 * time.Millisecond,
		Handle: func(_ context.Context, j *queue.Job) { _ = j.Done(); got <- j.Attempt }})
	select {
	case attempt := <-got:
		if attempt != 2 {
			t.Errorf("redelivered as attempt %d, want 2", attempt)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the dead worker's job was not redelivered")
	}
}

func TestQueue_HeartbeatKeepsLongJobWithItsWorker(t *testing.T) {
	q := startQueue(t, 600*time.Millisecond)
	ctx := context.Background()
	c, err := q.Kind(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, "long", nil); err != nil {
		t.Fatal(err)
	}
	var starts atomic.Int32
	var done sync.WaitGroup
	done.Add(1)
	for range 2 {
		runPool(t, &queue.Pool{Kinds: []*queue.Kind{c}, Poll: 50 * time.Millisecond, AckWait: 600 * time.Millisecond,
			Handle: func(_ context.Context, j *queue.Job) {
				if starts.Add(1) == 1 {
					time.Sleep(2 * time.Second) // over three AckWaits
					_ = j.Done()
					done.Done()
				}
			}})
	}
	waitOrFail(t, &done, 10*time.Second)
	if n := starts.Load(); n != 1 {
		t.Fatalf("the job was started %d times; heartbeats should keep it with its worker", n)
	}
}

func TestQueue_PriorityConsumerFirst(t *testing.T) {
	q := startQueue(t, 5*time.Second)
	ctx := context.Background()
	low, err := q.Kind(ctx, "low")
	if err != nil {
		t.Fatal(err)
	}
	high, err := q.Kind(ctx, "high")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, _ = low.Publish(ctx, fmt.Sprint("low", i), []byte("low"))
	}
	var lastHigh uint64
	for i := range 3 {
		lastHigh, _ = high.Publish(ctx, fmt.Sprint("high", i), []byte("high"))
	}
	if pos, err := high.Position(ctx, lastHigh); err != nil || pos != 3 {
		t.Fatalf("place in line of the third job: %d (%v), want 3", pos, err)
	}
	var mu sync.Mutex
	var order []string
	var all sync.WaitGroup
	all.Add(6)
	runPool(t, &queue.Pool{Kinds: []*queue.Kind{high, low}, Slots: 1, Poll: 50 * time.Millisecond,
		Handle: func(_ context.Context, j *queue.Job) {
			mu.Lock()
			order = append(order, string(j.Body()))
			mu.Unlock()
			_ = j.Done()
			all.Done()
		}})
	waitOrFail(t, &all, 10*time.Second)
	want := []string{"high", "high", "high", "low", "low", "low"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	waiting, inFlight, err := high.Depth(ctx)
	if err != nil || waiting != 0 || inFlight != 0 {
		t.Fatalf("depth after all done: waiting %d in flight %d err %v", waiting, inFlight, err)
	}
}

func TestQueue_StoppedPoolGivesJobBack(t *testing.T) {
	q := startQueue(t, time.Hour) // only a give-back can bring it back in time
	ctx := context.Background()
	c, _ := q.Kind(ctx, "test")
	_, _ = c.Publish(ctx, "a", nil)
	taken := make(chan struct{})
	stop := runPool(t, &queue.Pool{Kinds: []*queue.Kind{c}, Poll: 50 * time.Millisecond,
		Handle: func(ctx context.Context, _ *queue.Job) { close(taken); <-ctx.Done() }})
	<-taken
	stop()
	got := make(chan struct{})
	runPool(t, &queue.Pool{Kinds: []*queue.Kind{c}, Poll: 50 * time.Millisecond,
		Handle: func(_ context.Context, j *queue.Job) { _ = j.Done(); close(got) }})
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("a stopping worker's job did not go to another")
	}
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("not done within %s", d)
	}
}
