package origin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
)

// Jobs survive a crash through lease objects in S3 (jobs/{id}.json): the
// process working on a video keeps its lease fresh; a lease that goes
// stale (its owner died) is taken over by whichever origin notices first,
// using If-Match so only one wins. An upload holds a lease too, so a
// process killed mid-upload leaves a stale upload lease and the video is
// marked failed rather than "uploading" forever.

type jobKind string

const (
	jobUpload  jobKind = "upload"
	jobPackage jobKind = "package"
)

// maxAttempts is how many times packaging is tried before the video is
// marked failed (a crash or an S3 outage counts as a try).
const maxAttempts = 3

func leaseKey(id string) string { return "jobs/" + id + ".json" }

type leaseRecord struct {
	Kind      jobKind   `json:"kind"`
	Owner     string    `json:"owner"`
	Heartbeat time.Time `json:"heartbeat"`
	Attempts  int       `json:"attempts"`
}

// lease is this process's hold on a video's job.
type lease struct {
	r     *jobRunner
	id    string
	mu    sync.Mutex
	rec   leaseRecord
	etag  string
	owned bool
}

// jobRunner runs packaging jobs on a fixed number of workers.
type jobRunner struct {
	s     *Server
	owner string // this process's name on leases
	queue chan *lease

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

func newJobRunner(s *Server) *jobRunner {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &jobRunner{s: s, owner: hex.EncodeToString(b[:]), queue: make(chan *lease, 1024), running: map[string]context.CancelFunc{}}
}

// claimNew takes the lease of a new video.
func (j *jobRunner) claimNew(ctx context.Context, id string, kind jobKind) (*lease, error) {
	l := &lease{r: j, id: id, rec: leaseRecord{Kind: kind, Owner: j.owner, Heartbeat: time.Now().UTC()}}
	body, _ := json.Marshal(l.rec)
	etag, err := j.s.store.PutIfAbsent(ctx, leaseKey(id), body, "application/json")
	if err != nil {
		return nil, fmt.Errorf("claim job %s: %w", id, err)
	}
	l.etag, l.owned = etag, true
	return l, nil
}

// write stores the lease record if nobody took it meanwhile.
func (l *lease) write(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rec.Heartbeat = time.Now().UTC()
	body, _ := json.Marshal(l.rec)
	etag, err := l.r.s.store.PutIfMatch(ctx, leaseKey(l.id), body, "application/json", l.etag)
	if err != nil {
		l.owned = false
		return fmt.Errorf("lease %s: %w", l.id, err)
	}
	l.etag = etag
	return nil
}

// become turns an upload lease into a packaging lease.
func (l *lease) become(ctx context.Context, kind jobKind) error {
	l.mu.Lock()
	l.rec.Kind = kind
	l.mu.Unlock()
	return l.write(ctx)
}

// keepAlive refreshes the lease until ctx is done; if the lease is lost
// (another process took it over), it calls lost.
func (l *lease) keepAlive(ctx context.Context, lost func()) {
	t := time.NewTicker(l.r.s.cfg.LeaseTTL / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.write(ctx); err != nil && ctx.Err() == nil {
				if errors.Is(err, store.ErrPrecondition) {
					l.r.s.log.Warn("job lease lost", slog.String("id", l.id))
					lost()
					return
				}
				l.r.s.log.Warn("job lease refresh failed", slog.String("id", l.id), slog.Any("err", err))
			}
		}
	}
}

// release deletes the lease: the job is over.
func (l *lease) release(ctx context.Context) {
	if err := l.r.s.store.Delete(ctx, leaseKey(l.id)); err != nil {
		l.r.s.log.Warn("release lease", slog.String("id", l.id), slog.Any("err", err))
	}
}

func (j *jobRunner) enqueue(id string, l *lease) {
	select {
	case j.queue <- l:
	default:
		// The queue is full: leave the lease to go stale; the sweep picks
		// the job up once workers are free.
		j.s.log.Warn("job queue full; job deferred", slog.String("id", id))
	}
}

// cancel stops a running job (the video is being deleted).
func (j *jobRunner) cancel(id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if c, ok := j.running[id]; ok {
		c()
	}
}

// run works the queue with cfg.Workers workers and sweeps for stale
// leases, until ctx is done.
func (j *jobRunner) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < j.s.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case l := <-j.queue:
					j.work(ctx, l)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		j.sweepLoop(ctx)
	}()
	wg.Wait()
}

// sweepLoop looks for stale leases at start and then every LeaseTTL/3.
func (j *jobRunner) sweepLoop(ctx context.Context) {
	t := time.NewTicker(j.s.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		j.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (j *jobRunner) sweep(ctx context.Context) {
	after := ""
	for {
		keys, more, err := j.s.store.ListPage(ctx, "jobs/", after, "", 1000)
		if err != nil {
			if ctx.Err() == nil {
				j.s.log.Warn("sweep jobs", slog.Any("err", err))
			}
			return
		}
		for _, k := range keys {
			id := strings.TrimSuffix(strings.TrimPrefix(k, "jobs/"), ".json")
			if catalog.ValidID(id) {
				j.takeOverIfStale(ctx, id)
			}
		}
		if !more || len(keys) == 0 {
			return
		}
		after = keys[len(keys)-1]
	}
}

// takeOverIfStale claims a lease whose owner stopped refreshing it.
func (j *jobRunner) takeOverIfStale(ctx context.Context, id string) {
	body, etag, err := j.s.store.Get(ctx, leaseKey(id), 64<<10)
	if err != nil {
		return
	}
	var rec leaseRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		rec = leaseRecord{Kind: jobPackage} // unreadable: treat as stale
	}
	if time.Since(rec.Heartbeat) < j.s.cfg.LeaseTTL {
		return
	}
	l := &lease{r: j, id: id, rec: rec, etag: etag}
	l.rec.Owner = j.owner
	if err := l.write(ctx); err != nil {
		return // someone else took it
	}
	j.s.log.Info("took over stale job", slog.String("id", id), slog.String("kind", string(rec.Kind)))
	if rec.Kind == jobUpload {
		j.s.failVideo(ctx, id, "The upload was interrupted before it completed (the server handling it stopped); upload the file again.")
		_ = j.s.store.Delete(ctx, catalog.SourceKey(id))
		l.release(ctx)
		return
	}
	j.enqueue(id, l)
}

// work runs one packaging job under its lease.
func (j *jobRunner) work(ctx context.Context, l *lease) {
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	j.mu.Lock()
	j.running[l.id] = cancel
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		delete(j.running, l.id)
		j.mu.Unlock()
	}()

	l.mu.Lock()
	l.rec.Attempts++
	attempts := l.rec.Attempts
	l.mu.Unlock()
	if err := l.write(jobCtx); err != nil {
		return // lost the lease before starting
	}
	go l.keepAlive(jobCtx, cancel)

	log := j.s.log.With(slog.String("id", l.id), slog.Int("attempt", attempts))
	start := time.Now()
	err := j.s.packageVideo(jobCtx, l.id)
	switch {
	case err == nil:
		log.Info("packaged", slog.Duration("took", time.Since(start)))
		j.s.metrics.packaged.WithLabelValues("ready").Observe(time.Since(start).Seconds())
		l.release(context.WithoutCancel(ctx))
	case errors.Is(err, catalog.ErrNotFound):
		l.release(context.WithoutCancel(ctx)) // deleted meanwhile
	case ctx.Err() != nil:
		// Shutting down: keep the lease; it goes stale and the job resumes.
	case jobCtx.Err() != nil:
		// Cancelled (deleted, or lease lost): nothing more to do here.
	case isInputError(err):
		log.Info("video failed", slog.String("reason", err.Error()))
		j.s.metrics.packaged.WithLabelValues("failed").Observe(time.Since(start).Seconds())
		j.s.failVideo(context.WithoutCancel(ctx), l.id, err.Error())
		l.release(context.WithoutCancel(ctx))
	case attempts >= maxAttempts:
		log.Error("packaging failed for good", slog.Any("err", err))
		j.s.failVideo(context.WithoutCancel(ctx), l.id,
			"Packaging failed on our side after several tries; upload the file again, and tell us if it keeps happening.")
		l.release(context.WithoutCancel(ctx))
	default:
		log.Warn("packaging failed; will retry", slog.Any("err", err))
		time.AfterFunc(time.Duration(attempts)*2*time.Second, func() { j.enqueue(l.id, l) })
	}
}

// failVideo marks a video failed with a reason a person can act on. A
// video already ready stays ready with what it has: its job ends (no
// stage left) and the error says what is missing.
func (s *Server) failVideo(ctx context.Context, id, reason string) {
	v, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
		if v.Status == catalog.Ready {
			if v.Final {
				return errAlreadyReady
			}
			v.Final, v.Stage, v.Percent = true, "", 100
			v.Error = "Only some qualities could be made: " + reason
			return nil
		}
		v.Status, v.Error, v.Stage = catalog.Failed, reason, ""
		return nil
	})
	if err != nil {
		if !errors.Is(err, errAlreadyReady) {
			s.log.Error("mark video failed", slog.String("id", id), slog.Any("err", err))
		}
		return
	}
	s.events.publish(id, eventFor(v))
}

var errAlreadyReady = errors.New("already ready")
