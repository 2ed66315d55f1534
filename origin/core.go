package origin

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/origin/webhooks"
	"github.com/streamfront/streamfront/packager/transcode"
)

// media is what making videos playable (on origins) and encoding them (on
// workers) both need to know.
type media struct {
	// SegmentTarget is the HLS segment duration aimed for.
	SegmentTarget time.Duration
	// Ladder is the ABR ladder a worker encodes (ignored by origins).
	Ladder []transcode.Rung
	// WriteAhead stores every playlist and segment once a video is
	// complete (done by the worker that completes it).
	WriteAhead bool
	// WorkDir, FFmpeg, FFprobe and TranscodeTimeout run ffmpeg.
	WorkDir          string
	FFmpeg, FFprobe  string
	TranscodeTimeout time.Duration
	// Threads bounds the threads of each ffmpeg run; 0 lets ffmpeg choose.
	Threads int
	// IndexCacheBytes bounds the sample indexes kept in memory.
	IndexCacheBytes int64
}

func (m *media) setDefaults() {
	if m.SegmentTarget == 0 {
		m.SegmentTarget = 6 * time.Second
	}
	if m.Ladder == nil {
		m.Ladder = transcode.DefaultLadder
	}
	if m.WorkDir == "" {
		m.WorkDir = os.TempDir()
	}
	// FFmpeg and FFprobe default in transcode.Config.
	if m.TranscodeTimeout == 0 {
		m.TranscodeTimeout = 6 * time.Hour
	}
	if m.IndexCacheBytes == 0 {
		m.IndexCacheBytes = 256 << 20
	}
}

// core is the state an origin and a worker share: storage, the catalog,
// indexes, the job queue and the progress broker. The packaging and
// encoding code hangs on it, so both roles run the very same code.
type core struct {
	opt     media
	log     *slog.Logger
	store   *store.Store
	catalog *catalog.Catalog
	indexes *indexCache
	events  *fanout[event]
	jobm    *jobMetrics

	queueCfg queue.Config
	queue    *queue.Queue
	kinds    jobKinds
	hooks    *webhooks.Emitter
}

func newCore(opt media, s3 store.Config, qc queue.Config, log *slog.Logger) (*core, error) {
	opt.setDefaults()
	st, err := store.New(s3)
	if err != nil {
		return nil, err
	}
	qc.Logger = log
	return &core{
		opt: opt, log: log, store: st, catalog: catalog.New(st), events: &fanout[event]{},
		indexes: newIndexCache(st, opt.IndexCacheBytes), jobm: newJobMetrics(), queueCfg: qc,
	}, nil
}

// openQueue connects to the queue and opens every kind of job.
func (s *core) openQueue(ctx context.Context) error {
	q, err := queue.Open(ctx, s.queueCfg)
	if err != nil {
		return err
	}
	kinds, err := openKinds(ctx, q)
	if err != nil {
		q.Close()
		return err
	}
	hooks, err := webhooks.NewEmitter(ctx, q)
	if err != nil {
		q.Close()
		return err
	}
	s.queue, s.kinds, s.hooks = q, kinds, hooks
	s.jobm.watch(kinds)
	return nil
}

// notify tells what changed in v to the progress streams of this process
// and, for a change of state, to the webhook receivers.
func (s *core) notify(ctx context.Context, v *catalog.Video) {
	s.events.publish(v.ID, eventFor(v))
	switch v.Status {
	case catalog.Ready:
		s.emit(ctx, webhooks.VideoReady, v.ID, "")
		if v.Final {
			s.emit(ctx, webhooks.VideoComplete, v.ID, "")
		}
	case catalog.Failed:
		s.emit(ctx, webhooks.VideoFailed, v.ID, "")
	}
}

// emit queues a webhook event about video id. Reporting the same change
// again is harmless (the event's ID is derived from it). A failure is
// logged, not returned: the change is stored already, and the queue it
// failed on is the one the job itself needs.
func (s *core) emit(ctx context.Context, typ, id, once string) {
	if s.hooks == nil {
		return
	}
	ev := webhooks.NewEvent(typ, webhooks.Object{Type: "video", ID: id}, once, time.Now())
	if err := s.hooks.Emit(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Warn("webhook event not queued", slog.String("id", id), slog.String("type", typ), slog.Any("err", err))
	}
}

func (s *core) closeQueue() {
	if s.queue != nil {
		s.queue.Close()
	}
}
