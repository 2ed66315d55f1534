package edge

import (
	"context"
	"time"
)

// InvalidationFeed delivers invalidations durably (package
// internal/invalidation follows a JetStream feed): every one issued while
// this edge was down, in order, then caughtUp, then each new one.
type InvalidationFeed interface {
	Follow(ctx context.Context, caughtUp func(), apply func(paths []string)) error
}

// followInvalidations applies the feed's invalidations until ctx ends. The
// disk tier survives a restart but the invalidations issued meanwhile
// reached no one: until the feed has handed them all, lookups skip the
// disk tier (misses go upstream, as after a cold start), so nothing the
// operator removed is ever served from it.
func (e *Edge) followInvalidations(ctx context.Context) {
	if e.cfg.Invalidations == nil {
		return
	}
	if e.disk != nil {
		e.diskUntrusted.Store(true)
	}
	start := time.Now()
	caughtUp := func() {
		if e.diskUntrusted.Swap(false) {
			e.log.Info("invalidations caught up; the disk tier answers again", "after", time.Since(start).Round(time.Millisecond))
		}
	}
	apply := func(paths []string) {
		n := e.invalidate(paths)
		e.metrics.invalidated.Add(float64(n))
		e.log.Info("invalidated from the feed", "paths", paths, "entries", n)
	}
	go func() { _ = e.cfg.Invalidations.Follow(ctx, caughtUp, apply) }()
}

// diskTrusted reports whether the disk tier may answer (see
// followInvalidations).
func (e *Edge) diskTrusted() bool { return e.disk != nil && !e.diskUntrusted.Load() }
