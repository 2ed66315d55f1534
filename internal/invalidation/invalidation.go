package invalidation

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamfront/streamfront/internal/queue"
)

const (
	feedName      = "invalidations"
	keepFor       = 30 * 24 * time.Hour
	bucketApplied = "STREAMFRONT_INVAL_APPLIED"
)

// Invalidation is one request to drop paths from every edge.
type Invalidation struct {
	ID    string    `json:"id"`
	Paths []string  `json:"paths"`
	At    time.Time `json:"at"`
	Why   string    `json:"why,omitempty"`
}

// Record is an invalidation with when each edge applied it.
type Record struct {
	Invalidation
	Applied map[string]time.Time `json:"applied"`
}

// Publisher is the origin's side.
type Publisher struct {
	feed    *queue.Feed
	applied jetstream.KeyValue
}

// NewPublisher opens the feed and the record of applications on q.
func NewPublisher(ctx context.Context, q *queue.Queue) (*Publisher, error) {
	f, err := q.Feed(ctx, feedName, keepFor)
	if err != nil {
		return nil, err
	}
	kv, err := q.KeyValue(ctx, bucketApplied, keepFor)
	if err != nil {
		return nil, err
	}
	return &Publisher{feed: f, applied: kv}, nil
}

// Publish appends inv to the feed.
func (p *Publisher) Publish(ctx context.Context, inv Invalidation) error {
	body, _ := json.Marshal(inv)
	return p.feed.Publish(ctx, inv.ID, body)
}

// History is the last n invalidations, newest first, with when each edge
// applied them.
func (p *Publisher) History(ctx context.Context, n int) ([]Record, error) {
	msgs, err := p.feed.Last(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		var inv Invalidation
		if json.Unmarshal(msgs[i].Body, &inv) != nil {
			continue
		}
		rec := Record{Invalidation: inv, Applied: map[string]time.Time{}}
		keys, err := p.applied.ListKeysFiltered(ctx, appliedKey(inv.ID, "*"))
		if err == nil {
			for k := range keys.Keys() {
				if e, err := p.applied.Get(ctx, k); err == nil {
					var at time.Time
					if at.UnmarshalText(e.Value()) == nil {
						rec.Applied[k[strings.LastIndexByte(k, '.')+1:]] = at
					}
				}
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// CountPaths is how many paths were invalidated in [from, to).
func (p *Publisher) CountPaths(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := p.feed.Since(ctx, from, func(m queue.Message) bool {
		var inv Invalidation
		if json.Unmarshal(m.Body, &inv) == nil && !inv.At.Before(from) && inv.At.Before(to) {
			n += int64(len(inv.Paths))
		}
		return m.Time.Before(to)
	})
	return n, err
}

// appliedKey names an application: KV keys allow [-_=/.A-Za-z0-9].
func appliedKey(id, edge string) string { return "a." + safe(id) + "." + safe(edge) }

func safe(s string) string {
	if s == "*" {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// Follower is an edge's side.
type Follower struct {
	// Queue connects to NATS (URL required).
	Queue queue.Config
	// Edge is the edge's name: its place in the feed.
	Edge   string
	Logger *slog.Logger
}

// Follow applies every invalidation this edge has not applied yet, then
// says it caught up, then applies each new one, until ctx ends. While NATS
// cannot be reached it keeps trying (and has not caught up).
func (f *Follower) Follow(ctx context.Context, caughtUp func(), apply func(paths []string)) error {
	log := f.Logger
	if log == nil {
		log = slog.Default()
	}
	for ctx.Err() == nil {
		err := f.follow(ctx, caughtUp, apply, log)
		if ctx.Err() != nil {
			break // stopping: not a failure
		}
		log.Warn("invalidation feed unavailable; the disk tier waits until it is", slog.Any("err", err))
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	return ctx.Err()
}

func (f *Follower) follow(ctx context.Context, caughtUp func(), apply func([]string), log *slog.Logger) error {
	cfg := f.Queue
	cfg.Logger = log
	if cfg.Name == "" {
		cfg.Name = "edge-" + f.Edge
	}
	q, err := queue.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer q.Close()
	feed, err := q.Feed(ctx, feedName, keepFor)
	if err != nil {
		return err
	}
	kv, err := q.KeyValue(ctx, bucketApplied, keepFor)
	if err != nil {
		return err
	}
	return feed.Follow(ctx, f.Edge, caughtUp, func(m queue.Message) error {
		f.handle(ctx, m, kv, apply, log)
		return nil // applied, or unreadable (reading it again cannot help)
	})
}

func (f *Follower) handle(ctx context.Context, m queue.Message, kv jetstream.KeyValue, apply func([]string), log *slog.Logger) {
	var inv Invalidation
	if json.Unmarshal(m.Body, &inv) != nil {
		log.Error("unreadable invalidation skipped", slog.Uint64("seq", m.Seq))
		return
	}
	apply(inv.Paths)
	now, _ := time.Now().UTC().MarshalText()
	if _, err := kv.Put(ctx, appliedKey(inv.ID, f.Edge), now); err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("invalidation applied but not recorded", slog.String("id", inv.ID), slog.Any("err", err))
	}
}
