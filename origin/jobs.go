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

// An upload in progress holds a lease object in S3 (jobs/{id}.json) that
// its origin keeps fresh: a process killed mid-upload leaves a stale lease,
// which whichever origin notices first takes over (If-Match, so only one
// wins) and marks the video failed rather than "uploading" forever.
// Packaging and encoding are not leased here: they are jobs on the queue
// (jobs_queue.go), which redelivers the job of a process that died.

type jobKind string

const (
	jobUpload  jobKind = "upload"
	jobPackage jobKind = "package"
)

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

// jobRunner keeps upload leases and sweeps for stale ones.
type jobRunner struct {
	s     *Server
	owner string // this process's name on leases
}

func newJobRunner(s *Server) *jobRunner {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &jobRunner{s: s, owner: hex.EncodeToString(b[:])}
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

// run sweeps for stale upload leases until ctx is done.
func (j *jobRunner) run(ctx context.Context) { j.sweepLoop(ctx) }

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
	// An upload whose body was stored (the video is processing) lost only
	// its hand-over to the queue; a package lease is one of a version that
	// packaged under leases. Either way the video goes to the queue now.
	if v, err := j.s.catalog.Get(ctx, id); err == nil && v.Status == catalog.Processing {
		if err := j.s.queuePackage(ctx, id); err == nil {
			l.release(ctx)
		}
		return
	}
	if rec.Kind == jobUpload {
		j.s.failVideo(ctx, id, "The upload was interrupted before it completed (the server handling it stopped); upload the file again.")
		_ = j.s.store.Delete(ctx, catalog.SourceKey(id))
	}
	l.release(ctx)
}

// failVideo marks a video failed with a reason a person can act on. A
// video already ready stays ready with what it has: its job ends (no
// stage left) and the error says what is missing.
func (s *core) failVideo(ctx context.Context, id, reason string) {
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
	s.notify(ctx, v)
}

var errAlreadyReady = errors.New("already ready")
