package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamfront/streamfront/edge/fastpath"
	"github.com/streamfront/streamfront/edge/internal/flight"
	"github.com/streamfront/streamfront/internal/httpserve"
	"github.com/streamfront/streamfront/internal/usage"
)

// Edge is one edge cache: an http.Handler plus the server around it.
// Build it with New; serve it with Run, Serve, or as a handler (then call
// Close when done).
type Edge struct {
	cfg Config
	log *slog.Logger
	// originSecret is Config.OriginSecret as bytes: it signs upstream
	// requests and recognises requests from peer edges (access.go).
	originSecret []byte
	shields      *rendezvous
	shieldBases  []string // Config.Shields without trailing slashes
	transport    *http.Transport
	proxy        *httputil.ReverseProxy
	mem          *memoryTier
	disk         *diskTier // nil without CacheDir
	flights      flight.Group[fill]
	sliced       []slicedPattern
	ttl          ttlPolicy
	dists        *distributions // Config.Distributions (or Origin and Behaviors), compiled
	hdrs         *edgeHeaders
	metrics      *metrics
	meter        *usage.Meter // nil without Config.UsageSink (meter.go)
	live         *liveState   // live HLS: blocking reloads, counts (live.go)
	handler      http.Handler // the route table wrapped in logging middleware
	accessLogMu  sync.Mutex   // serializes access log lines on Config.AccessLog
	// fastSendfiles counts fast-path answers sent from the disk copy
	// (package fastpath, sendfile.go); tests read it.
	fastSendfiles atomic.Uint64
	// ownClock: Config.Now is not time.Now, so the fast path reads it
	// besides the real clock (by default one time.Now serves both).
	ownClock bool

	// downUntil is when the origin is next tried for requests that can be
	// answered stale (unix nanoseconds); see originDown.
	downUntil atomic.Int64
	// invalGen counts invalidations; fills compare it to keep what they
	// fetched before an invalidation out of the cache.
	invalGen atomic.Uint64
	// diskUntrusted is set while invalidations missed during a stop may
	// still apply to the disk tier (invalidate_feed.go).
	diskUntrusted atomic.Bool
	invalMu       sync.Mutex
	invalLog      []invalidationRecord // the last maxInvalidationLog invalidations
	keyInval      keyInvalidations     // invalidations by unsafe methods

	// Fills run on goroutines owned here: ctx ends them, wg waits.
	ctx       context.Context
	cancel    context.CancelFunc
	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ http.Handler = (*Edge)(nil)

// New validates cfg, fills its defaults and opens (rebuilding the index
// of) the disk tier.
func New(cfg Config) (*Edge, error) {
	ownClock := cfg.Now != nil
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Edge{
		cfg:          cfg,
		log:          cfg.Logger.With("edge", cfg.Name),
		originSecret: []byte(cfg.OriginSecret),
		transport:    newOriginTransport(cfg),
		hdrs:         newEdgeHeaders(cfg),
		ownClock:     ownClock,
		ttl:          cfg.ttlPolicy(),
	}
	if e.dists, err = compileDistributions(cfg, e.ttl); err != nil {
		return nil, err
	}
	for _, sh := range cfg.Shields {
		e.shieldBases = append(e.shieldBases, strings.TrimSuffix(sh, "/"))
	}
	e.shields = newRendezvous(e.shieldBases)
	for _, p := range cfg.SlicedPaths {
		sp, err := newSlicedPattern(p)
		if err != nil {
			return nil, fmt.Errorf("edge config: SlicedPaths %q: %w", p, err)
		}
		e.sliced = append(e.sliced, sp)
	}
	if e.mem, err = newMemoryTier(cfg.MemoryBytes); err != nil {
		return nil, err
	}
	if cfg.CacheDir != "" {
		if e.disk, err = openDiskTier(cfg.CacheDir, cfg.DiskBytes, e.log); err != nil {
			e.mem.close()
			return nil, err
		}
	}
	e.metrics = newMetrics(e)
	e.live = newLiveState(cfg)
	e.metrics.registry.MustRegister(e.live)
	if e.meter, err = newMeter(cfg); err != nil {
		e.mem.close()
		if e.disk != nil {
			e.disk.Close()
		}
		return nil, err
	}
	e.proxy = e.newPassThroughProxy()
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.handler = e.accessLog(http.HandlerFunc(e.route))
	return e, nil
}

// ServeHTTP serves one request.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.handler.ServeHTTP(w, r)
}

// route is the route table: every path the edge answers is listed here.
func (e *Edge) route(w http.ResponseWriter, r *http.Request) {
	var err error
	path := r.URL.Path
	switch {
	case e.isLoop(r):
		err = errLoop
	case r.Method == http.MethodOptions:
		e.servePreflight(w, r)
	case path == "/healthz":
		e.serveHealth(w, r)
	case path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		e.serveMetrics(w, r)
	case path == "/api/v1/invalidations" && r.Method == http.MethodPost && e.ownInvalidation(r):
		err = e.serveInvalidation(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && e.requestPolicy(r) != PolicyPass:
		err = e.serveCacheable(w, r)
	default:
		err = e.passThrough(w, r)
	}
	if err == nil {
		return
	}
	if headersSent(w) {
		// The status line is out: the only honest signal left is to break
		// the connection, so the client sees a failed transfer and never
		// a short 200 it could take for the whole object.
		if r.Context().Err() == nil {
			e.log.Warn("aborting response after headers", "path", path, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	if r.Context().Err() != nil {
		return // the client left
	}
	e.writeError(w, r, err)
}

func (e *Edge) serveHealth(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	e.setEdgeHeaders(h, xcacheMiss, 0)
	h["Cache-Control"] = e.hdrs.noStore
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok\n")) // a prober that went away needs no answer
}

// servePreflight answers CORS preflight (and plain OPTIONS) requests
// itself, so a web player on another origin may send Range and
// conditional headers.
func (e *Edge) servePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	e.setEdgeHeaders(h, xcacheMiss, 0)
	h.Set("Allow", "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE")
	if r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE")
		allowHeaders := r.Header.Get("Access-Control-Request-Headers")
		if allowHeaders == "" {
			allowHeaders = "Range, If-None-Match, If-Modified-Since, If-Range, Authorization, Content-Type"
		}
		h.Set("Access-Control-Allow-Headers", allowHeaders)
		h.Set("Access-Control-Max-Age", "86400")
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// Run listens on Config.Addr and serves until ctx is done, then shuts down
// gracefully.
func (e *Edge) Run(ctx context.Context) error {
	var tlsConfig *tls.Config
	if e.cfg.TLSCertFile != "" || e.cfg.TLSKeyFile != "" {
		var err error
		if tlsConfig, err = httpserve.LoadTLS(e.cfg.TLSCertFile, e.cfg.TLSKeyFile); err != nil {
			return fmt.Errorf("edge %s: %w", e.cfg.Name, err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", e.cfg.Addr)
	if err != nil {
		return fmt.Errorf("edge %s: listen: %w", e.cfg.Name, err)
	}
	if tlsConfig != nil {
		// The listener itself speaks TLS (not the http.Server), so the fast
		// path, which reads connections before net/http, sees plain bytes.
		ln = tls.NewListener(ln, tlsConfig)
	}
	return e.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then drains in-flight requests
// (at most ShutdownTimeout, then closes what is left), stops background
// fills and closes the Edge.
//
// With the fast path on (the default), connections start on the fast
// path (package fastpath, answered by fastpath_answer.go) and the http.Server serves those it hands over;
// without it, the http.Server serves ln itself.
func (e *Edge) Serve(ctx context.Context, ln net.Listener) error {
	defer e.Close()
	e.followInvalidations(ctx)
	srv := httpserve.Server{
		Name:              "edge " + e.cfg.Name,
		Handler:           e,
		ReadHeaderTimeout: e.cfg.ReadHeaderTimeout,
		ReadTimeout:       e.cfg.ReadTimeout,
		// A safety net for small answers; long bodies push the deadline
		// forward on every write (bodyWriter), see doc.go.
		WriteTimeout:    e.cfg.WriteTimeout,
		IdleTimeout:     e.cfg.IdleTimeout,
		MaxHeaderBytes:  64 << 10,
		ShutdownTimeout: e.cfg.ShutdownTimeout,
		// HTTP/1.1, HTTP/2 over TLS (ALPN "h2") and HTTP/2 with prior
		// knowledge on plain connections (h2c): the fast path hands both
		// kinds of connection to this server.
		UnencryptedHTTP2: true,
		Logger:           e.log,
	}
	if e.cfg.DisableFastPath {
		e.log.Info("edge serving", "addr", ln.Addr().String(), "origin", e.cfg.Origin, "fast_path", false)
		return srv.Serve(ctx, ln)
	}
	if err := srv.Check(); err != nil {
		ln.Close()
		return err
	}
	handoff := fastpath.NewHandoffListener(ln.Addr())
	fs := e.newFastServer(handoff)
	// An accept loop that fails ends serving as ctx would; its error is
	// the cause of serveCtx.
	serveCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	acceptDone := make(chan error, 1)
	go func() {
		err := fs.Serve(ln)
		if err != nil {
			stop(err)
		}
		acceptDone <- err
	}()
	srv.BeforeDrain = func(drainCtx context.Context) error {
		// Stop accepting, then let the fast path's answers finish before
		// the http.Server stops taking the connections it hands over.
		fs.StopAccepting()
		_ = ln.Close() // the accept loop ends on it; its error is acceptDone's
		<-acceptDone   //nolint:errcheck // a failed accept loop is reported through serveCtx
		return fs.Shutdown(drainCtx)
	}
	e.log.Info("edge serving", "addr", ln.Addr().String(), "origin", e.cfg.Origin, "fast_path", true)
	err := srv.Serve(serveCtx, handoff)
	if cause := context.Cause(serveCtx); ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = errors.Join(fmt.Errorf("edge %s: serve: %w", e.cfg.Name, cause), err)
	}
	return err
}

// Close stops background fills, waits for them and releases the caches'
// goroutines. It is safe to call more than once.
func (e *Edge) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		e.cancel()
		e.wg.Wait()
		e.closeMeter() // after the fills, whose upstream bytes it counts
		e.mem.close()
		if e.disk != nil {
			e.disk.Close()
		}
		e.transport.CloseIdleConnections()
		e.live.close()
	})
	return nil
}

// isLoop reports whether this edge already handled the request: its own
// name is in Via, so a shield list leads back to it.
func (e *Edge) isLoop(r *http.Request) bool {
	via, ok := r.Header["Via"]
	if !ok {
		return false
	}
	for _, v := range via {
		if viaLineHas(v, e.hdrs.via[0]) {
			return true
		}
	}
	return false
}

// originDown reports whether a recent origin failure says not to wait for
// the origin when a stale copy can answer.
func (e *Edge) originDown(now time.Time) bool {
	return now.UnixNano() < e.downUntil.Load()
}

// originDownFor is how long after a failed fetch stale-capable requests
// skip waiting for the origin. One background revalidation per key still
// probes it, so recovery is noticed within this time.
const originDownFor = time.Second

// noteOriginFailure is called by fills whose fetch failed.
func (e *Edge) noteOriginFailure(err error, now time.Time) {
	if errors.Is(err, errOriginUnreachable) || errors.Is(err, errOriginTimeout) {
		e.downUntil.Store(now.Add(originDownFor).UnixNano())
	}
}

// noteOriginAnswer is called by fills that got an answer: a 5xx counts as
// down, anything else as up again.
func (e *Edge) noteOriginAnswer(status int) {
	switch {
	case status >= 500:
		e.downUntil.Store(e.cfg.Now().Add(originDownFor).UnixNano())
	case e.downUntil.Load() != 0:
		e.downUntil.Store(0)
	}
}
