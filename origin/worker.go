package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamfront/streamfront/internal/httpserve"
	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/transcode"
)

// WorkerConfig is everything an encoding worker needs.
type WorkerConfig struct {
	// Name identifies the worker in logs and in NATS. It defaults to the
	// host name and process ID.
	Name string
	// Addr serves /metrics and /healthz. It defaults to ":8094"; "-"
	// serves nothing (a worker inside `streamfront all`).
	Addr string
	// S3 says where everything is stored. Required.
	S3 store.Config
	// Queue is the job queue the worker takes encodes from. Queue.URL is
	// required.
	Queue queue.Config
	// MaxEncodes is how many encodes this worker runs at once. It defaults
	// to 1: one ffmpeg already uses every core it is given.
	MaxEncodes int
	// Threads bounds the threads of each ffmpeg run; 0 lets ffmpeg choose
	// (about one per core).
	Threads int
	// LiveLadders is how many live ladders (live_ladder.go) this worker
	// encodes at once, beside its MaxEncodes: a broadcast's ladder runs
	// as long as the broadcast, so it has slots of its own rather than
	// holding an upload's for hours. It defaults to 1; -1 takes none.
	LiveLadders int
	// LivePreset is x264's preset for live ladders, which must keep up
	// with real time. It defaults to "veryfast".
	LivePreset string
	// Ladder is the ABR ladder: renditions encoded below the source (never
	// above its size or bitrate). It defaults to transcode.DefaultLadder
	// (1080p, 720p, 480p, 360p).
	Ladder []transcode.Rung
	// SegmentTarget must be the origins' SegmentTarget. It defaults to 6 s.
	SegmentTarget time.Duration
	// WriteAhead stores every playlist and segment in S3 under the paths of
	// their URLs once a video is complete, so the bucket alone can serve it.
	// It defaults to off.
	WriteAhead bool
	// WorkDir holds transcoder scratch files. It defaults to os.TempDir().
	WorkDir string
	// FFmpeg and FFprobe are the executables. They default to "ffmpeg" and
	// "ffprobe" looked up in PATH.
	FFmpeg, FFprobe string
	// TranscodeTimeout bounds one ffmpeg run. It defaults to 6 h.
	TranscodeTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Worker takes encode jobs from the queue: first renditions of videos
// that cannot play yet before anything else, then ladders.
type Worker struct {
	*core
	cfg      WorkerConfig
	registry *prometheus.Registry
	// presence tells GET /api/v1/queue this worker is there and what it
	// encodes; nil when its bucket could not be opened.
	presence *presence
}

// NewWorker checks cfg and builds a worker; nothing runs yet.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8094"
	}
	if cfg.MaxEncodes == 0 {
		cfg.MaxEncodes = 1
	}
	if cfg.LiveLadders == 0 {
		cfg.LiveLadders = 1
	}
	if cfg.LivePreset == "" {
		cfg.LivePreset = "veryfast"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var errs []error
	if cfg.Queue.URL == "" {
		errs = append(errs, errors.New("worker: Queue.URL is required (the NATS server, set STREAMFRONT_NATS_URL)"))
	}
	if cfg.S3.Bucket == "" {
		errs = append(errs, errors.New("worker: S3.Bucket is required"))
	}
	if cfg.MaxEncodes < 0 || cfg.Threads < 0 {
		errs = append(errs, errors.New("worker: MaxEncodes and Threads cannot be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.Queue.Name = cfg.Name
	log := cfg.Logger.With(slog.String("role", "worker"), slog.String("worker", cfg.Name))
	c, err := newCore(media{
		SegmentTarget: cfg.SegmentTarget, Ladder: cfg.Ladder, WriteAhead: cfg.WriteAhead, WorkDir: cfg.WorkDir,
		FFmpeg: cfg.FFmpeg, FFprobe: cfg.FFprobe, TranscodeTimeout: cfg.TranscodeTimeout, Threads: cfg.Threads,
	}, cfg.S3, cfg.Queue, log)
	if err != nil {
		return nil, err
	}
	w := &Worker{core: c, cfg: cfg, registry: prometheus.NewRegistry()}
	w.registry.MustRegister(c.jobm.collectors()...)
	w.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return w, nil
}

// Run connects to the queue and encodes until ctx is done; then it stops
// its encodes and gives their jobs back to the queue for another worker.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.openQueue(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return err
	}
	defer w.closeQueue()
	if kv, err := w.queue.KeyValue(ctx, workerPresenceBucket, workerPresenceTTL); err != nil {
		w.log.Warn("worker runs unseen by GET /api/v1/queue", slog.Any("err", err))
	} else {
		w.presence = newPresence(kv, w.cfg, w.log)
		// The record goes when the pool has given its jobs back.
		pctx, stopPresence := context.WithCancel(context.WithoutCancel(ctx))
		var present sync.WaitGroup
		present.Go(func() { w.presence.run(pctx) })
		defer present.Wait()
		defer stopPresence()
	}
	pool := queue.Pool{Kinds: []*queue.Kind{w.kinds.first, w.kinds.ladder}, Slots: w.cfg.MaxEncodes,
		Handle: w.handleEncode, AckWait: w.queue.AckWait(), Logger: w.log}
	if w.cfg.LiveLadders > 0 {
		// The live ladders' pool runs beside the encodes' and stops with
		// it (the deferred Wait runs before the presence stops).
		live := queue.Pool{Kinds: []*queue.Kind{w.kinds.liveLadder}, Slots: w.cfg.LiveLadders,
			Handle: w.handleLiveLadder, AckWait: w.queue.AckWait(), Logger: w.log}
		var ladders sync.WaitGroup
		defer ladders.Wait()
		ladders.Go(func() { _ = live.Run(ctx) })
	}
	if w.cfg.Addr == "-" {
		w.log.Info("worker taking encode jobs", slog.Int("max_encodes", w.cfg.MaxEncodes), slog.Int("threads", w.cfg.Threads),
			slog.Int("live_ladders", w.cfg.LiveLadders))
		return pool.Run(ctx)
	}
	ln, err := net.Listen("tcp", w.cfg.Addr)
	if err != nil {
		return fmt.Errorf("worker: listen %s: %w", w.cfg.Addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) { _, _ = rw.Write([]byte("ok\n")) })
	srv := httpserve.Server{Name: "worker", Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10, ShutdownTimeout: 5 * time.Second, Logger: w.log}
	// The metrics server lives as long as the pool: it stops when the
	// encodes have been given back, so their last metrics can be scraped.
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	w.log.Info("worker metrics listening", slog.String("addr", ln.Addr().String()))
	w.log.Info("worker taking encode jobs", slog.Int("max_encodes", w.cfg.MaxEncodes), slog.Int("threads", w.cfg.Threads))
	err = pool.Run(ctx)
	stopSrv()
	return errors.Join(err, <-served)
}

// handleEncode runs one encode job.
func (w *Worker) handleEncode(ctx context.Context, j *queue.Job) {
	b, ok := w.readJob(ctx, j)
	if !ok {
		return
	}
	w.jobm.inFlight.Inc()
	defer w.jobm.inFlight.Dec()
	if w.presence != nil {
		w.presence.started(b.ID, b.Task)
		defer w.presence.ended(b.ID, b.Task)
	}
	start := time.Now()
	w.log.Info("encode started", slog.String("id", b.ID), slog.String("task", b.Task), slog.Int("attempt", j.Attempt))
	err := w.encode(ctx, b.ID, b.Task)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	w.jobm.encodes.WithLabelValues(b.Task, outcome).Observe(time.Since(start).Seconds())
	w.log.Info("encode ended", slog.String("id", b.ID), slog.String("task", b.Task), slog.Duration("took", time.Since(start)), slog.Any("err", err))
	w.settle(ctx, j, b.ID, err, "encoding")
}
