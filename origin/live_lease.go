package origin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A broadcast lives in the memory of the origin process that hosts it
// (its muxer, its encoder's connection). When that process stops cleanly
// it ends its broadcasts (endHosted); when it is killed outright, nobody
// would, and the stream would say "live" forever with its recording never
// made. So the host renews a lease on each broadcast it runs
// (HostSeenAt, every leaseEvery), and every origin sweeps the streams
// as often: a broadcast whose lease is older than LiveConfig.HostLeaseTTL
// is ended for its host, and what was recorded (every segment reached S3
// as it was made) becomes a video through the recording queue, as after
// any end.

// leaseEvery is how often leases are renewed and swept: 2/7 of the TTL
// (10 s of 35), so a lease survives two lost renewals and a late sweep.
func (l *liveService) leaseEvery() time.Duration { return l.cfg.HostLeaseTTL * 2 / 7 }

// errLeaseHeld stops an update whose record needs nothing.
var errLeaseHeld = errors.New("live: lease held")

// renewLeases writes HostSeenAt on every broadcast this process hosts.
func (l *liveService) renewLeases(ctx context.Context, now time.Time) {
	l.mu.Lock()
	hosted := make(map[string]int, len(l.hosted))
	for id, b := range l.hosted {
		hosted[id] = b
	}
	l.mu.Unlock()
	for id, broadcast := range hosted {
		uctx, cancel := context.WithTimeout(ctx, liveEventTimeout)
		_, err := l.streams.update(uctx, id, func(rec *liveStream) error {
			if rec.Broadcast != broadcast || rec.Status == liveEnded {
				return errLeaseHeld
			}
			at := now.UTC()
			rec.HostSeenAt = &at
			return nil
		})
		cancel()
		if err != nil && !errors.Is(err, errLeaseHeld) && !errors.Is(err, errNoLiveStream) && ctx.Err() == nil {
			l.log.Warn("live: lease not renewed", slog.String("stream", id), slog.Any("err", err))
		}
	}
}

// sweepLeases ends the broadcasts whose host stopped renewing their lease.
func (l *liveService) sweepLeases(ctx context.Context, now time.Time) {
	cursor := ""
	for {
		page, next, err := l.streams.list(ctx, cursor, 100)
		if err != nil {
			if ctx.Err() == nil {
				l.log.Warn("live: lease sweep stopped", slog.Any("err", err))
			}
			return
		}
		for _, rec := range page {
			if leaseExpired(rec, now, l.cfg.HostLeaseTTL) && !l.hosts(rec.ID, rec.Broadcast) {
				l.endOrphan(ctx, rec.ID, rec.Broadcast, now)
			}
		}
		if next == "" {
			return
		}
		cursor = next
	}
}

// leaseExpired tells whether rec is a broadcast not ended whose host has
// not renewed it for ttl. A record with no lease at all (written
// before leases, or by a host that died before its first renewal) counts
// from its last update.
func leaseExpired(rec *liveStream, now time.Time, ttl time.Duration) bool {
	if rec.Broadcast == 0 || rec.Status == liveEnded {
		return false
	}
	seen := rec.UpdatedAt
	if rec.HostSeenAt != nil && rec.HostSeenAt.After(seen) {
		seen = *rec.HostSeenAt
	}
	return now.Sub(seen) > ttl
}

func (l *liveService) hosts(id string, broadcast int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.hosted[id]
	return ok && b == broadcast
}

// endOrphan ends broadcast of stream id for its vanished host, once: of
// origins sweeping at the same time, the one whose conditional write wins
// queues the recording.
func (l *liveService) endOrphan(ctx context.Context, id string, broadcast int, now time.Time) {
	uctx, cancel := context.WithTimeout(ctx, liveEventTimeout)
	defer cancel()
	rec, err := l.streams.update(uctx, id, func(rec *liveStream) error {
		if rec.Broadcast != broadcast || !leaseExpired(rec, now, l.cfg.HostLeaseTTL) {
			return errLeaseHeld
		}
		at := now.UTC()
		rec.Status, rec.EndedAt = liveEnded, &at
		rec.Error = "The server running the broadcast stopped answering; start the encoder again to begin a new broadcast."
		return nil
	})
	if errors.Is(err, errLeaseHeld) || errors.Is(err, errNoLiveStream) {
		return
	}
	if err != nil {
		l.log.Warn("live: orphaned broadcast not ended", slog.String("stream", id), slog.Any("err", err))
		return
	}
	l.log.Warn("live: ended a broadcast whose host stopped renewing its lease", slog.String("stream", id), slog.Int("broadcast", broadcast))
	l.fanout.publish(id, liveEvent{Kind: "ended", Status: rec.Status, Error: rec.Error})
	if !rec.Record {
		return
	}
	body, _ := json.Marshal(recordingJob{Stream: id, Broadcast: broadcast})
	if _, err := l.kind.Publish(uctx, fmt.Sprintf("live-recording-%s-%d", id, broadcast), body); err != nil {
		l.log.Warn("live: recording of an orphaned broadcast not queued", slog.String("stream", id), slog.Any("err", err))
	}
}

// runLeases renews and sweeps until ctx is done.
func (l *liveService) runLeases(ctx context.Context, now func() time.Time) {
	tick := time.NewTicker(l.leaseEvery())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			l.renewLeases(ctx, now())
			l.sweepLeases(ctx, now())
		}
	}
}
