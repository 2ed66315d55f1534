package origin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/urlsign"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/store"
)

// Config is everything an origin needs; New checks it before anything
// listens.
type Config struct {
	// Addr is the listen address for Run. It defaults to ":8090".
	Addr string
	// S3 says where everything is stored. Required.
	S3 store.Config
	// APIKey authorises writes (Authorization: Bearer <key>). Required.
	APIKey string
	// MediaURL is the viewers' entry for media (router or edge), the base of
	// every hls_url and mp4_url, e.g. "http://localhost:8081". Required.
	MediaURL string
	// WebURL is the site's base URL, for page_url, e.g.
	// "http://localhost:8080". Required.
	WebURL string
	// PeerURL is this origin process's own URL as the other origins reach
	// it (each process its own; edges may reach all of them through one
	// address). A live viewer's request that reaches an origin not hosting
	// the broadcast is forwarded to the host's PeerURL. It defaults to the
	// listen address when that names one (127.0.0.1:8090 →
	// http://127.0.0.1:8090); with neither, broadcasts hosted here are
	// seen only by requests that reach this process.
	PeerURL string
	// MaxUploadBytes refuses larger uploads with 413. It defaults to 50 GiB.
	MaxUploadBytes int64
	// ResumableExpiry is how long a resumable (tus) upload may take from
	// its creation; past it, it is removed. It defaults to 24 h.
	ResumableExpiry time.Duration
	// Queue is the job queue (NATS JetStream): uploads go on it to be made
	// playable by an origin, then to be encoded by a worker. Queue.URL is
	// required.
	Queue queue.Config
	// PackageSlots is how many uploads this origin makes playable at once
	// (probe, index, remux or stream copy; no encoding). It defaults to 4.
	PackageSlots int
	// SegmentTarget is the HLS segment duration aimed for. It defaults to 6 s.
	SegmentTarget time.Duration
	// WorkDir holds scratch files of stream copies. It defaults to os.TempDir().
	WorkDir string
	// FFmpeg and FFprobe are the executables. They default to "ffmpeg" and
	// "ffprobe" looked up in PATH.
	FFmpeg, FFprobe string
	// TranscodeTimeout bounds one ffmpeg run (a stream copy here). It
	// defaults to 6 h.
	TranscodeTimeout time.Duration
	// LeaseTTL is how long an upload's lease lives without a heartbeat
	// before another origin process marks the upload interrupted. It
	// defaults to 90 s.
	LeaseTTL time.Duration
	// IndexCacheBytes bounds the sample indexes kept in memory. It defaults
	// to 256 MiB.
	IndexCacheBytes int64

	// EdgeSecret is the secret shared with the edges (their OriginSecret).
	// With it set, requests for media (/videos/...) must carry an edge
	// request signature made with it (X-Streamfront-Edge-Auth, see
	// internal/urlsign) or are refused with 403, so viewers cannot bypass
	// the CDN; the API stays open. It defaults to empty: media is served
	// to anyone, as before (set it in production).
	EdgeSecret string
	// SigningKeyID and SigningKey sign the media URLs of private videos
	// (hls_url, mp4_url, thumbnail_url, storyboard_url get "?token="); the
	// edges must hold the same key under the same ID in their
	// SigningKeys. Set both or neither; the key must be at least 16
	// bytes. They default to none: private videos get unsigned URLs,
	// which edges refuse.
	SigningKeyID string
	SigningKey   []byte
	// SignedURLTTL is how long a signed URL works. It defaults to 6 h.
	SignedURLTTL time.Duration

	// Edges are the base URLs of the edges (e.g. "http://edge-1:8081"):
	// POST /api/v1/invalidations, DELETE of a video and a change of its
	// visibility invalidate their caches. It defaults to none: nothing is
	// invalidated, and edges keep a deleted video until its cache
	// lifetimes end.
	Edges []string
	// EdgeAdminToken is the edges' AdminToken, which their invalidation
	// API needs. Required when Edges is set.
	EdgeAdminToken string
	// InvalidationTimeout bounds how long an invalidation waits for each
	// edge (all edges are asked at once); an edge that has not answered by
	// then is retried in the background. It defaults to 1 s.
	InvalidationTimeout time.Duration
	// InvalidationRetryFor is how long an invalidation an edge missed is
	// retried in the background (with backoff up to 30 s) before it is
	// given up and logged as an error. It defaults to 10 min.
	InvalidationRetryFor time.Duration
	// Live, when set, turns on live streaming (RTMP ingest, live HLS,
	// recordings). It defaults to nil: no live streams.
	Live *LiveConfig
	// Prices price the usage of GET /api/v1/usage's estimate. It defaults
	// to usage.DefaultPrices (CloudFront-like and Cloudflare-Stream-like).
	Prices usage.Prices
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = ":8090"
	}
	if c.ResumableExpiry == 0 {
		c.ResumableExpiry = 24 * time.Hour
	}
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = 50 << 30
	}
	if c.PackageSlots == 0 {
		c.PackageSlots = 4
	}
	// SegmentTarget, WorkDir, FFmpeg, FFprobe, TranscodeTimeout and
	// IndexCacheBytes default where the worker's do: media.setDefaults.
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 90 * time.Second
	}
	if c.SignedURLTTL == 0 {
		c.SignedURLTTL = 6 * time.Hour
	}
	if c.InvalidationTimeout == 0 {
		c.InvalidationTimeout = time.Second
	}
	if c.InvalidationRetryFor == 0 {
		c.InvalidationRetryFor = 10 * time.Minute
	}
	if c.Prices.Transfer == nil {
		c.Prices = usage.DefaultPrices()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Live != nil {
		c.Live.setDefaults()
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.APIKey == "" {
		errs = append(errs, errors.New("origin: APIKey is required (set STREAMFRONT_API_KEY)"))
	}
	for name, u := range map[string]string{"MediaURL": c.MediaURL, "WebURL": c.WebURL} {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			errs = append(errs, errors.New("origin: "+name+" must be an absolute URL, got "+u))
		}
	}
	if p, err := url.Parse(c.PeerURL); c.PeerURL != "" && (err != nil || p.Scheme == "" || p.Host == "" || p.Path != "") {
		errs = append(errs, errors.New("origin: PeerURL must be an absolute URL without a path, e.g. http://origin-2:8090, got "+c.PeerURL))
	}
	if c.Queue.URL == "" {
		errs = append(errs, errors.New("origin: Queue.URL is required (the NATS server, set STREAMFRONT_NATS_URL)"))
	}
	if c.S3.Bucket == "" {
		errs = append(errs, errors.New("origin: S3.Bucket is required"))
	}
	if c.SigningKeyID != "" || len(c.SigningKey) > 0 {
		if err := urlsign.CheckKey(c.SigningKeyID, c.SigningKey); err != nil {
			errs = append(errs, fmt.Errorf("origin: signing key (set STREAMFRONT_SIGNING_KEY_ID and STREAMFRONT_SIGNING_KEY together): %w", err))
		}
	}
	if c.SignedURLTTL < time.Minute {
		errs = append(errs, fmt.Errorf("origin: SignedURLTTL %s is shorter than a minute", c.SignedURLTTL))
	}
	for _, e := range c.Edges {
		if p, err := url.Parse(e); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("origin: Edges entry %q must be an absolute http(s) URL", e))
		}
	}
	if len(c.Edges) > 0 && c.EdgeAdminToken == "" {
		errs = append(errs, errors.New("origin: EdgeAdminToken is required with Edges (set STREAMFRONT_EDGE_ADMIN_TOKEN to the edges' admin token)"))
	}
	if c.Live != nil {
		if err := c.Live.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Check says what is wrong with c, as New would, without connecting to
// anything (`streamfront config check`).
func (c Config) Check() error {
	c.setDefaults()
	return c.validate()
}
