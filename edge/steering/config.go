package steering

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Edge is one edge the router may send viewers to.
type Edge struct {
	// Name identifies the edge; it is the HLS Pathway ID of the edge's
	// copies of each stream, so it may hold only letters, digits, '.', '-'
	// and '_' (the Content Steering specification's rule for Pathway IDs),
	// at most 64 of them. Use the edge's own Config.Name (what it sends in X-Edge).
	Name string
	// URL is the edge's base URL as viewers reach it, e.g.
	// "https://edge-1.cdn.example.com" or "http://localhost:8081": the
	// steered master's URIs and the redirects point there, and players
	// time {URL}/healthz. Required.
	URL string
	// InternalURL is the base URL the router itself uses to reach the
	// edge: health checks and latency probes ({InternalURL}/healthz) and
	// master playlist fetches. Set it when the router reaches edges by
	// another address than viewers do (containers, a private network),
	// e.g. "http://edge-1:8081". It defaults to URL.
	InternalURL string
}

// internal is the base URL the router uses to reach e.
func (e Edge) internal() string {
	if e.InternalURL != "" {
		return e.InternalURL
	}
	return e.URL
}

// Config configures a Router. Zero values take the documented defaults.
type Config struct {
	// Addr is the listen address used by Run. It defaults to ":8083".
	Addr string
	// Edges are the edges viewers are routed to, in the order used to break
	// ties. At least one is required; names and URLs must be unique.
	Edges []Edge

	// HealthCheckInterval is the time between two health checks of an edge
	// (GET {URL}/healthz; any 2xx within HealthCheckTimeout passes). It
	// defaults to 2s.
	HealthCheckInterval time.Duration
	// HealthCheckTimeout bounds one health check or latency probe. It
	// defaults to 1s.
	HealthCheckTimeout time.Duration
	// FailAfter is how many consecutive failed health checks mark an edge
	// down. It defaults to 3.
	FailAfter int
	// RecoverAfter is how many consecutive passed health checks mark a down
	// edge up again. It defaults to 2.
	RecoverAfter int
	// LatencyProbeInterval is the time between two latency probes of an
	// edge. Every health check is also a latency sample; the probes add
	// samples between them, so the average follows the network closely
	// without making health flap. It defaults to 1s; a negative value turns
	// the extra probes off (health checks still sample).
	LatencyProbeInterval time.Duration
	// RTTWeight is the weight of a new round-trip sample in the
	// exponentially weighted moving average of each edge's round-trip time
	// (0 < w ≤ 1; 1 keeps only the last sample). It defaults to 0.3.
	RTTWeight float64

	// SteeringTTL is the TTL of steering manifests: how long a player keeps
	// one before asking again, so how soon it follows a change (an edge
	// going down). Whole seconds; it defaults to 30s and is at least 1s.
	SteeringTTL time.Duration
	// SwitchMargin keeps a player on the pathway it is using (the
	// _HLS_pathway it reports) unless another edge is faster by more than
	// this, so that two edges of nearly equal latency do not swap on every
	// steering reload (each swap reloads playlists and flushes audio). It
	// defaults to 10ms; a negative value turns stickiness off.
	SwitchMargin time.Duration

	// MasterCacheTTL is the longest a master playlist fetched from an edge
	// is kept in memory. A shorter max-age (or s-maxage) from the edge wins;
	// no-store, no-cache, private or no freshness information at all means
	// not kept. It defaults to 5s.
	MasterCacheTTL time.Duration
	// MasterCacheEntries bounds how many master playlists are kept. This
	// bounds memory together with MaxMasterBytes. It defaults to 1024.
	MasterCacheEntries int
	// MaxMasterBytes is the largest master playlist accepted from an edge.
	// This prevents RAM exhaustion by a broken upstream. It defaults to
	// 1 MiB.
	MaxMasterBytes int64
	// EdgeConnectTimeout bounds dialing an edge (probes and master
	// fetches). It defaults to 2s.
	EdgeConnectTimeout time.Duration
	// EdgeFetchTimeout bounds fetching a master playlist from one edge,
	// headers and body. It defaults to 5s.
	EdgeFetchTimeout time.Duration

	// CORSOrigin is the Access-Control-Allow-Origin value, so players on
	// other origins can read masters and steering manifests. It defaults
	// to "*".
	CORSOrigin string

	// ReadHeaderTimeout bounds reading request headers. It defaults to 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request. It defaults to 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response (the router's answers are
	// small). It defaults to 30s.
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive idle time. It defaults to 120s.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful drain in Run and Serve. It
	// defaults to 10s.
	ShutdownTimeout time.Duration

	// Logger receives operational logs (edges going down and up, failed
	// master fetches). It defaults to slog.Default().
	Logger *slog.Logger
}

// Defaults, named so documentation and code agree.
const (
	defaultAddr                 = ":8083"
	defaultHealthCheckInterval  = 2 * time.Second
	defaultHealthCheckTimeout   = time.Second
	defaultFailAfter            = 3
	defaultRecoverAfter         = 2
	defaultLatencyProbeInterval = time.Second
	defaultRTTWeight            = 0.3
	defaultSteeringTTL          = 30 * time.Second
	defaultSwitchMargin         = 10 * time.Millisecond
	defaultMasterCacheTTL       = 5 * time.Second
	defaultMasterCacheEntries   = 1024
	defaultMaxMasterBytes       = 1 << 20
	defaultEdgeConnectTimeout   = 2 * time.Second
	defaultEdgeFetchTimeout     = 5 * time.Second
	defaultCORSOrigin           = "*"
	defaultReadHeaderTimeout    = 10 * time.Second
	defaultReadTimeout          = 30 * time.Second
	defaultWriteTimeout         = 30 * time.Second
	defaultIdleTimeout          = 120 * time.Second
	defaultShutdownTimeout      = 10 * time.Second
)

// withDefaults returns cfg with zero fields filled, after checking it.
// Every problem is reported at once, so an operator fixes them in one go.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if len(cfg.Edges) == 0 {
		errs = append(errs, errors.New("Edges: at least one edge is required"))
	}
	names, urls := map[string]bool{}, map[string]bool{}
	edges := make([]Edge, 0, len(cfg.Edges))
	for i, e := range cfg.Edges {
		if !validPathwayID(e.Name) {
			errs = append(errs, fmt.Errorf("Edges[%d]: name %q must be non-empty and hold only letters, digits, '.', '-' and '_' (it is an HLS Pathway ID)", i, e.Name))
		} else if names[e.Name] {
			errs = append(errs, fmt.Errorf("Edges[%d]: name %q is used twice", i, e.Name))
		}
		names[e.Name] = true
		base, err := checkBaseURL(e.URL)
		if err != nil {
			errs = append(errs, fmt.Errorf("Edges[%d] (%s): URL %w", i, e.Name, err))
		} else if urls[base] {
			errs = append(errs, fmt.Errorf("Edges[%d] (%s): URL %q is used twice", i, e.Name, e.URL))
		}
		urls[base] = true
		internal := ""
		if e.InternalURL != "" {
			if internal, err = checkBaseURL(e.InternalURL); err != nil {
				errs = append(errs, fmt.Errorf("Edges[%d] (%s): InternalURL %w", i, e.Name, err))
			}
		}
		edges = append(edges, Edge{Name: e.Name, URL: base, InternalURL: internal})
	}
	cfg.Edges = edges
	if cfg.RTTWeight < 0 || cfg.RTTWeight > 1 {
		errs = append(errs, fmt.Errorf("RTTWeight %v must be between 0 and 1", cfg.RTTWeight))
	}
	for name, v := range map[string]int{"FailAfter": cfg.FailAfter, "RecoverAfter": cfg.RecoverAfter, "MasterCacheEntries": cfg.MasterCacheEntries} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s %d must not be negative", name, v))
		}
	}
	for name, d := range map[string]time.Duration{
		"HealthCheckInterval": cfg.HealthCheckInterval, "HealthCheckTimeout": cfg.HealthCheckTimeout,
		"SteeringTTL": cfg.SteeringTTL, "MasterCacheTTL": cfg.MasterCacheTTL,
		"EdgeConnectTimeout": cfg.EdgeConnectTimeout, "EdgeFetchTimeout": cfg.EdgeFetchTimeout,
		"ReadHeaderTimeout": cfg.ReadHeaderTimeout, "ReadTimeout": cfg.ReadTimeout,
		"WriteTimeout": cfg.WriteTimeout, "IdleTimeout": cfg.IdleTimeout, "ShutdownTimeout": cfg.ShutdownTimeout,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %v must not be negative", name, d))
		}
	}
	if cfg.MaxMasterBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxMasterBytes %d must not be negative", cfg.MaxMasterBytes))
	}
	if strings.ContainsAny(cfg.CORSOrigin, "\r\n") {
		errs = append(errs, errors.New("CORSOrigin must be one line"))
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("router config: %w", err)
	}

	setDefault(&cfg.Addr, defaultAddr)
	setDefault(&cfg.HealthCheckInterval, defaultHealthCheckInterval)
	setDefault(&cfg.HealthCheckTimeout, defaultHealthCheckTimeout)
	setDefault(&cfg.FailAfter, defaultFailAfter)
	setDefault(&cfg.RecoverAfter, defaultRecoverAfter)
	setDefault(&cfg.LatencyProbeInterval, defaultLatencyProbeInterval)
	setDefault(&cfg.RTTWeight, defaultRTTWeight)
	setDefault(&cfg.SteeringTTL, defaultSteeringTTL)
	cfg.SteeringTTL = max(time.Second, cfg.SteeringTTL.Round(time.Second))
	setDefault(&cfg.SwitchMargin, defaultSwitchMargin)
	setDefault(&cfg.MasterCacheTTL, defaultMasterCacheTTL)
	setDefault(&cfg.MasterCacheEntries, defaultMasterCacheEntries)
	setDefault(&cfg.MaxMasterBytes, defaultMaxMasterBytes)
	setDefault(&cfg.EdgeConnectTimeout, defaultEdgeConnectTimeout)
	setDefault(&cfg.EdgeFetchTimeout, defaultEdgeFetchTimeout)
	setDefault(&cfg.CORSOrigin, defaultCORSOrigin)
	setDefault(&cfg.ReadHeaderTimeout, defaultReadHeaderTimeout)
	setDefault(&cfg.ReadTimeout, defaultReadTimeout)
	setDefault(&cfg.WriteTimeout, defaultWriteTimeout)
	setDefault(&cfg.IdleTimeout, defaultIdleTimeout)
	setDefault(&cfg.ShutdownTimeout, defaultShutdownTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// checkBaseURL returns raw without trailing slashes when it is an absolute
// http(s) base URL that can go into playlists and headers as it is.
func checkBaseURL(raw string) (string, error) {
	base := strings.TrimRight(raw, "/")
	u, err := url.Parse(base)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", fmt.Errorf("%q must be an absolute http(s) URL", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(base, "?"):
		return "", fmt.Errorf("%q must be a base URL without query, fragment or credentials", raw)
	case strings.ContainsAny(base, "\"\r\n \t"):
		return "", fmt.Errorf("%q holds a quote, space or line break", raw)
	}
	return base, nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// validPathwayID reports whether s is a legal Pathway ID: one or more of
// [a-zA-Z0-9._-] (HLS Content Steering specification).
func validPathwayID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Check says what is wrong with cfg, as New would, without probing
// anything (`streamfront config check`).
func (cfg Config) Check() error {
	_, err := cfg.withDefaults()
	return err
}
