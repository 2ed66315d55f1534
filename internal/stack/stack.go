package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/edge/steering"
	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/s3server"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/web"
)

// Config describes the stack.
type Config struct {
	// Deployment is what runs, every role built from it through the same
	// functions as `streamfront <role> -config` (internal/config). Its
	// listen addresses left empty get a free port on 127.0.0.1, and its
	// URLs left empty (origin.url, web.url, site.media_url, each edge's
	// url) are the listeners'. Without distributions the edges serve the
	// site (web.url, config.File.SiteDistribution), so site.web_url left
	// empty is the first edge's URL; with them, the web listener's. S3 and
	// NATS run in this process at s3.endpoint and queue.url (free ports
	// when empty). Local returns one for tests. Required.
	Deployment *config.File
	// Worker adjusts each worker's configuration (tests).
	Worker func(*origin.WorkerConfig)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Local is a deployment for tests: every role on a free port of
// 127.0.0.1, two edges, one worker, data under dataDir, random secrets
// (so signed URLs do not outlive a run).
func Local(dataDir, apiKey string) *config.File {
	d := config.Default()
	d.Local.DataDir = dataDir
	d.Secrets.APIKey = config.Secret(apiKey)
	d.Secrets.EdgeSecret = config.Secret(randomHex(32))
	d.Secrets.AdminToken = config.Secret(randomHex(32))
	d.Secrets.SigningKey = config.SigningKey{ID: "run-" + randomHex(4), Secret: config.Secret(randomHex(32))}
	d.S3.AccessKey, d.S3.SecretKey, d.S3.PathStyle = "streamfront", "streamfront-secret", true
	d.Origin.Addr, d.Router.Addr, d.Web.Addr = "", "", ""
	d.Edges = []config.EdgeNode{{Name: "edge-1"}, {Name: "edge-2"}}
	d.Web.ShowAPIKey = true
	return d
}

// Stack is a running set of roles.
type Stack struct {
	// SiteURL is the viewers' entry (site.web_url): the first edge, which
	// serves the site's pages, static files and player from its cache, and
	// passes the API through to the origin.
	SiteURL string
	// WebURL is the web process itself, behind the edges.
	WebURL    string
	OriginURL string
	// RouterURL is the viewers' entry for media: the origin's MediaURL,
	// so hls_url and mp4_url point at the router, which steers each viewer
	// to an edge.
	RouterURL string
	EdgeURLs  []string
	// RTMPURL is where broadcasters publish (rtmp://…/live, then
	// /{stream_key}); empty unless live.enabled.
	RTMPURL string
	S3      *s3server.Server

	NATS   *natsserver.Server
	Origin *origin.Server
	// Workers encode; a test may stop one (WorkerStops) to see its jobs
	// go to another.
	Workers     []*origin.Worker
	WorkerStops []context.CancelFunc
	Edges       []*edge.Edge
	Router      *steering.Router
	Web         *web.Server

	// EdgeSecret and AdminToken are the values in use (Config's, or the
	// random ones), for tests and tools that talk to the origin or the
	// edges directly.
	EdgeSecret string
	AdminToken string

	// deployment is the filled-in deployment the roles were built from;
	// edgeRuns are the running edges' (RestartEdge).
	deployment config.File
	logger     *slog.Logger
	ctx        context.Context
	edgeRuns   []*edgeRun

	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// edgeRun is one edge serving: stop ends it gracefully, done closes when
// it has.
type edgeRun struct {
	stop context.CancelFunc
	done chan struct{}
}

// Start brings every role up; Close (or ctx ending) brings them down.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Deployment == nil || cfg.Deployment.Local.DataDir == "" {
		return nil, errors.New("stack: a Deployment with local.data_dir is required")
	}
	d := *cfg.Deployment // filled in below; the caller's stays as given
	d.Edges = slices.Clone(d.Edges)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	st := &Stack{cancel: cancel, EdgeSecret: string(d.Secrets.EdgeSecret), AdminToken: string(d.Secrets.AdminToken)}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()

	s3Addr, err := hostPort(d.S3.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("stack: s3.endpoint: %w", err)
	}
	s3, err := s3server.Start(ctx, s3server.Config{DataDir: filepath.Join(d.Local.DataDir, "s3"), Addr: s3Addr,
		AccessKey: string(d.S3.AccessKey), SecretKey: string(d.S3.SecretKey)})
	if err != nil {
		return nil, err
	}
	st.S3 = s3
	d.S3.Endpoint, d.S3.AccessKey, d.S3.SecretKey, d.S3.PathStyle = s3.Endpoint(), config.Secret(s3.AccessKey()), config.Secret(s3.SecretKey()), true
	natsAddr, err := hostPort(d.Queue.URL)
	if err != nil {
		return nil, fmt.Errorf("stack: queue.url: %w", err)
	}
	if st.NATS, err = natsserver.Start(natsserver.Config{StoreDir: filepath.Join(d.Local.DataDir, "nats"), Addr: natsAddr}); err != nil {
		return nil, err
	}
	d.Queue.URL = st.NATS.URL()

	// Listen first, so every URL is known before the roles are configured.
	// Until a role serves on its listener, the listener is ours to close
	// if anything below fails.
	var pending []net.Listener
	defer func() {
		if !ok {
			for _, ln := range pending {
				ln.Close()
			}
		}
	}()
	listenOn := func(addr string, url *string) (net.Listener, error) {
		ln, err := listen(addr)
		if err != nil {
			return nil, err
		}
		pending = append(pending, ln)
		if *url == "" {
			*url = urlOf(ln)
		}
		return ln, nil
	}
	originLn, err := listenOn(d.Origin.Addr, &d.Origin.URL)
	if err != nil {
		return nil, err
	}
	var webURL string
	webLn, err := listenOn(d.Web.Addr, &webURL)
	if err != nil {
		return nil, err
	}
	if d.Web.URL == "" && len(d.Distributions) == 0 {
		d.Web.URL = webURL
	}
	routerLn, err := listenOn(d.Router.Addr, &d.Site.MediaURL)
	if err != nil {
		return nil, err
	}
	edgeLns := make([]net.Listener, len(d.Edges))
	for i := range d.Edges {
		if edgeLns[i], err = listenOn(d.Edges[i].Addr, &d.Edges[i].URL); err != nil {
			return nil, err
		}
		if d.Edges[i].CacheDir == "" {
			d.Edges[i].CacheDir = filepath.Join(d.Local.DataDir, "cache", d.Edges[i].Name)
		}
	}
	if d.Site.WebURL == "" {
		// Viewers enter where the site is served: an edge, when the edges
		// serve it (in production, a name that reaches every edge).
		d.Site.WebURL = webURL
		if _, ok := d.SiteDistribution(d.Origin.URL); ok && len(d.Edges) > 0 {
			d.Site.WebURL = d.Edges[0].URL
		}
	}
	if err := config.Wrap(&d, "the stack's deployment").Check(); err != nil {
		return nil, err
	}
	st.OriginURL, st.SiteURL, st.WebURL, st.RouterURL = d.Origin.URL, d.Site.WebURL, webURL, d.Site.MediaURL
	for _, n := range d.Edges {
		st.EdgeURLs = append(st.EdgeURLs, n.URL)
	}

	oc := d.OriginConfig()
	oc.Logger = cfg.Logger
	if oc.Live != nil {
		// Listened on now, so a free port (":0" in tests) is known to the
		// rtmp_url the API gives out.
		if oc.Live.RTMPListener, err = listen(oc.Live.RTMPAddr); err != nil {
			return nil, fmt.Errorf("stack: live.rtmp_addr: %w", err)
		}
		pending = append(pending, oc.Live.RTMPListener)
	}
	if st.Origin, err = origin.New(oc); err != nil {
		return nil, err
	}
	st.RTMPURL = st.Origin.RTMPURL()
	for i := range d.Local.Workers {
		wc := d.WorkerConfig(fmt.Sprintf("worker-%d", i+1))
		wc.Addr, wc.Logger = "-", cfg.Logger // one process: the origin's /metrics is the stack's
		if cfg.Worker != nil {
			cfg.Worker(&wc)
		}
		w, err := origin.NewWorker(wc)
		if err != nil {
			return nil, err
		}
		st.Workers = append(st.Workers, w)
	}
	for _, n := range d.Edges {
		ec := d.EdgeConfig(n)
		ec.Logger = cfg.Logger
		e, err := edge.New(ec)
		if err != nil {
			return nil, err
		}
		st.Edges = append(st.Edges, e)
	}
	rc := d.RouterConfig()
	rc.Logger = cfg.Logger
	if st.Router, err = steering.New(rc); err != nil {
		return nil, err
	}
	wc := d.WebConfig()
	wc.Logger = cfg.Logger
	if st.Web, err = web.New(wc); err != nil {
		return nil, err
	}

	st.serve(ctx, "origin", func(ctx context.Context) error { return st.Origin.Serve(ctx, originLn) })
	for i, w := range st.Workers {
		// A worker stopped on its own (WorkerStops) does not stop the stack.
		wctx, stop := context.WithCancel(ctx)
		st.WorkerStops = append(st.WorkerStops, stop)
		st.serve(ctx, fmt.Sprintf("worker-%d", i+1), func(context.Context) error {
			if err := w.Run(wctx); err != nil && (wctx.Err() == nil || ctx.Err() != nil) {
				return err
			}
			return nil
		})
	}
	st.deployment, st.logger, st.ctx = d, cfg.Logger, ctx
	for i, e := range st.Edges {
		st.edgeRuns = append(st.edgeRuns, st.serveEdge(ctx, d.Edges[i].Name, e, edgeLns[i]))
	}
	st.serve(ctx, "router", func(ctx context.Context) error { return st.Router.Serve(ctx, routerLn) })
	st.serve(ctx, "web", func(ctx context.Context) error { return st.Web.Serve(ctx, webLn) })
	ok = true
	return st, nil
}

// serveEdge serves e on ln until ctx ends or the returned run is stopped
// (RestartEdge); only an edge that fails on its own brings the stack down.
func (st *Stack) serveEdge(ctx context.Context, name string, e *edge.Edge, ln net.Listener) *edgeRun {
	ectx, stop := context.WithCancel(ctx)
	run := &edgeRun{stop: stop, done: make(chan struct{})}
	st.serve(ctx, name, func(context.Context) error {
		defer close(run.done)
		if err := e.Serve(ectx, ln); err != nil && (ectx.Err() == nil || ctx.Err() != nil) {
			return err
		}
		return nil
	})
	return run
}

// RestartEdge stops edge i gracefully (it drains, and its usage meter
// reports what it counted) and starts it again on the same address, with
// the same configuration and cache directory, as a restarted process would.
func (st *Stack) RestartEdge(i int) error { return st.RestartEdgeAfter(i, nil, nil) }

// RestartEdgeAfter is RestartEdge with meanwhile run while the edge is
// down, and the edge started again on the clock now (nil: the real one).
func (st *Stack) RestartEdgeAfter(i int, meanwhile func(), now func() time.Time) error {
	if i < 0 || i >= len(st.edgeRuns) {
		return fmt.Errorf("stack: no edge %d", i)
	}
	n := st.deployment.Edges[i]
	run := st.edgeRuns[i]
	run.stop()
	<-run.done
	if meanwhile != nil {
		meanwhile()
	}
	addr, err := hostPort(n.URL)
	if err != nil {
		return fmt.Errorf("stack: edge %s: %w", n.Name, err)
	}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	ec := st.deployment.EdgeConfig(n)
	ec.Logger = st.logger
	if now != nil {
		ec.Now = now
	}
	e, err := edge.New(ec)
	if err != nil {
		ln.Close()
		return err
	}
	st.Edges[i] = e
	st.edgeRuns[i] = st.serveEdge(st.ctx, n.Name, e, ln)
	return nil
}

// hostPort is the listen address of a server the stack runs at url
// (empty: a free port).
func hostPort(u string) (string, error) {
	if u == "" {
		return "", nil
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "", fmt.Errorf("%q is not a URL with a host and port", u)
	}
	return p.Host, nil
}

func (st *Stack) serve(ctx context.Context, name string, run func(context.Context) error) {
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		if err := run(ctx); err != nil {
			st.mu.Lock()
			st.errs = append(st.errs, fmt.Errorf("%s: %w", name, err))
			st.mu.Unlock()
			st.cancel() // one role failing brings the stack down
		}
	}()
}

// Wait blocks until every role has stopped and returns their errors.
func (st *Stack) Wait() error {
	st.wg.Wait()
	if st.NATS != nil {
		st.NATS.Close()
	}
	if st.S3 != nil {
		st.S3.Close()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return errors.Join(st.errs...)
}

// Close stops every role and waits for them.
func (st *Stack) Close() error {
	st.cancel()
	return st.Wait()
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stack: listen %s: %w", addr, err)
	}
	return ln, nil
}

func urlOf(ln net.Listener) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + ":" + port
}

// randomHex is n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
