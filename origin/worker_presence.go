package origin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Workers say they are there: each writes a small record (its name, its
// slots, the encodes it runs) to a JetStream key-value bucket every
// workerPresenceEvery and when an encode starts or ends, and deletes it when
// it stops. The bucket forgets a record workerPresenceTTL after its last
// write, so a worker killed with -9 disappears from GET /api/v1/queue
// within that time instead of showing forever.
const (
	workerPresenceBucket = "STREAMFRONT_WORKERS"
	workerPresenceEvery  = 10 * time.Second
	workerPresenceTTL    = 30 * time.Second
)

// workerRecord is what a worker says of itself.
type workerRecord struct {
	Name       string `json:"name"`
	MaxEncodes int    `json:"max_encodes"`
	// LiveLadders is the worker's slots for live ladders, whose encodes
	// show with the task "live-ladder" and the stream's ID as video.
	LiveLadders int            `json:"live_ladders,omitempty"`
	Threads     int            `json:"threads,omitempty"`
	Encodes     []workerEncode `json:"encodes"`
	StartedAt   time.Time      `json:"started_at"`
	SeenAt      time.Time      `json:"seen_at"`
}

// workerEncode is one encode a worker runs.
type workerEncode struct {
	Video     string    `json:"video"`
	Task      string    `json:"task"`
	StartedAt time.Time `json:"started_at"`
}

// presence keeps a worker's record current.
type presence struct {
	kv   jetstream.KeyValue
	key  string
	log  *slog.Logger
	poke chan struct{}

	mu  sync.Mutex
	rec workerRecord
	// encodes by job ID (video and task): one worker may run several.
	encodes map[string]workerEncode
}

// presenceKey turns a worker name into a key NATS accepts (letters,
// digits, - _ = .), so any host name works.
func presenceKey(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_', r == '=':
			return r
		}
		return '_'
	}, name)
}

func newPresence(kv jetstream.KeyValue, cfg WorkerConfig, log *slog.Logger) *presence {
	return &presence{kv: kv, key: presenceKey(cfg.Name), log: log, poke: make(chan struct{}, 1),
		rec: workerRecord{Name: cfg.Name, MaxEncodes: cfg.MaxEncodes, LiveLadders: max(cfg.LiveLadders, 0), Threads: cfg.Threads,
			StartedAt: time.Now().UTC()},
		encodes: map[string]workerEncode{}}
}

// started and ended tell an encode's start and end; the record is written
// at once, not at the next tick.
func (p *presence) started(video, task string) {
	p.mu.Lock()
	p.encodes[video+"/"+task] = workerEncode{Video: video, Task: task, StartedAt: time.Now().UTC()}
	p.mu.Unlock()
	p.nudge()
}

func (p *presence) ended(video, task string) {
	p.mu.Lock()
	delete(p.encodes, video+"/"+task)
	p.mu.Unlock()
	p.nudge()
}

func (p *presence) nudge() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// run writes the record until ctx is done, then deletes it.
func (p *presence) run(ctx context.Context) {
	tick := time.NewTicker(workerPresenceEvery)
	defer tick.Stop()
	for {
		p.write(ctx)
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := p.kv.Delete(dctx, p.key); err != nil {
				p.log.Warn("worker presence not removed; it expires by itself", slog.Any("err", err))
			}
			cancel()
			return
		case <-tick.C:
		case <-p.poke:
		}
	}
}

func (p *presence) write(ctx context.Context) {
	p.mu.Lock()
	rec := p.rec
	rec.SeenAt = time.Now().UTC()
	rec.Encodes = slices.SortedFunc(maps.Values(p.encodes), func(a, b workerEncode) int { return a.StartedAt.Compare(b.StartedAt) })
	p.mu.Unlock()
	b, _ := json.Marshal(rec)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := p.kv.Put(wctx, p.key, b); err != nil && ctx.Err() == nil {
		p.log.Warn("worker presence not written", slog.Any("err", err))
	}
}

// listWorkers reads every worker's record, by name.
func listWorkers(ctx context.Context, kv jetstream.KeyValue) ([]workerRecord, error) {
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := []workerRecord{}
	for key := range keys.Keys() {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue // gone between the listing and the read
		}
		if err != nil {
			return nil, err
		}
		var rec workerRecord
		if json.Unmarshal(e.Value(), &rec) == nil {
			if rec.Encodes == nil {
				// An idle worker's record says null (a nil slice marshalled);
				// the API promises an array.
				rec.Encodes = []workerEncode{}
			}
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b workerRecord) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
