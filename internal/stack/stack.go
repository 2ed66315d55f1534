package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/edge/steering"
	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/s3server"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/web"
)

// Config describes the stack. Addresses left empty get a free port on
// 127.0.0.1 (what tests want); `streamfront all` sets the well-known ones.
type Config struct {
	// DataDir holds the S3 data (s3/), the queue (nats/) and the edges'
	// disk caches (cache/).
	// Required.
	DataDir string
	// S3Addr, OriginAddr, WebAddr, RouterAddr and EdgeAddrs are listen
	// addresses.
	S3Addr, OriginAddr, WebAddr, RouterAddr string
	EdgeAddrs                               []string
	// Edges is how many edges run. It defaults to 2.
	Edges int
	// NATSAddr is the embedded NATS server's client address.
	NATSAddr string
	// Workers is how many encoding workers run. It defaults to 1.
	Workers int
	// Worker adjusts each worker's configuration (ladder, encodes at once).
	Worker func(*origin.WorkerConfig)
	// JobAckWait is how long a job whose process died waits for another
	// (the queue's AckWait). It defaults to queue.Config's 30 s.
	JobAckWait time.Duration
	// PublicHost is the host name put in URLs viewers follow. It defaults
	// to the listen host (127.0.0.1 for free ports).
	PublicHost string
	// APIKey authorises uploads. Required.
	APIKey string
	// Bucket defaults to "streamfront".
	Bucket string
	// EdgeMemoryBytes is each edge's memory tier. It defaults to 256 MiB.
	EdgeMemoryBytes int64
	// EdgeSecret is shared by the origin and the edges: edges sign their
	// requests with it and the origin serves media to nobody else.
	// SigningKeyID and SigningKey sign private videos' URLs at the origin
	// and verify them at the edges. AdminToken guards the edges'
	// invalidation API, which the origin calls. Each defaults to a random
	// value made at Start, so signed URLs do not outlive a run.
	EdgeSecret   string
	SigningKeyID string
	SigningKey   []byte
	AdminToken   string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Stack is a running set of roles.
type Stack struct {
	WebURL    string
	OriginURL string
	// RouterURL is the viewers' entry for media: the origin's MediaURL,
	// so hls_url and mp4_url point at the router, which steers each viewer
	// to an edge.
	RouterURL string
	EdgeURLs  []string
	S3        *s3server.Server

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

	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// Start brings every role up; Close (or ctx ending) brings them down.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.DataDir == "" || cfg.APIKey == "" {
		return nil, errors.New("stack: DataDir and APIKey are required")
	}
	if cfg.Edges == 0 {
		cfg.Edges = 2
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "streamfront"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.EdgeSecret == "" {
		cfg.EdgeSecret = randomHex(32)
	}
	if cfg.SigningKeyID == "" {
		cfg.SigningKeyID = "run-" + randomHex(4)
	}
	if len(cfg.SigningKey) == 0 {
		cfg.SigningKey = []byte(randomHex(32))
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = randomHex(32)
	}
	ctx, cancel := context.WithCancel(ctx)
	st := &Stack{cancel: cancel, EdgeSecret: cfg.EdgeSecret, AdminToken: cfg.AdminToken}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()

	s3, err := s3server.Start(ctx, s3server.Config{DataDir: filepath.Join(cfg.DataDir, "s3"), Addr: cfg.S3Addr})
	if err != nil {
		return nil, err
	}
	st.S3 = s3
	if st.NATS, err = natsserver.Start(natsserver.Config{StoreDir: filepath.Join(cfg.DataDir, "nats"), Addr: cfg.NATSAddr}); err != nil {
		return nil, err
	}
	s3cfg := store.Config{Endpoint: s3.Endpoint(), Bucket: cfg.Bucket, AccessKey: s3.AccessKey(), SecretKey: s3.SecretKey(), PathStyle: true}

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
	listenOn := func(addr string) (net.Listener, error) {
		ln, err := listen(addr)
		if err == nil {
			pending = append(pending, ln)
		}
		return ln, err
	}
	originLn, err := listenOn(cfg.OriginAddr)
	if err != nil {
		return nil, err
	}
	webLn, err := listenOn(cfg.WebAddr)
	if err != nil {
		return nil, err
	}
	routerLn, err := listenOn(cfg.RouterAddr)
	if err != nil {
		return nil, err
	}
	edgeLns := make([]net.Listener, cfg.Edges)
	for i := range edgeLns {
		addr := ""
		if i < len(cfg.EdgeAddrs) {
			addr = cfg.EdgeAddrs[i]
		}
		if edgeLns[i], err = listenOn(addr); err != nil {
			return nil, err
		}
	}
	st.OriginURL = urlOf(originLn, cfg.PublicHost)
	st.WebURL = urlOf(webLn, cfg.PublicHost)
	st.RouterURL = urlOf(routerLn, cfg.PublicHost)
	for _, ln := range edgeLns {
		st.EdgeURLs = append(st.EdgeURLs, urlOf(ln, cfg.PublicHost))
	}

	st.Origin, err = origin.New(origin.Config{
		S3:             s3cfg,
		Queue:          queue.Config{URL: st.NATS.URL(), AckWait: cfg.JobAckWait},
		APIKey:         cfg.APIKey,
		MediaURL:       st.RouterURL,
		WebURL:         st.WebURL,
		EdgeSecret:     cfg.EdgeSecret,
		SigningKeyID:   cfg.SigningKeyID,
		SigningKey:     cfg.SigningKey,
		Edges:          st.EdgeURLs,
		EdgeAdminToken: cfg.AdminToken,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	for i := range cfg.Workers {
		wc := origin.WorkerConfig{Name: fmt.Sprintf("worker-%d", i+1), Addr: "-", S3: s3cfg,
			Queue: queue.Config{URL: st.NATS.URL(), AckWait: cfg.JobAckWait}, Logger: cfg.Logger}
		if cfg.Worker != nil {
			cfg.Worker(&wc)
		}
		w, err := origin.NewWorker(wc)
		if err != nil {
			return nil, err
		}
		st.Workers = append(st.Workers, w)
	}
	for i := range edgeLns {
		e, err := edge.New(edge.Config{
			Name:         fmt.Sprintf("edge-%d", i+1),
			Origin:       st.OriginURL,
			CacheDir:     filepath.Join(cfg.DataDir, "cache", fmt.Sprintf("edge-%d", i+1)),
			MemoryBytes:  cfg.EdgeMemoryBytes,
			AdminToken:   cfg.AdminToken,
			OriginSecret: cfg.EdgeSecret,
			SigningKeys:  map[string][]byte{cfg.SigningKeyID: cfg.SigningKey},
			Logger:       cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		st.Edges = append(st.Edges, e)
	}
	var routed []steering.Edge
	for i, u := range st.EdgeURLs {
		routed = append(routed, steering.Edge{Name: fmt.Sprintf("edge-%d", i+1), URL: u})
	}
	if st.Router, err = steering.New(steering.Config{Edges: routed, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	st.Web, err = web.New(web.Config{APIURL: st.OriginURL, PublicURL: st.WebURL, DevAPIKey: cfg.APIKey, Logger: cfg.Logger})
	if err != nil {
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
	for i, e := range st.Edges {
		st.serve(ctx, fmt.Sprintf("edge-%d", i+1), func(ctx context.Context) error { return e.Serve(ctx, edgeLns[i]) })
	}
	st.serve(ctx, "router", func(ctx context.Context) error { return st.Router.Serve(ctx, routerLn) })
	st.serve(ctx, "web", func(ctx context.Context) error { return st.Web.Serve(ctx, webLn) })
	ok = true
	return st, nil
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

func urlOf(ln net.Listener, publicHost string) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if publicHost != "" {
		host = publicHost
	} else if host == "::" || host == "0.0.0.0" || host == "" {
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
