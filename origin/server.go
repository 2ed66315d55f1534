package origin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
)

// Server is an origin process.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	catalog *catalog.Catalog
	indexes *indexCache
	events  *broker
	jobs    *jobRunner
	metrics *metrics
	inval   *invalidator
	router  http.Handler
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
	st, err := store.New(cfg.S3)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With(slog.String("role", "origin")),
		store:   st,
		catalog: catalog.New(st),
		events:  newBroker(),
		metrics: newMetrics(),
	}
	s.indexes = newIndexCache(st, cfg.IndexCacheBytes)
	s.jobs = newJobRunner(s)
	s.inval = newInvalidator(cfg, s.log)
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
		r.Get("/{id}/events", s.handle(s.videoEvents))
	})
	r.With(s.requireKey).Post("/api/v1/invalidations", s.handle(s.createInvalidation))
	r.Route("/videos/{id}", func(r chi.Router) {
		r.Use(s.requireEdge) // only edges may fetch media, when EdgeSecret is set
		r.Get("/master.m3u8", s.handle(s.serveMaster))
		r.Get("/master-ts.m3u8", s.handle(s.serveMasterTS)) // MPEG-TS, for old players
		r.Get("/hls/{rendition}/{playlist}", s.handle(s.serveMediaPlaylist))
		r.Get("/hls/{rendition}/{kind}/{file}", s.handle(s.serveSegment))
		r.Get("/r/{file}", s.handle(s.serveMP4))
		r.Get("/thumbs/{file}", s.handle(s.serveThumb))
	})
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "Nothing is at this address.")
	})
	return r
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// requireKey refuses writes without the API key.
func (s *Server) requireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hasKey(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="streamfront"`)
			msg := "This needs an API key: send Authorization: Bearer <key>."
			if r.Header.Get("Authorization") != "" {
				msg = "The API key is not valid."
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasKey reports whether r carries the API key.
func (s *Server) hasKey(r *http.Request) bool {
	got := []byte(r.Header.Get("Authorization"))
	return subtle.ConstantTimeCompare(got, []byte("Bearer "+s.cfg.APIKey)) == 1
}

// Run listens on cfg.Addr and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("origin: listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve makes sure the bucket exists, resumes unfinished jobs, and serves
// on ln until ctx is done; then it stops accepting, drains requests in
// flight (up to 30 s), stops its workers (their jobs resume at the next
// start, here or on another origin) and its background invalidation
// retries.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.store.EnsureBucket(ctx); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// No ReadTimeout/WriteTimeout: uploads and MP4 responses are
		// gigabytes. Slow clients are bounded per request instead (uploads
		// by their lease, responses by the client going away).
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.jobs.run(jobsCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("origin listening", slog.String("addr", ln.Addr().String()))

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e := srv.Shutdown(shutdownCtx); e != nil && err == nil {
		err = e
	}
	stopJobs()
	wg.Wait()
	s.inval.close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
