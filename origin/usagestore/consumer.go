package usagestore

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/usage"
)

// Consume moves reports from the queue (usage.QueueSink at the edges) to
// S3 until ctx is done. A report is acknowledged only once stored, so an
// origin that dies mid-way leaves it to be delivered again, and storing it
// again is harmless (Sink keeps the first copy of an ID).
func (l *Ledger) Consume(ctx context.Context, k *queue.Kind) error {
	sink := l.Sink()
	p := &queue.Pool{Kinds: []*queue.Kind{k}, Slots: 4, Logger: l.log,
		Handle: func(ctx context.Context, j *queue.Job) {
			var r usage.Report
			err := json.Unmarshal(j.Body(), &r)
			if err == nil {
				err = r.Validate()
			}
			if err != nil {
				l.log.Error("usage report dropped: unreadable", slog.Any("err", err))
				_ = j.Drop()
				return
			}
			// Retry here rather than give the job back: the pool keeps its
			// lease alive meanwhile, and JetStream's MaxDeliver would
			// otherwise drop a report after a few minutes of S3 outage.
			backoff := time.Second
			for {
				err := sink.Put(ctx, &r)
				if err == nil {
					_ = j.Done()
					return
				}
				l.log.Warn("usage report not stored; retrying", slog.String("report", r.ID()),
					slog.Duration("in", backoff), slog.Any("err", err))
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return // unsettled: the pool gives it back for another origin
				}
				backoff = min(2*backoff, time.Minute)
			}
		}}
	return p.Run(ctx)
}
