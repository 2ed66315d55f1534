package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/edge/steering"
	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/transcode"
	"github.com/streamfront/streamfront/web"
)

// Each role's flags are defined in one function, so the compose test can
// check docker-compose.yml against exactly the variables a role reads.

func originFlags(cfg *origin.Config, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("origin", stderr)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8090", "listen address")
	f.string(&cfg.APIKey, "api-key", "STREAMFRONT_API_KEY", "", "API key that authorises uploads and edits (required)")
	f.string(&cfg.MediaURL, "media-url", "STREAMFRONT_MEDIA_URL", "", "viewers' entry for media (an edge or the router), e.g. https://cdn.example.com (required)")
	f.string(&cfg.WebURL, "web-url", "STREAMFRONT_WEB_URL", "", "the site's public URL, for page_url (required)")
	s3Flags(f, &cfg.S3)
	f.string(&cfg.Queue.URL, "nats-url", "STREAMFRONT_NATS_URL", "", "NATS server (JetStream) that carries jobs to origins and workers, e.g. nats://nats:4222 (required)")
	f.duration(&cfg.Queue.AckWait, "job-ack-wait", "STREAMFRONT_JOB_ACK_WAIT", 30*time.Second, "a job whose process stops sending heartbeats (it died) goes to another after this long; the same on every origin and worker")
	f.int(&cfg.PackageSlots, "package-slots", "STREAMFRONT_PACKAGE_SLOTS", 4, "uploads made playable at once (probe, index, remux or stream copy; no encoding)")
	f.string(&cfg.WorkDir, "work-dir", "STREAMFRONT_WORK_DIR", "", "scratch directory for stream copies (default: system temp)")
	f.string(&cfg.EdgeSecret, "edge-secret", "STREAMFRONT_EDGE_SECRET", "", "secret shared with the edges (their STREAMFRONT_ORIGIN_SECRET); media is then served to edges only. Empty serves media to anyone")
	f.string(&cfg.SigningKeyID, "signing-key-id", "STREAMFRONT_SIGNING_KEY_ID", "", "ID of the key that signs private videos' URLs (edges hold it in STREAMFRONT_SIGNING_KEYS)")
	f.value((*secretBytes)(&cfg.SigningKey), "signing-key", "STREAMFRONT_SIGNING_KEY", "secret that signs private videos' URLs, at least 16 bytes")
	f.DurationVar(&cfg.SignedURLTTL, "signed-url-ttl", 6*time.Hour, "how long a signed URL works ($STREAMFRONT_SIGNED_URL_TTL)")
	f.env["signed-url-ttl"] = "STREAMFRONT_SIGNED_URL_TTL"
	f.value((*stringList)(&cfg.Edges), "edges", "STREAMFRONT_EDGES", "comma-separated edge base URLs, invalidated on DELETE, on visibility changes and by POST /api/v1/invalidations")
	f.string(&cfg.EdgeAdminToken, "edge-admin-token", "STREAMFRONT_EDGE_ADMIN_TOKEN", "", "the edges' admin token (their STREAMFRONT_ADMIN_TOKEN), required with -edges")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

func workerFlags(cfg *origin.WorkerConfig, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("worker", stderr)
	f.string(&cfg.Name, "name", "STREAMFRONT_WORKER_NAME", "", "worker name in logs and in NATS (default: host name and process ID)")
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8094", "listen address of /metrics and /healthz")
	f.string(&cfg.Queue.URL, "nats-url", "STREAMFRONT_NATS_URL", "", "NATS server (JetStream) to take encode jobs from, e.g. nats://nats:4222 (required)")
	s3Flags(f, &cfg.S3)
	f.duration(&cfg.Queue.AckWait, "job-ack-wait", "STREAMFRONT_JOB_ACK_WAIT", 30*time.Second, "a job whose process stops sending heartbeats (it died) goes to another after this long; the same on every origin and worker")
	f.int(&cfg.MaxEncodes, "max-encodes", "STREAMFRONT_MAX_ENCODES", 1, "encodes run at once on this worker")
	f.int(&cfg.Threads, "threads", "STREAMFRONT_THREADS", 0, "threads of each ffmpeg run; 0 lets ffmpeg choose (about one per core)")
	f.string(&cfg.WorkDir, "work-dir", "STREAMFRONT_WORK_DIR", "", "scratch directory for transcodes (default: system temp)")
	f.value(ladderFlag{&cfg.Ladder}, "ladder", "STREAMFRONT_LADDER",
		`ABR ladder below the source, "name:shortSide:bitrate,…" or "none" (default 1080p:1080:5M,720p:720:3M,480p:480:1400k,360p:360:800k)`)
	f.bool(&cfg.WriteAhead, "write-ahead", "STREAMFRONT_WRITE_AHEAD", false, "also store every playlist and segment in S3 under its URL path, so the bucket alone can serve finished videos")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

// natsConfig is the queue server role's configuration.
type natsConfig struct{ addr, storeDir string }

func natsFlags(cfg *natsConfig, stderr io.Writer) *flags {
	f := newFlags("nats", stderr)
	f.string(&cfg.addr, "addr", "STREAMFRONT_ADDR", ":4222", "NATS client listen address")
	f.string(&cfg.storeDir, "store-dir", "STREAMFRONT_NATS_STORE_DIR", "nats", "directory of JetStream's streams (queued jobs survive a restart)")
	return f
}

// runNATS runs a single NATS server with JetStream, the queue of the demo
// stack; production points origins and workers at a NATS cluster.
func runNATS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg natsConfig
	if err := natsFlags(&cfg, stderr).parse(args); err != nil {
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

// s3Flags are the S3 settings every role that stores media reads.
func s3Flags(f *flags, cfg *store.Config) {
	f.string(&cfg.Endpoint, "s3-endpoint", "STREAMFRONT_S3_ENDPOINT", "", "S3 endpoint URL; empty means AWS")
	f.string(&cfg.Region, "s3-region", "STREAMFRONT_S3_REGION", "us-east-1", "S3 region")
	f.string(&cfg.Bucket, "s3-bucket", "STREAMFRONT_S3_BUCKET", "streamfront", "bucket (created when missing)")
	f.string(&cfg.AccessKey, "s3-access-key", "STREAMFRONT_S3_ACCESS_KEY", "", "S3 access key; empty uses the AWS default credential chain")
	f.string(&cfg.SecretKey, "s3-secret-key", "STREAMFRONT_S3_SECRET_KEY", "", "S3 secret key")
	f.bool(&cfg.PathStyle, "s3-path-style", "STREAMFRONT_S3_PATH_STYLE", false, "path-style bucket addressing (MinIO, versitygw)")
}

func edgeFlags(cfg *edge.Config, accessLog, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("edge", stderr)
	f.string(&cfg.Name, "name", "STREAMFRONT_EDGE_NAME", "edge-1", "edge name, shown in X-Edge and X-Cache")
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8081", "listen address")
	f.string(&cfg.Origin, "origin", "STREAMFRONT_ORIGIN_URL", "", "origin base URL (required)")
	f.string(&cfg.CacheDir, "cache-dir", "STREAMFRONT_CACHE_DIR", "", "disk cache directory; empty keeps memory only")
	f.int64(&cfg.MemoryBytes, "cache-memory-bytes", "STREAMFRONT_CACHE_MEMORY_BYTES", 256<<20, "memory tier budget")
	f.int64(&cfg.DiskBytes, "cache-disk-bytes", "STREAMFRONT_CACHE_DISK_BYTES", 10<<30, "disk tier budget")
	f.string(&cfg.AdminToken, "admin-token", "STREAMFRONT_ADMIN_TOKEN", "", "token for the invalidation API; empty disables it")
	f.string(&cfg.OriginSecret, "origin-secret", "STREAMFRONT_ORIGIN_SECRET", "", "secret shared with the origin (its STREAMFRONT_EDGE_SECRET); signs every request to the origin")
	f.value((*keyMap)(&cfg.SigningKeys), "signing-keys", "STREAMFRONT_SIGNING_KEYS", "keys that verify signed URLs of private videos, as id:secret[,id:secret...]; empty refuses private videos")
	f.value(behaviorsFlag{&cfg.Behaviors}, "behaviors", "STREAMFRONT_BEHAVIORS",
		`cache behaviors per path, as JSON: [{"pattern":"/videos/**.m3u8","default_ttl":"5s","min_ttl":"0s","max_ttl":"1m","negative_ttl":"1s","query_keys":[]}] (first match wins; omitted fields inherit; query_keys null keeps the whole query, [] ignores it)`)
	f.value((*stringList)(&cfg.Shields), "shields", "STREAMFRONT_SHIELDS", "shield edges to pull from instead of the origin (comma-separated base URLs; each object's shield chosen by rendezvous hashing, the origin if it is down)")
	f.bool(&cfg.DisableFastPath, "disable-fast-path", "STREAMFRONT_DISABLE_FAST_PATH", false, "serve every request through net/http (the fast path answers memory hits on HTTP/1.1)")
	f.string(&cfg.TLSCertFile, "tls-cert", "STREAMFRONT_TLS_CERT", "", "certificate file: serve HTTPS with HTTP/2 (with -tls-key)")
	f.string(&cfg.TLSKeyFile, "tls-key", "STREAMFRONT_TLS_KEY", "", "private key file of -tls-cert")
	f.string(accessLog, "access-log", "STREAMFRONT_ACCESS_LOG", "", `access log as JSON lines with CloudFront's field names: a file to append to, or "-" for standard output; empty for none`)
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

func routerFlags(cfg *steering.Config, edges, internalURLs, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("router", stderr)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8083", "listen address")
	f.string(edges, "edges", "STREAMFRONT_ROUTER_EDGES", "", "edges to route viewers to, as name=URL pairs separated by commas: each edge's name (its STREAMFRONT_EDGE_NAME) and base URL as viewers reach it, e.g. edge-1=https://e1.example.com,edge-2=https://e2.example.com (required)")
	f.string(internalURLs, "edge-internal-urls", "STREAMFRONT_ROUTER_EDGE_INTERNAL_URLS", "", "how the router itself reaches edges when not by the viewers' URLs (containers, private networks), as name=URL pairs, e.g. edge-1=http://edge-1:8081")
	f.duration(&cfg.HealthCheckInterval, "health-interval", "STREAMFRONT_HEALTH_INTERVAL", 2*time.Second, "time between health checks of each edge (GET /healthz; 3 failures mark it down, 2 passes up)")
	f.duration(&cfg.LatencyProbeInterval, "latency-interval", "STREAMFRONT_LATENCY_INTERVAL", time.Second, "time between latency probes of each edge; negative turns the extra probes off")
	f.duration(&cfg.SteeringTTL, "steering-ttl", "STREAMFRONT_STEERING_TTL", 30*time.Second, "how long players keep a steering manifest before asking again")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

// stringList is a comma-separated list flag; setting it replaces the list.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
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

// keyMap is "id:secret,id:secret": key IDs may not hold ':' or ',', and
// secrets may not hold ','. Help output shows the IDs only.
type keyMap map[string][]byte

func (m *keyMap) String() string {
	ids := make([]string, 0, len(*m))
	for id := range *m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

func (m *keyMap) Set(v string) error {
	keys := map[string][]byte{}
	for _, pair := range strings.Split(v, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		id, secret, ok := strings.Cut(pair, ":")
		if !ok || id == "" || secret == "" {
			return fmt.Errorf("signing key %q: want id:secret", strings.SplitN(pair, ":", 2)[0])
		}
		if _, dup := keys[id]; dup {
			return fmt.Errorf("signing key %q is given twice", id)
		}
		keys[id] = []byte(secret)
	}
	if len(keys) == 0 {
		keys = nil
	}
	*m = keys
	return nil
}

func webFlags(cfg *web.Config, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("web", stderr)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8080", "listen address")
	f.string(&cfg.APIURL, "api-url", "STREAMFRONT_API_URL", "", "origin base URL; /api/ is proxied there (required)")
	f.string(&cfg.PublicURL, "public-url", "STREAMFRONT_PUBLIC_URL", "", "this site's public URL, for canonical and OpenGraph links")
	f.string(&cfg.SiteName, "site-name", "STREAMFRONT_SITE_NAME", "Streamfront", "site name")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

func runOrigin(ctx context.Context, args []string, _, stderr io.Writer) error {
	var cfg origin.Config
	var logLevel string
	if err := originFlags(&cfg, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	o, err := origin.New(cfg)
	if err != nil {
		return err
	}
	return o.Run(ctx)
}

func runWorker(ctx context.Context, args []string, _, stderr io.Writer) error {
	var cfg origin.WorkerConfig
	var logLevel string
	if err := workerFlags(&cfg, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	w, err := origin.NewWorker(cfg)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

func runEdge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg edge.Config
	var accessLog, logLevel string
	if err := edgeFlags(&cfg, &accessLog, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	switch accessLog {
	case "":
	case "-":
		cfg.AccessLog = stdout
	default:
		f, err := os.OpenFile(accessLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
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
	var cfg steering.Config
	var edges, internalURLs, logLevel string
	if err := routerFlags(&cfg, &edges, &internalURLs, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Edges, err = steering.ParseEdges(edges, internalURLs); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	rt, err := steering.New(cfg)
	if err != nil {
		return err
	}
	return rt.Run(ctx)
}

func runWeb(ctx context.Context, args []string, _, stderr io.Writer) error {
	var cfg web.Config
	var logLevel string
	if err := webFlags(&cfg, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	s, err := web.New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// ladderFlag sets a worker's ABR ladder from text (transcode.ParseLadder).
type ladderFlag struct{ dst *[]transcode.Rung }

func (l ladderFlag) String() string {
	if l.dst == nil || *l.dst == nil {
		return ""
	}
	var parts []string
	for _, r := range *l.dst {
		parts = append(parts, fmt.Sprintf("%s:%d:%d", r.Name, r.ShortSide, r.VideoBitrate))
	}
	return strings.Join(parts, ",")
}

func (l ladderFlag) Set(s string) error {
	rungs, err := transcode.ParseLadder(s)
	if err != nil {
		return err
	}
	*l.dst = rungs
	return nil
}

// behaviorsFlag sets an edge's cache behaviors from JSON, durations as Go
// duration strings ("90s", "1h").
type behaviorsFlag struct{ dst *[]edge.Behavior }

type behaviorJSON struct {
	Pattern     string    `json:"pattern"`
	DefaultTTL  string    `json:"default_ttl"`
	MinTTL      string    `json:"min_ttl"`
	MaxTTL      string    `json:"max_ttl"`
	NegativeTTL string    `json:"negative_ttl"`
	QueryKeys   *[]string `json:"query_keys"`
}

func (b behaviorsFlag) String() string {
	if b.dst == nil || len(*b.dst) == 0 {
		return ""
	}
	return fmt.Sprintf("%d behaviors", len(*b.dst))
}

func (b behaviorsFlag) Set(s string) error {
	var in []behaviorJSON
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("behaviors must be a JSON list of {pattern, default_ttl, min_ttl, max_ttl, negative_ttl, query_keys}: %w", err)
	}
	out := make([]edge.Behavior, 0, len(in))
	for i, j := range in {
		bh := edge.Behavior{Pattern: j.Pattern}
		for _, d := range []struct {
			text string
			dst  *time.Duration
		}{{j.DefaultTTL, &bh.DefaultTTL}, {j.MinTTL, &bh.MinTTL}, {j.MaxTTL, &bh.MaxTTL}, {j.NegativeTTL, &bh.NegativeTTL}} {
			if d.text == "" {
				continue
			}
			v, err := time.ParseDuration(d.text)
			if err != nil {
				return fmt.Errorf("behavior %d (%s): %w", i, j.Pattern, err)
			}
			*d.dst = v
		}
		if j.QueryKeys != nil {
			bh.QueryKeys = append([]string{}, (*j.QueryKeys)...)
		}
		out = append(out, bh)
	}
	*b.dst = out
	return nil
}
