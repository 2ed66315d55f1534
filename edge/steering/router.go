package steering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/streamfront/streamfront/internal/httpserve"
)

// userAgent names the router in its requests to edges (their access logs).
const userAgent = "streamfront-router"

// Router routes viewers to edges. Build it with New; serve it with Run or
// Serve, which also run the health checks and latency probes. Used only as
// an http.Handler (without Serve) it probes nothing: every edge then
// counts as up, in configuration order.
type Router struct {
	cfg       Config
	log       *slog.Logger
	edges     []*edgeHealth // in configuration order
	byName    map[string]Edge
	edgeURLs  []string // every URL and InternalURL: absolute URIs on them are rebased
	transport *http.Transport
	client    *http.Client
	masters   *masterCache
	flights   singleflight.Group

	// ctx ends background work (probes, master fetches) when the Router
	// closes; probes waits for the probe goroutines.
	ctx       context.Context
	cancel    context.CancelFunc
	probes    sync.WaitGroup
	mu        sync.Mutex
	serving   bool
	closeOnce sync.Once
}

var _ http.Handler = (*Router)(nil)

// New checks cfg and fills its defaults. Nothing runs until Run or Serve.
func New(cfg Config) (*Router, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rt := &Router{
		cfg:     cfg,
		log:     cfg.Logger.With("role", "router"),
		byName:  map[string]Edge{},
		masters: newMasterCache(cfg.MasterCacheEntries),
	}
	for i, e := range cfg.Edges {
		rt.edges = append(rt.edges, newEdgeHealth(e, i))
		rt.byName[e.Name] = e
		rt.edgeURLs = append(rt.edgeURLs, e.URL)
		if e.InternalURL != "" && e.InternalURL != e.URL {
			rt.edgeURLs = append(rt.edgeURLs, e.InternalURL)
		}
	}
	rt.transport = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.EdgeConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   cfg.EdgeConnectTimeout,
		ResponseHeaderTimeout: cfg.EdgeFetchTimeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	rt.client = &http.Client{
		Transport: rt.transport,
		// An edge's redirect is not followed: the router would then steer
		// viewers to wherever it points without knowing that place.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	rt.ctx, rt.cancel = context.WithCancel(context.Background())
	return rt, nil
}

// ServeHTTP serves one request. The route table:
//
//	GET /videos/{id}/master.m3u8  content-steered master playlist (also
//	                              master-*.m3u8, e.g. master-ts.m3u8)
//	GET /videos/{id}/...          302 to the best edge, query kept
//	GET /steer/{id}               steering manifest (JSON)
//	GET /edges                    the router's view of its edges (JSON)
//	GET /healthz                  the router is alive
//	OPTIONS *                     CORS preflight
//
// HEAD is answered wherever GET is.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	err := rt.route(w, r)
	if err == nil || r.Context().Err() != nil {
		return
	}
	rt.writeError(w, r, err)
}

func (rt *Router) route(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodOptions {
		rt.servePreflight(w, r)
		return nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errMethod
	}
	p := r.URL.Path
	// Dot segments and empty ones never name anything here; refusing them
	// keeps a redirect from pointing at another path than it shows.
	if path.Clean(p) != p {
		return errNotFound
	}
	switch {
	case p == "/healthz":
		rt.serveHealth(w, r)
		return nil
	case p == "/edges":
		return rt.serveEdges(w, r)
	case strings.HasPrefix(p, "/steer/"):
		id := strings.TrimPrefix(p, "/steer/")
		if !validVideoID(id) {
			return errNotFound
		}
		return rt.serveSteering(w, r, id)
	case strings.HasPrefix(p, "/videos/"):
		id, rest, ok := strings.Cut(strings.TrimPrefix(p, "/videos/"), "/")
		if !ok || rest == "" || !validVideoID(id) {
			return errNotFound
		}
		if isMasterPlaylist(rest) {
			return rt.serveMaster(w, r, id)
		}
		return rt.serveRedirect(w, r)
	}
	return errNotFound
}

// isMasterPlaylist reports whether rest, a path under /videos/{id}/, names
// one of the video's master playlists: master.m3u8 (CMAF) or
// master-<variant>.m3u8 (master-ts.m3u8, MPEG-TS for old players, which
// read the per-edge copies as redundant streams and fail over between
// them).
func isMasterPlaylist(rest string) bool {
	if rest == "master.m3u8" {
		return true
	}
	name, ok := strings.CutSuffix(rest, ".m3u8")
	return ok && strings.HasPrefix(name, "master-") && len(name) > len("master-") && !strings.Contains(name, "/")
}

// validVideoID accepts what video IDs look like (origin makes 16
// base32hex characters; any [A-Za-z0-9_-] up to 128 is let through) and
// nothing that could change a path.
func validVideoID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// setCommonHeaders sets what every answer carries: CORS, so players on
// other origins can read masters and steering manifests.
func (rt *Router) setCommonHeaders(h http.Header) {
	h.Set("Access-Control-Allow-Origin", rt.cfg.CORSOrigin)
	h.Set("Access-Control-Expose-Headers", "Location, X-Steering-Pathway")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (rt *Router) servePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	rt.setCommonHeaders(h)
	h.Set("Allow", "GET, HEAD, OPTIONS")
	if r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "86400")
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

func (rt *Router) serveHealth(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	rt.setCommonHeaders(h)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	up := 0
	for _, s := range rt.statuses() {
		if s.Up {
			up++
		}
	}
	// The router itself is alive whatever its edges do; a container
	// restart would not bring an edge back.
	body := fmt.Sprintf("ok: %d of %d edges up\n", up, len(rt.edges))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

// edgeView is one edge in GET /edges.
type edgeView struct {
	Name        string   `json:"name"`
	URL         string   `json:"url"`
	InternalURL string   `json:"internal_url,omitempty"`
	Up          bool     `json:"up"`
	RTTMs       *float64 `json:"rtt_ms"` // null until measured
	Samples     int64    `json:"samples"`
	Error       string   `json:"error,omitempty"`
}

// serveEdges shows the router's view: for operators, and for tests that
// wait for the probes.
func (rt *Router) serveEdges(w http.ResponseWriter, r *http.Request) error {
	statuses := rt.statuses()
	out := struct {
		Edges           []edgeView `json:"edges"`
		PathwayPriority []string   `json:"pathway_priority"`
	}{PathwayPriority: orderPathways(statuses, viewerReport{}, -1)}
	for _, s := range statuses {
		v := edgeView{Name: s.Name, URL: s.URL, InternalURL: rt.byName[s.Name].InternalURL, Up: s.Up, Samples: s.Samples, Error: s.Error}
		if s.RTT > 0 {
			ms := float64(s.RTT) / float64(time.Millisecond)
			v.RTTMs = &ms
		}
		out.Edges = append(out.Edges, v)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	h := w.Header()
	rt.setCommonHeaders(h)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
	return nil
}

// edgesByName maps pathway names (from orderPathways, so all known) to
// edges.
func (rt *Router) edgesByName(names []string) []Edge {
	out := make([]Edge, len(names))
	for i, n := range names {
		out[i] = rt.byName[n]
	}
	return out
}

func (rt *Router) hasEdge(name string) bool {
	_, ok := rt.byName[name]
	return ok
}

// Run listens on Config.Addr and serves until ctx is done, then shuts down
// gracefully.
func (rt *Router) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", rt.cfg.Addr)
	if err != nil {
		return fmt.Errorf("router: listen: %w", err)
	}
	return rt.Serve(ctx, ln)
}

// Serve probes the edges and serves on ln until ctx is done, then drains
// in-flight requests (at most ShutdownTimeout, then closes what is left), stops the probes and
// closes the Router. A Router serves once.
func (rt *Router) Serve(ctx context.Context, ln net.Listener) error {
	rt.mu.Lock()
	if rt.serving {
		rt.mu.Unlock()
		ln.Close()
		return errors.New("router: Serve called twice")
	}
	rt.serving = true
	rt.mu.Unlock()

	srv := httpserve.Server{
		Name:              "router",
		Handler:           rt,
		ReadHeaderTimeout: rt.cfg.ReadHeaderTimeout,
		ReadTimeout:       rt.cfg.ReadTimeout,
		WriteTimeout:      rt.cfg.WriteTimeout,
		IdleTimeout:       rt.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ShutdownTimeout:   rt.cfg.ShutdownTimeout,
		Logger:            rt.log,
	}
	defer rt.Close()
	if err := srv.Check(); err != nil {
		ln.Close()
		return err
	}
	rt.runProbes(rt.ctx)
	names := make([]string, len(rt.cfg.Edges))
	for i, e := range rt.cfg.Edges {
		names[i] = e.Name + "=" + e.URL
	}
	rt.log.Info("router serving", "addr", ln.Addr().String(), "edges", names)
	return srv.Serve(ctx, ln)
}

// Close stops the probes and any master fetch still running, and waits for
// the probes. Serve calls it; call it yourself only when using the Router
// as a plain handler. It is safe to call more than once.
func (rt *Router) Close() error {
	rt.closeOnce.Do(func() {
		rt.cancel()
		rt.probes.Wait()
		rt.transport.CloseIdleConnections()
	})
	return nil
}
