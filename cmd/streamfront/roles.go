package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/edge/steering"
	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/invalidation"
	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/queue"
	meter "github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/web"
)

// Each role starts from its part of the deployment file (config.File's
// OriginConfig, EdgeConfig, …); its flags, defined in one function per
// role, override single settings. The setup functions are what the roles
// and the compose test both call, so the test checks docker-compose.yml
// against exactly what each role would run with.

type getenv = func(string) (string, bool)

func originFlags(cfg *origin.Config, logLevel *string, stderr io.Writer, env getenv) *flags {
	f := newRoleFlags("origin", stderr, env)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", "listen address (origin.addr)")
	f.secret(&cfg.APIKey, "api-key", "STREAMFRONT_API_KEY", "API key that authorises uploads and edits (secrets.api_key)")
	f.string(&cfg.MediaURL, "media-url", "STREAMFRONT_MEDIA_URL", "viewers' entry for media, the router (site.media_url)")
	f.string(&cfg.WebURL, "web-url", "STREAMFRONT_WEB_URL", "the site's public URL, for page_url (site.web_url)")
	f.string(&cfg.PeerURL, "peer-url", "STREAMFRONT_PEER_URL", "this origin's own URL as other origins reach it; live viewers who reach another origin are forwarded here (origin.peer_url)")
	s3Flags(f, &cfg.S3)
	f.string(&cfg.Queue.URL, "nats-url", "STREAMFRONT_NATS_URL", "NATS server (JetStream) that carries jobs to origins and workers (queue.url)")
	f.duration(&cfg.Queue.AckWait, "job-ack-wait", "STREAMFRONT_JOB_ACK_WAIT", "a job whose process died goes to another after this long; the same on every origin and worker (queue.ack_wait)")
	f.int(&cfg.PackageSlots, "package-slots", "STREAMFRONT_PACKAGE_SLOTS", "uploads made playable at once (origin.package_slots)")
	f.size(&cfg.MaxUploadBytes, "max-upload-size", "STREAMFRONT_MAX_UPLOAD_SIZE", "larger uploads are refused with 413 (origin.max_upload_size)")
	f.string(&cfg.WorkDir, "work-dir", "STREAMFRONT_WORK_DIR", "scratch directory for stream copies (media.work_dir)")
	f.secret(&cfg.EdgeSecret, "edge-secret", "STREAMFRONT_EDGE_SECRET", "secret shared with the edges; media is then served to edges only (secrets.edge_secret)")
	f.string(&cfg.SigningKeyID, "signing-key-id", "STREAMFRONT_SIGNING_KEY_ID", "ID of the key that signs private videos' URLs (secrets.signing_key.id)")
	f.value((*secretBytes)(&cfg.SigningKey), "signing-key", "STREAMFRONT_SIGNING_KEY", "secret that signs private videos' URLs, at least 16 bytes (secrets.signing_key.secret)")
	f.duration(&cfg.SignedURLTTL, "signed-url-ttl", "STREAMFRONT_SIGNED_URL_TTL", "how long a signed URL works (origin.signed_url_ttl)")
	f.secret(&cfg.EdgeAdminToken, "admin-token", "STREAMFRONT_ADMIN_TOKEN", "the edges' admin token, to invalidate their caches (secrets.admin_token)")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "debug, info, warn or error (log_level)")
	return f
}

func workerFlags(cfg *origin.WorkerConfig, logLevel *string, stderr io.Writer, env getenv) *flags {
	f := newRoleFlags("worker", stderr, env)
	f.string(&cfg.Name, "name", "STREAMFRONT_WORKER_NAME", "worker name in logs and in NATS (default: host name and process ID)")
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", `listen address of /metrics and /healthz, "-" for none (worker.addr)`)
	f.string(&cfg.Queue.URL, "nats-url", "STREAMFRONT_NATS_URL", "NATS server (JetStream) to take encode jobs from (queue.url)")
	s3Flags(f, &cfg.S3)
	f.duration(&cfg.Queue.AckWait, "job-ack-wait", "STREAMFRONT_JOB_ACK_WAIT", "a job whose process died goes to another after this long; the same on every origin and worker (queue.ack_wait)")
	f.int(&cfg.MaxEncodes, "max-encodes", "STREAMFRONT_MAX_ENCODES", "encodes run at once on this worker (worker.max_encodes)")
	f.int(&cfg.Threads, "threads", "STREAMFRONT_THREADS", "threads of each ffmpeg run; 0 lets ffmpeg choose (worker.threads)")
	f.string(&cfg.WorkDir, "work-dir", "STREAMFRONT_WORK_DIR", "scratch directory for transcodes (media.work_dir)")
	f.bool(&cfg.WriteAhead, "write-ahead", "STREAMFRONT_WRITE_AHEAD", "also store every playlist and segment in S3 under its URL path (worker.write_ahead)")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "debug, info, warn or error (log_level)")
	return f
}

// s3Flags are the S3 settings every role that stores media reads.
func s3Flags(f *flags, cfg *store.Config) {
	f.string(&cfg.Endpoint, "s3-endpoint", "STREAMFRONT_S3_ENDPOINT", "S3 endpoint URL; empty means AWS (s3.endpoint)")
	f.string(&cfg.Region, "s3-region", "STREAMFRONT_S3_REGION", "S3 region (s3.region)")
	f.string(&cfg.Bucket, "s3-bucket", "STREAMFRONT_S3_BUCKET", "bucket, created when missing (s3.bucket)")
	f.string(&cfg.AccessKey, "s3-access-key", "STREAMFRONT_S3_ACCESS_KEY", "S3 access key; empty uses the AWS default credential chain (s3.access_key)")
	f.secret(&cfg.SecretKey, "s3-secret-key", "STREAMFRONT_S3_SECRET_KEY", "S3 secret key (s3.secret_key)")
	f.bool(&cfg.PathStyle, "s3-path-style", "STREAMFRONT_S3_PATH_STYLE", "path-style bucket addressing (s3.path_style)")
}

// edgeSetting is what the edge role runs with: its Config, where its
// access log goes, and its log level.
type edgeSetting struct {
	cfg                 edge.Config
	accessLog, logLevel string
	// usage and queue: whether the edge meters its deliveries, and the
	// queue its reports go through (edge.usage.enabled, queue).
	usage bool
	queue queue.Config
	// cacheAll is -cache-all, the opposite of cfg.DisableCacheAll.
	cacheAll bool
}

func edgeFlags(s *edgeSetting, stderr io.Writer, env getenv) (*flags, *[2]string) {
	f := newRoleFlags("edge", stderr, env)
	cfg := &s.cfg
	f.string(&cfg.Name, "name", "STREAMFRONT_EDGE_NAME", "which edge of the file's edges this is; shown in X-Edge and X-Cache")
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", "listen address (edges[].addr)")
	f.string(&cfg.Origin, "origin", "STREAMFRONT_ORIGIN_URL", "origin base URL (origin.url)")
	f.string(&cfg.CacheDir, "cache-dir", "STREAMFRONT_CACHE_DIR", "disk cache directory; empty keeps memory only (edges[].cache_dir)")
	f.size(&cfg.MemoryBytes, "memory-size", "STREAMFRONT_MEMORY_SIZE", "memory tier budget (edge.memory_size)")
	f.size(&cfg.DiskBytes, "disk-size", "STREAMFRONT_DISK_SIZE", "disk tier budget (edge.disk_size)")
	f.secret(&cfg.AdminToken, "admin-token", "STREAMFRONT_ADMIN_TOKEN", "token of the invalidation API; empty disables it (secrets.admin_token)")
	f.secret(&cfg.OriginSecret, "edge-secret", "STREAMFRONT_EDGE_SECRET", "secret shared with the origin; signs every request to it (secrets.edge_secret)")
	// One more signing key to verify, beside the file's (rotation).
	key := new([2]string)
	f.string(&key[0], "signing-key-id", "STREAMFRONT_SIGNING_KEY_ID", "ID of a key that verifies private videos' signed URLs (secrets.signing_key.id)")
	f.secret(&key[1], "signing-key", "STREAMFRONT_SIGNING_KEY", "that key's secret (secrets.signing_key.secret)")
	f.bool(&s.cacheAll, "cache-all", "STREAMFRONT_CACHE_ALL", "cache every path by RFC 9111; false caches only /videos/ and passes the rest through (edge.cache_all)")
	f.bool(&cfg.DisableFastPath, "disable-fast-path", "STREAMFRONT_DISABLE_FAST_PATH", "serve every request through net/http (edge.fast_path: false)")
	f.string(&cfg.TLSCertFile, "tls-cert", "STREAMFRONT_TLS_CERT", "certificate file: serve HTTPS with HTTP/2 (edges[].tls_cert)")
	f.string(&cfg.TLSKeyFile, "tls-key", "STREAMFRONT_TLS_KEY", "private key file of -tls-cert (edges[].tls_key)")
	f.string(&s.accessLog, "access-log", "STREAMFRONT_ACCESS_LOG", `access log as JSON lines with CloudFront's field names: a file to append to, or "-" for standard output (edges[].access_log)`)
	f.string(&s.logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "debug, info, warn or error (log_level)")
	f.bool(&s.usage, "usage", "STREAMFRONT_USAGE", "meter deliveries for GET /api/v1/usage and report them through -nats-url (edge.usage.enabled)")
	f.string(&s.queue.URL, "nats-url", "STREAMFRONT_NATS_URL", "NATS server (JetStream) usage reports go through; empty meters nothing (queue.url)")
	f.duration(&cfg.UsageInterval, "usage-interval", "STREAMFRONT_USAGE_INTERVAL", "how often usage is reported; a kill -9 loses at most this much (edge.usage.interval)")
	return f, key
}

func routerFlags(cfg *steering.Config, logLevel *string, stderr io.Writer, env getenv) *flags {
	f := newRoleFlags("router", stderr, env)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", "listen address (router.addr)")
	f.duration(&cfg.HealthCheckInterval, "health-interval", "STREAMFRONT_HEALTH_INTERVAL", "time between health checks of each edge (router.health_check_interval)")
	f.duration(&cfg.LatencyProbeInterval, "latency-interval", "STREAMFRONT_LATENCY_INTERVAL", "time between latency probes of each edge; negative turns them off (router.latency_probe_interval)")
	f.duration(&cfg.SteeringTTL, "steering-ttl", "STREAMFRONT_STEERING_TTL", "how long players keep a steering manifest (router.steering_ttl)")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "debug, info, warn or error (log_level)")
	return f
}

func webFlags(cfg *web.Config, logLevel *string, stderr io.Writer, env getenv) *flags {
	f := newRoleFlags("web", stderr, env)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", "listen address (web.addr)")
	f.string(&cfg.APIURL, "api-url", "STREAMFRONT_API_URL", "origin base URL; /api/ is proxied there (origin.url)")
	f.string(&cfg.PublicURL, "public-url", "STREAMFRONT_PUBLIC_URL", "this site's public URL (site.web_url)")
	f.string(&cfg.SiteName, "site-name", "STREAMFRONT_SITE_NAME", "site name (site.name)")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "debug, info, warn or error (log_level)")
	return f
}

// natsSetting is the queue server role's configuration.
type natsSetting struct{ addr, storeDir string }

func natsFlags(cfg *natsSetting, stderr io.Writer, env getenv) *flags {
	f := newRoleFlags("nats", stderr, env)
	f.string(&cfg.addr, "addr", "STREAMFRONT_ADDR", "NATS client listen address (nats.addr)")
	f.string(&cfg.storeDir, "store-dir", "STREAMFRONT_NATS_STORE_DIR", "directory of JetStream's streams; queued jobs survive a restart (nats.store_dir)")
	return f
}

// roleVars lists the environment variables each role reads.
func roleVars() map[string]*flags {
	var lvl string
	none := func(string) (string, bool) { return "", false }
	ef, _ := edgeFlags(&edgeSetting{}, io.Discard, none)
	return map[string]*flags{
		"origin": originFlags(&origin.Config{}, &lvl, io.Discard, none),
		"worker": workerFlags(&origin.WorkerConfig{}, &lvl, io.Discard, none),
		"nats":   natsFlags(&natsSetting{}, io.Discard, none),
		"edge":   ef,
		"router": routerFlags(&steering.Config{}, &lvl, io.Discard, none),
		"web":    webFlags(&web.Config{}, &lvl, io.Discard, none),
	}
}

// warnUnread logs every STREAMFRONT_* variable set in the environment
// that neither the role nor its deployment file reads: a misspelt or
// retired name (STREAMFRONT_ORIGIN_SECRET became STREAMFRONT_EDGE_SECRET)
// would otherwise be ignored without a word.
func warnUnread(log *slog.Logger, role string, args []string) {
	known := map[string]bool{}
	for _, v := range roleVars()[role].env {
		known[v] = true
	}
	if d, _ := deployment(args, os.LookupEnv); d != nil {
		for _, v := range d.Vars {
			known[v] = true
		}
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "STREAMFRONT_") && !known[name] {
			log.Warn("an environment variable is set that nothing reads; see `streamfront "+role+" -h` for the variables it reads, or set the setting in the deployment file",
				slog.String("variable", name), slog.String("role", role))
		}
	}
}

// The setups: file, then variables, then flags.

// setup starts a role's configuration from its part of the deployment
// file and its log level from the file's, then lets the role's flags (and
// their variables) override single settings.
func setup[C any](args []string, env getenv, part func(*config.Loaded) C, flagsOf func(*C, *string) *flags) (C, string, error) {
	d, err := deployment(args, env)
	if err != nil {
		var zero C
		return zero, "", err
	}
	cfg, level := part(d), d.LogLevel
	// Parse first: the return values must be read after the flags set them.
	err = flagsOf(&cfg, &level).parse(args)
	return cfg, level, err
}

func originSetup(args []string, stderr io.Writer, env getenv) (origin.Config, string, error) {
	return setup(args, env, func(d *config.Loaded) origin.Config { return d.OriginConfig() },
		func(c *origin.Config, level *string) *flags { return originFlags(c, level, stderr, env) })
}

func workerSetup(args []string, stderr io.Writer, env getenv) (origin.WorkerConfig, string, error) {
	return setup(args, env, func(d *config.Loaded) origin.WorkerConfig { return d.WorkerConfig("") },
		func(c *origin.WorkerConfig, level *string) *flags { return workerFlags(c, level, stderr, env) })
}

func edgeSetup(args []string, stderr io.Writer, env getenv) (edgeSetting, error) {
	d, err := deployment(args, env)
	if err != nil {
		return edgeSetting{}, err
	}
	name := argValue(args, "name")
	if name == "" {
		name, _ = env("STREAMFRONT_EDGE_NAME")
	}
	node := config.EdgeNode{Name: name}
	if len(d.Edges) > 0 {
		if node, err = d.EdgeNode(name); err != nil {
			return edgeSetting{}, fmt.Errorf("%s: %w", d.Path, err)
		}
	} else if node.Name == "" {
		node.Name = "edge-1"
	}
	s := edgeSetting{cfg: d.EdgeConfig(node), accessLog: node.AccessLog, logLevel: d.LogLevel,
		usage: d.Edge.Usage.Enabled, queue: d.QueueConfig(node.Name), cacheAll: d.Edge.CacheAll}
	f, key := edgeFlags(&s, stderr, env)
	key[0], key[1] = d.Secrets.SigningKey.ID, string(d.Secrets.SigningKey.Secret)
	if err := f.parse(args); err != nil {
		return edgeSetting{}, err
	}
	if s.cacheAll != d.Edge.CacheAll {
		// -cache-all (or STREAMFRONT_CACHE_ALL) overrides the file, for
		// every distribution.
		if len(s.cfg.Distributions) == 0 {
			s.cfg.DisableCacheAll = !s.cacheAll
		}
		for i := range s.cfg.Distributions {
			s.cfg.Distributions[i].DisableCacheAll = !s.cacheAll
		}
	}
	if s.cfg.Origin != "" {
		// -origin moves the origin of the site distribution (web.url),
		// which caches every path already.
		origin := s.cfg.Origin
		if origin == "" {
			origin = d.Origin.URL
		}
		if site, ok := d.SiteDistribution(origin); ok {
			site.DisableCacheAll = !s.cacheAll
			s.cfg.Distributions, s.cfg.Origin, s.cfg.DisableCacheAll = []edge.Distribution{site}, "", false
		}
	}
	// The flags may have turned metering on or off or moved the queue:
	// the Sink follows them.
	s.cfg.UsageSink, s.cfg.Invalidations = nil, nil
	if s.queue.URL != "" {
		s.queue.Name = s.cfg.Name
		s.cfg.Invalidations = &invalidation.Follower{Queue: s.queue, Edge: s.cfg.Name}
	}
	if s.usage && s.queue.URL != "" {
		s.cfg.UsageSink = &meter.DialQueueSink{Queue: s.queue}
	}
	if key[0] != "" || key[1] != "" {
		if s.cfg.SigningKeys == nil {
			s.cfg.SigningKeys = map[string][]byte{}
		}
		s.cfg.SigningKeys[key[0]] = []byte(key[1])
	}
	return s, nil
}

func routerSetup(args []string, stderr io.Writer, env getenv) (steering.Config, string, error) {
	cfg, level, err := setup(args, env, func(d *config.Loaded) steering.Config { return d.RouterConfig() },
		func(c *steering.Config, level *string) *flags { return routerFlags(c, level, stderr, env) })
	if err == nil && len(cfg.Edges) == 0 {
		err = errors.New("the deployment file lists no edges: the router reads the edges it steers viewers to from its edges (-config FILE)")
	}
	return cfg, level, err
}

func webSetup(args []string, stderr io.Writer, env getenv) (web.Config, string, error) {
	return setup(args, env, func(d *config.Loaded) web.Config { return d.WebConfig() },
		func(c *web.Config, level *string) *flags { return webFlags(c, level, stderr, env) })
}

func natsSetup(args []string, stderr io.Writer, env getenv) (natsSetting, error) {
	d, err := deployment(args, env)
	if err != nil {
		return natsSetting{}, err
	}
	cfg := natsSetting{addr: d.NATS.Addr, storeDir: d.NATS.StoreDir}
	err = natsFlags(&cfg, stderr, env).parse(args)
	return cfg, err
}

func runOrigin(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, level, err := originSetup(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Logger, err = newLogger(stderr, level); err != nil {
		return err
	}
	warnUnread(cfg.Logger, "origin", args)
	o, err := origin.New(cfg)
	if err != nil {
		return err
	}
	return o.Run(ctx)
}

func runWorker(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, level, err := workerSetup(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Logger, err = newLogger(stderr, level); err != nil {
		return err
	}
	warnUnread(cfg.Logger, "worker", args)
	w, err := origin.NewWorker(cfg)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// runNATS runs a single NATS server with JetStream, the queue of the demo
// stack; production points origins and workers at a NATS cluster.
func runNATS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := natsSetup(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}
	ns, err := natsserver.Start(natsserver.Config{Addr: cfg.addr, StoreDir: cfg.storeDir})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "NATS (JetStream) listening at %s\n", ns.URL())
	<-ctx.Done()
	ns.Close()
	return nil
}

func runEdge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := edgeSetup(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}
	cfg := s.cfg
	if cfg.Logger, err = newLogger(stderr, s.logLevel); err != nil {
		return err
	}
	warnUnread(cfg.Logger, "edge", args)
	switch s.accessLog {
	case "":
	case "-":
		cfg.AccessLog = stdout
	default:
		f, err := os.OpenFile(s.accessLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("access log: %w", err)
		}
		defer f.Close()
		cfg.AccessLog = f
	}
	e, err := edge.New(cfg)
	if err != nil {
		return err
	}
	return e.Run(ctx)
}

func runRouter(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, level, err := routerSetup(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Logger, err = newLogger(stderr, level); err != nil {
		return err
	}
	warnUnread(cfg.Logger, "router", args)
	rt, err := steering.New(cfg)
	if err != nil {
		return err
	}
	return rt.Run(ctx)
}

func runWeb(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, level, err := webSetup(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Logger, err = newLogger(stderr, level); err != nil {
		return err
	}
	warnUnread(cfg.Logger, "web", args)
	s, err := web.New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// secret defines a flag of a secret: help output never shows its value.
func (f *flags) secret(p *string, name, env, help string) {
	f.value((*secretString)(p), name, env, help)
}

type secretString string

func (s *secretString) String() string {
	if s == nil || *s == "" {
		return ""
	}
	return "(set)"
}

func (s *secretString) Set(v string) error {
	*s = secretString(v)
	return nil
}

// secretBytes is a secret given as text; help output never shows it.
type secretBytes []byte

func (s *secretBytes) String() string {
	if len(*s) == 0 {
		return ""
	}
	return "(set)"
}

func (s *secretBytes) Set(v string) error {
	*s = []byte(v)
	return nil
}
