package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/sync/singleflight"

	"github.com/streamfront/streamfront/internal/httpserve"
	"github.com/streamfront/streamfront/internal/invalidation"
	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/apikeys"
	"github.com/streamfront/streamfront/origin/usagestore"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// Server is an origin process.
type Server struct {
	*core
	cfg     Config
	jobs    *jobRunner
	metrics *metrics
	inval   *invalidator
	// views is set once the queue is open (Serve).
	views *viewCounter
	// peerURL is Config.PeerURL, or the listener's address (Serve).
	peerURL string
	// ledger keeps the edges' usage reports; videoUsage caches a video's.
	ledger     *usagestore.Ledger
	videoUsage *videoUsage
	// webhooks is set once the queue is open (Serve).
	webhooks *webhooks.Service
	keys     *apikeys.Keys
	// invalFeed is the durable invalidation feed, once the queue is open.
	invalFeed *invalidation.Publisher
	tus       http.Handler
	// imageRuns and imageSlots make each image by URL once, a few at a time.
	imageRuns  singleflight.Group
	imageSlots chan struct{}
	// live runs live streams; nil unless Config.Live is set.
	live   *liveService
	router http.Handler
}

var _ http.Handler = (*Server)(nil)

// New checks cfg and builds the origin; nothing listens or runs yet.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.MediaURL = strings.TrimRight(cfg.MediaURL, "/")
	cfg.WebURL = strings.TrimRight(cfg.WebURL, "/")
	log := cfg.Logger.With(slog.String("role", "origin"))
	c, err := newCore(media{
		SegmentTarget: cfg.SegmentTarget, WorkDir: cfg.WorkDir, FFmpeg: cfg.FFmpeg, FFprobe: cfg.FFprobe,
		TranscodeTimeout: cfg.TranscodeTimeout, IndexCacheBytes: cfg.IndexCacheBytes,
	}, cfg.S3, cfg.Queue, log)
	if err != nil {
		return nil, err
	}
	s := &Server{core: c, cfg: cfg, metrics: newMetrics()}
	s.metrics.registry.MustRegister(c.jobm.collectors()...)
	s.jobs = newJobRunner(s)
	s.inval = newInvalidator(cfg, s.log)
	if s.ledger, err = usagestore.New(usagestore.Config{Store: c.store, Logger: log}); err != nil {
		return nil, err
	}
	s.videoUsage = &videoUsage{ledger: s.ledger}
	s.keys = apikeys.New(apikeys.Config{Store: c.store, Root: cfg.APIKey})
	s.imageSlots = make(chan struct{}, imageSlots)
	if s.tus, err = s.resumable(); err != nil {
		return nil, err
	}
	if cfg.Live != nil {
		if s.live, err = newLiveService(s, *cfg.Live); err != nil {
			return nil, err
		}
	}
	s.router = s.routes()
	return s, nil
}

// routes is the table of everything the origin answers.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, s.metrics.instrument)
	r.Handle("/metrics", s.metrics.handler())
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.Route("/api/v1/videos", func(r chi.Router) {
		r.Get("/", s.handle(s.listVideos))
		r.With(s.requireKey).Post("/", s.handle(s.uploadVideo))
		r.Get("/{id}", s.handle(s.getVideo))
		r.With(s.requireKey).Patch("/{id}", s.handle(s.patchVideo))
		r.With(s.requireKey).Delete("/{id}", s.handle(s.deleteVideo))
		r.With(s.requireKey).Put("/{id}/captions/{lang}", s.handle(s.putCaption))
		r.With(s.requireKey).Delete("/{id}/captions/{lang}", s.handle(s.deleteCaption))
		r.Get("/{id}/events", s.handle(s.videoEvents))
		r.Post("/{id}/views", s.handle(s.recordView))
	})
	r.With(s.requireScope(apikeys.Admin)).Post("/api/v1/invalidations", s.handle(s.createInvalidation))
	r.With(s.requireScope(apikeys.Admin)).Get("/api/v1/invalidations", s.handle(s.listInvalidations))
	r.With(s.requireScope(apikeys.Admin)).Get("/api/v1/queue", s.handle(s.getQueue))
	r.Get("/api/v1/openapi.json", s.handle(s.serveOpenAPI))
	r.With(s.requireScope(apikeys.Read)).Get("/api/v1/usage", s.handle(s.getUsage))
	// tus: its own methods (POST, HEAD, PATCH, DELETE, OPTIONS); the
	// preflight carries no key.
	tus := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(resumablePath, "/") {
			r.URL.Path = resumablePath
		}
		if r.Method == http.MethodOptions {
			s.tus.ServeHTTP(w, r)
			return
		}
		s.requireKey(s.tus).ServeHTTP(w, r)
	})
	r.Handle(strings.TrimSuffix(resumablePath, "/"), tus)
	r.Handle(resumablePath+"*", tus)
	r.Route("/api/v1/keys", func(r chi.Router) {
		r.Use(s.requireScope(apikeys.Admin))
		r.Post("/", s.handle(s.createKey))
		r.Get("/", s.handle(s.listKeys))
		r.Delete("/{id}", s.handle(s.revokeKey))
	})
	r.Route("/api/v1/webhooks", s.webhookRoutes)
	r.Route("/api/v1/live", s.liveRoutes)
	r.Route("/videos/{id}", func(r chi.Router) {
		r.Use(s.requireEdge) // only edges may fetch media, when EdgeSecret is set
		r.Get("/master.m3u8", s.handle(s.serveMasterOrLive))
		r.Get("/master-ts.m3u8", s.handle(s.serveMasterTS)) // MPEG-TS, for old players
		r.Get("/hls/{rendition}/{playlist}", s.handle(s.serveMediaPlaylist))
		r.Get("/hls/{rendition}/{kind}/{file}", s.handle(s.serveSegment))
		r.Get("/r/{file}", s.handle(s.serveMP4))
		r.Get("/thumbs/{file}", s.handle(s.serveThumb))
		r.Get("/{image:(thumbnail\\.(jpg|webp)|animated\\.(gif|webp))}", s.handle(s.serveImage))
		r.Group(func(r chi.Router) {
			r.Use(s.forwardingLive)                        // from the origin hosting it (live_forward.go)
			r.Get("/dvr.m3u8", s.handle(s.serveDVRMaster)) // live DVR (live_dvr.go)
			r.Get("/dvr/{playlist}", s.handle(s.serveDVRPlaylist))
			r.Get("/dvr/{broadcast}/{generation}/{track}/{file}", s.handle(s.serveDVRObject))
		})
		r.Get("/{file}", s.serveLiveFile) // live HLS (live_http.go)
		r.Get("/{rung:[0-9]{1,5}p}/{file}", s.serveLiveRungFile)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "Nothing is at this address.")
	})
	return r
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// requireKey refuses a request without a key that may upload (create,
// edit and delete videos and live streams).
func (s *Server) requireKey(next http.Handler) http.Handler {
	return s.requireScope(apikeys.Upload)(next)
}

// requireScope refuses a request without a valid key of that scope (401,
// 403), or past its key's rate limit (429 with Retry-After).
func (s *Server) requireScope(scope apikeys.Scope) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := s.keys.Authenticate(r.Context(), r.Header.Get("Authorization"))
			switch {
			case errors.Is(err, apikeys.ErrNoKey) || errors.Is(err, apikeys.ErrBadKey):
				w.Header().Set("WWW-Authenticate", `Bearer realm="streamfront"`)
				msg := "This needs an API key: send Authorization: Bearer <key>."
				if errors.Is(err, apikeys.ErrBadKey) {
					msg = "The API key is not valid (mistyped, or revoked)."
				}
				writeError(w, r, http.StatusUnauthorized, msg)
				return
			case err != nil:
				s.log.Warn("api key lookup failed", slog.Any("err", err))
				writeError(w, r, http.StatusServiceUnavailable, "API keys cannot be checked right now; try again in a few seconds.")
				return
			case !p.Can(scope):
				writeError(w, r, http.StatusForbidden, fmt.Sprintf("This key (%q) does not have the %q scope this needs; use a key that has it.", p.Name, scope))
				return
			}
			if ok, wait := p.Allow(time.Now()); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				writeError(w, r, http.StatusTooManyRequests, fmt.Sprintf("This key is limited to %d requests a minute; try again in %s.", p.RatePerMinute, wait.Round(time.Second)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// hasKey reports whether r carries a key that may read private videos.
func (s *Server) hasKey(r *http.Request) bool {
	p, err := s.keys.Authenticate(r.Context(), r.Header.Get("Authorization"))
	return err == nil && p.Can(apikeys.Read)
}

// Run listens on cfg.Addr and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("origin: listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve makes sure the bucket exists, connects to the queue, and serves
// on ln until ctx is done, making uploads playable as they arrive; then it
// stops accepting, drains requests in flight (up to 30 s, then closes what is left), gives back the
// packaging jobs in flight (another origin, or this one restarted, does
// them) and stops its background invalidation retries.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.peerURL = s.cfg.PeerURL; s.peerURL == "" {
		s.peerURL = peerURLOf(ln)
	}
	if err := s.store.EnsureBucket(ctx); err != nil {
		ln.Close()
		return err
	}
	if err := s.openQueue(ctx); err != nil {
		ln.Close()
		return err
	}
	defer s.closeQueue()
	kv, err := s.queue.KeyValue(ctx, viewBucket, time.Hour)
	if err != nil {
		ln.Close()
		return err
	}
	s.views = newViewCounter(kv, s.catalog, s.log)
	usageKind, err := s.queue.Kind(ctx, usage.QueueKind)
	if err != nil {
		ln.Close()
		return err
	}
	if s.invalFeed, err = invalidation.NewPublisher(ctx, s.queue); err != nil {
		ln.Close()
		return err
	}
	s.webhooks, err = webhooks.New(ctx, webhooks.Config{Store: s.store, Queue: s.queue, Render: s.renderEvent, Logger: s.log})
	if err != nil {
		ln.Close()
		return err
	}
	srv := httpserve.Server{
		Name:    "origin",
		Handler: s,
		// No ReadTimeout/WriteTimeout: uploads and MP4 responses are
		// gigabytes. Slow clients are bounded per request instead (uploads
		// by their lease, responses by the client going away).
		ReadTimeout:     httpserve.NoTimeout,
		WriteTimeout:    httpserve.NoTimeout,
		ShutdownTimeout: 30 * time.Second,
		Logger:          s.log,
	}
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(7)
	go func() {
		defer wg.Done()
		t := time.NewTicker(min(time.Minute, s.cfg.ResumableExpiry/4))
		defer t.Stop()
		for {
			s.sweepResumable(jobsCtx)
			select {
			case <-jobsCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	go func() {
		defer wg.Done()
		_ = s.webhooks.Run(jobsCtx)
	}()
	go func() {
		defer wg.Done()
		_ = s.ledger.Consume(jobsCtx, usageKind)
	}()
	go func() {
		defer wg.Done()
		_ = s.ledger.Run(jobsCtx)
	}()
	go func() {
		defer wg.Done()
		s.jobs.run(jobsCtx)
	}()
	go func() {
		defer wg.Done()
		s.views.run(jobsCtx)
	}()
	go func() {
		defer wg.Done()
		pool := queue.Pool{Kinds: []*queue.Kind{s.kinds.pkg}, Slots: s.cfg.PackageSlots, Handle: s.handlePackage,
			AckWait: s.queue.AckWait(), Logger: s.log}
		_ = pool.Run(jobsCtx)
	}()
	if s.live != nil {
		rtmp, err := s.live.listen(ctx)
		if err != nil {
			stopJobs()
			wg.Wait()
			ln.Close()
			return err
		}
		s.live.ctx = jobsCtx // before any recording can start
		wg.Go(func() { _ = s.live.run(jobsCtx, rtmp) })
	}
	s.log.Info("origin listening", slog.String("addr", ln.Addr().String()))
	err = srv.Serve(ctx, ln)
	stopJobs()
	wg.Wait()
	s.inval.close()
	return err
}
