package edge

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/urlsign"
	"github.com/streamfront/streamfront/internal/usage"
)

// Config configures an Edge. Zero values take the documented defaults.
type Config struct {
	// Name identifies this edge in X-Edge, X-Cache ("Hit from <Name>") and
	// Via. Required.
	Name string
	// Addr is the listen address used by Run. It defaults to ":8081".
	Addr string
	// Origin is the upstream base URL, e.g. "http://127.0.0.1:8090".
	// Required without Distributions (it is then the one origin of the
	// one distribution); must be empty with them.
	Origin string
	// Distributions are the sites this edge serves, each with its origins
	// (HTTP servers or S3 buckets) and behaviours, chosen by the request's
	// Host; a request whose host none lists gets the one without Hosts (or
	// the first). It defaults to none: one distribution of Origin,
	// Behaviors and DisableCacheAll, which must then be the only ones set.
	// Fills through shields send the distribution's first host as Host,
	// so a shield with the same distributions fills for the same one.
	Distributions []Distribution

	// Shields are base URLs of shield edges (a mid tier). Each object's
	// shield is chosen by rendezvous hashing of its key, so every edge with
	// the same list asks the same shield; fills then pull from that shield
	// and fall back to Origin when it is down. It defaults to none: fills
	// go straight to Origin. A shield's own config must not list shields
	// that lead back to it.
	Shields []string

	// CacheDir is the disk tier directory. Empty means memory tier only.
	CacheDir string
	// MemoryBytes is the memory tier byte budget. It defaults to 256 MiB.
	MemoryBytes int64
	// DiskBytes is the disk tier byte budget. It defaults to 10 GiB.
	DiskBytes int64
	// SliceSize is the size of the aligned slices large objects are
	// fetched and cached in. It defaults to 2 MiB.
	SliceSize int64
	// SlicedPaths are glob patterns of paths cached as slices; "*" matches
	// within one path segment and "**" across segments. It defaults to
	// ["/videos/**.mp4"]: every MP4 under /videos/.
	SlicedPaths []string
	// MaxObjectBytes is the largest non-sliced object that is cached; a
	// bigger one is passed through. This bounds the memory one fill holds.
	// It defaults to 64 MiB.
	MaxObjectBytes int64

	// OriginConnectTimeout bounds dialing the origin, so that with the
	// origin down an uncached request fails fast. It defaults to 2s.
	OriginConnectTimeout time.Duration
	// OriginFirstByteTimeout bounds the wait for the origin's response
	// headers. It defaults to 10s.
	OriginFirstByteTimeout time.Duration
	// OriginReadTimeout bounds the wait for each further piece of an origin
	// body, so a stalled origin does not hold a fill forever. It defaults
	// to 15s.
	OriginReadTimeout time.Duration
	// BlockingReloadTimeout replaces OriginFirstByteTimeout for blocking
	// playlist reloads of live HLS (?_HLS_msn=…), which the origin holds
	// until the part they ask for exists: up to three target durations by
	// the LL-HLS spec, more while an encoder reconnects. It stays below
	// WriteTimeout, so the viewers held with the fill still get the answer.
	// It defaults to 20s, or two thirds of a WriteTimeout below 30s.
	BlockingReloadTimeout time.Duration

	// DefaultTTL is the freshness lifetime of a cacheable response that
	// carries no max-age, s-maxage or Expires. It defaults to 24h.
	DefaultTTL time.Duration
	// MinTTL is a floor on origin-given freshness lifetimes. It defaults
	// to 0.
	MinTTL time.Duration
	// MaxTTL is a ceiling on freshness lifetimes. It defaults to 365 days.
	MaxTTL time.Duration
	// NegativeTTL is the lifetime of cached 404 and 410 answers, and a
	// ceiling on what the origin asks for them. It defaults to 2s.
	NegativeTTL time.Duration
	// StaleWhileRevalidate is how long after expiry an entry may be served
	// while it is revalidated in the background, when the origin's
	// Cache-Control names none. It defaults to 0 (revalidate first).
	StaleWhileRevalidate time.Duration
	// StaleIfError is how long after expiry an entry may be served when the
	// origin fails, when the origin's Cache-Control names none. It
	// defaults to 24h. Negative disables it.
	StaleIfError time.Duration

	// Now is the clock that freshness, Age, stale serving and the
	// origin-down window are read from. It defaults to time.Now. Tests set
	// it to let a TTL pass without sleeping; connection deadlines, the
	// Date header and the access log always use the real clock.
	Now func() time.Time

	// CORSOrigin is the Access-Control-Allow-Origin value. It defaults to
	// "*".
	CORSOrigin string
	// AdminToken protects the invalidation API (Authorization: Bearer).
	// Empty disables that API.
	AdminToken string

	// SigningKeys verify the tokens of signed URLs and cookies (key ID →
	// secret, each secret at least 16 bytes), as made by the origin with
	// its SigningKeyID and SigningKey. Holding several keys allows
	// rotation: add the new key to every edge, switch the origin to it,
	// drop the old one once its tokens have expired. It defaults to none:
	// signed access is disabled, and objects the origin marks private are
	// refused with a 403 that says this edge is not configured for
	// private videos.
	SigningKeys map[string][]byte
	// OriginSecret is the secret shared with the origin (its EdgeSecret).
	// Every request this edge sends upstream — fills, pass-through, and
	// fills from a shield — carries an HMAC of its method and path at the
	// current time made with it (internal/urlsign), which the origin
	// checks before serving media. Requests from other edges that carry a
	// valid signature are served without a viewer token (this edge is
	// their shield; they enforce the token themselves). It defaults to
	// empty: requests go unsigned, which only an origin without an
	// EdgeSecret accepts.
	OriginSecret string

	// ReadHeaderTimeout bounds reading request headers. It defaults to 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request. It defaults to 60s.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of a response body: the deadline is
	// pushed forward before every write, so long downloads live as long as
	// the client reads. It defaults to 30s.
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive idle time. It defaults to 120s.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful drain in Run and Serve. It
	// defaults to 30s.
	ShutdownTimeout time.Duration

	// DisableFastPath turns off the fast path for memory hits (see
	// doc.go), so every connection is served by net/http, as for
	// comparison or if the fast path is ever suspected of a fault. It
	// defaults to false: the fast path is on. (A bool that defaults to on
	// would break the rule that a zero Config takes the defaults, hence the
	// negative name.)
	DisableFastPath bool

	// Behaviors override the caching policy, the TTL settings above and
	// the cache key for paths matching their patterns (first match wins).
	// None by default.
	Behaviors []Behavior
	// DisableCacheAll passes every path outside /videos/ that no Behavior
	// gives a policy through to the origin uncached, as the edge did
	// before distributions. It defaults to false: GET and HEAD of every
	// path are cached by RFC 9111 (PolicyRFC9111), /videos/ by the video
	// policy, so an edge in front of any website caches it as the
	// origin's headers say. (A bool that defaults to on would break the
	// rule that a zero Config takes the defaults, hence the negative name.)
	DisableCacheAll bool

	// TLSCertFile and TLSKeyFile, when both set, make Run serve HTTPS (with
	// HTTP/2 negotiated by ALPN) instead of plain HTTP. Plain HTTP also
	// speaks HTTP/2 to clients that start with its preface (h2c), as a load
	// balancer terminating TLS in front of the edge may. Empty by default.
	TLSCertFile, TLSKeyFile string

	// UsageSink, when set, meters what this edge delivers (issue "Pay as
	// you go"; see meter.go): every answer to a media path is counted per
	// video, hour, kind and cache result, with the bytes sent, the media
	// time delivered and the bytes fills fetched upstream, in a
	// usage.Meter the Edge owns. The Meter hands reports to UsageSink
	// every UsageInterval; Close flushes the last counts and waits for the
	// Sink to take them (at most ShutdownTimeout), then closes UsageSink
	// if it is an io.Closer. It defaults to nil: no metering.
	UsageSink usage.Sink
	// UsageInterval is how often counts leave memory for UsageSink: a
	// kill -9 loses at most the counts of this last interval. It defaults
	// to 10s.
	UsageInterval time.Duration

	// Invalidations, when set, is the durable feed of invalidations (see
	// invalidate_feed.go): the edge applies every one it missed while it
	// was down, and its disk tier answers nothing until it has caught up.
	// Nil trusts the disk tier at once (invalidations come only by HTTP).
	Invalidations InvalidationFeed

	// Logger receives operational logs. It defaults to slog.Default().
	Logger *slog.Logger
	// AccessLog, when set, receives one JSON line per request. It defaults
	// to nil (no access log).
	AccessLog io.Writer
}

// Defaults, named so documentation and code agree.
const (
	defaultAddr           = ":8081"
	defaultMemoryBytes    = 256 << 20
	defaultDiskBytes      = 10 << 30
	defaultSliceSize      = 2 << 20
	defaultMaxObjectBytes = 64 << 20
	defaultSlicedPath     = "/videos/**.mp4"
)

// withDefaults returns cfg with zero fields filled and checks it.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("Name is required"))
	}
	if strings.ContainsAny(cfg.Name, " ,\r\n") {
		errs = append(errs, fmt.Errorf("Name %q must be a single token (no spaces or commas)", cfg.Name))
	}
	switch {
	case len(cfg.Distributions) > 0:
		if cfg.Origin != "" || cfg.Behaviors != nil || cfg.DisableCacheAll {
			errs = append(errs, errors.New("with Distributions, Origin, Behaviors and DisableCacheAll belong to each distribution and must be empty"))
		}
	case cfg.Origin == "":
		errs = append(errs, errors.New("Origin is required"))
	default:
		if u, err := url.Parse(cfg.Origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("Origin %q must be an absolute http(s) URL", cfg.Origin))
		}
	}
	for _, sh := range cfg.Shields {
		if u, err := url.Parse(sh); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("Shields entry %q must be an absolute http(s) URL", sh))
		}
	}
	setDefault(&cfg.Addr, defaultAddr)
	setDefault(&cfg.MemoryBytes, defaultMemoryBytes)
	setDefault(&cfg.DiskBytes, defaultDiskBytes)
	setDefault(&cfg.SliceSize, defaultSliceSize)
	setDefault(&cfg.MaxObjectBytes, defaultMaxObjectBytes)
	if cfg.SlicedPaths == nil {
		cfg.SlicedPaths = []string{defaultSlicedPath}
	}
	setDefault(&cfg.OriginConnectTimeout, 2*time.Second)
	setDefault(&cfg.OriginFirstByteTimeout, 10*time.Second)
	setDefault(&cfg.OriginReadTimeout, 15*time.Second)
	setDefault(&cfg.DefaultTTL, 24*time.Hour)
	setDefault(&cfg.MaxTTL, 365*24*time.Hour)
	setDefault(&cfg.NegativeTTL, 2*time.Second)
	setDefault(&cfg.StaleIfError, 24*time.Hour)
	setDefault(&cfg.CORSOrigin, "*")
	setDefault(&cfg.ReadHeaderTimeout, 10*time.Second)
	setDefault(&cfg.ReadTimeout, 60*time.Second)
	setDefault(&cfg.WriteTimeout, 30*time.Second)
	// Below WriteTimeout, so a viewer held with the fill gets its answer.
	setDefault(&cfg.BlockingReloadTimeout, min(20*time.Second, cfg.WriteTimeout*2/3))
	setDefault(&cfg.IdleTimeout, 120*time.Second)
	setDefault(&cfg.ShutdownTimeout, 30*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	if cfg.MemoryBytes < 0 || cfg.DiskBytes < 0 {
		errs = append(errs, errors.New("MemoryBytes and DiskBytes must not be negative"))
	}
	if cfg.SliceSize < 64<<10 || cfg.SliceSize > 64<<20 {
		errs = append(errs, fmt.Errorf("SliceSize %d must be between 64 KiB and 64 MiB", cfg.SliceSize))
	}
	if cfg.MaxObjectBytes < 0 || cfg.MaxObjectBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("MaxObjectBytes %d must be between 0 and 1 GiB", cfg.MaxObjectBytes))
	}
	if cfg.MinTTL < 0 || cfg.MaxTTL < cfg.MinTTL || cfg.DefaultTTL < 0 || cfg.NegativeTTL < 0 || cfg.StaleWhileRevalidate < 0 {
		errs = append(errs, errors.New("TTLs must be non-negative and MinTTL <= MaxTTL"))
	}
	for id, secret := range cfg.SigningKeys {
		if err := urlsign.CheckKey(id, secret); err != nil {
			errs = append(errs, fmt.Errorf("SigningKeys: %w", err))
		}
	}
	if cfg.UsageSink != nil && !usage.ValidName(cfg.Name) {
		errs = append(errs, fmt.Errorf("Name %q must be 1-64 of [A-Za-z0-9._-] to meter usage", cfg.Name))
	}
	if cfg.BlockingReloadTimeout < 0 || cfg.BlockingReloadTimeout >= cfg.WriteTimeout {
		errs = append(errs, fmt.Errorf("BlockingReloadTimeout %v must be below WriteTimeout %v: viewers held with a live blocking reload would be cut before its answer", cfg.BlockingReloadTimeout, cfg.WriteTimeout))
	}
	if cfg.UsageInterval < 0 {
		errs = append(errs, errors.New("UsageInterval must not be negative"))
	}
	for _, p := range cfg.SlicedPaths {
		if !strings.HasPrefix(p, "/") {
			errs = append(errs, fmt.Errorf("SlicedPaths pattern %q must start with /", p))
		}
	}
	if len(errs) == 0 {
		if _, err := compileDistributions(cfg, cfg.ttlPolicy()); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("edge config: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// ttlPolicy is the TTL settings of cfg, which behaviours override.
func (cfg Config) ttlPolicy() ttlPolicy {
	return ttlPolicy{
		defaultTTL: cfg.DefaultTTL, minTTL: cfg.MinTTL, maxTTL: cfg.MaxTTL,
		negativeTTL: cfg.NegativeTTL, swr: cfg.StaleWhileRevalidate, sie: max(0, cfg.StaleIfError),
	}
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// compileGlob turns a SlicedPaths pattern into an anchored regexp: "**"
// matches any run of characters, "*" any run without "/".
func compileGlob(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case pattern[i] == '*':
			b.WriteString("[^/]*")
		case pattern[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Check says what is wrong with cfg, as New would, without opening
// anything (`streamfront config check`).
func (cfg Config) Check() error {
	_, err := cfg.withDefaults()
	return err
}
