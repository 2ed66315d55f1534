package origin

import (
	"errors"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/transcode"
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
	// MaxUploadBytes refuses larger uploads with 413. It defaults to 50 GiB.
	MaxUploadBytes int64
	// Workers is how many videos are packaged at once. It defaults to 2.
	Workers int
	// SegmentTarget is the HLS segment duration aimed for. It defaults to 6 s.
	SegmentTarget time.Duration
	// Ladder is the ABR ladder: renditions encoded below the source (never
	// above its size or bitrate). It defaults to transcode.DefaultLadder
	// (1080p, 720p, 480p, 360p).
	Ladder []transcode.Rung
	// WorkDir holds transcoder scratch files. It defaults to os.TempDir().
	WorkDir string
	// FFmpeg and FFprobe are the executables. They default to "ffmpeg" and
	// "ffprobe" looked up in PATH.
	FFmpeg, FFprobe string
	// TranscodeTimeout bounds one ffmpeg run. It defaults to 6 h.
	TranscodeTimeout time.Duration
	// LeaseTTL is how long a job or upload lease lives without a heartbeat
	// before another origin process takes the job over. It defaults to 90 s.
	LeaseTTL time.Duration
	// IndexCacheBytes bounds the sample indexes kept in memory. It defaults
	// to 256 MiB.
	IndexCacheBytes int64
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = ":8090"
	}
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = 50 << 30
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.SegmentTarget == 0 {
		c.SegmentTarget = 6 * time.Second
	}
	if c.Ladder == nil {
		c.Ladder = transcode.DefaultLadder
	}
	if c.WorkDir == "" {
		c.WorkDir = os.TempDir()
	}
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.FFprobe == "" {
		c.FFprobe = "ffprobe"
	}
	if c.TranscodeTimeout == 0 {
		c.TranscodeTimeout = 6 * time.Hour
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 90 * time.Second
	}
	if c.IndexCacheBytes == 0 {
		c.IndexCacheBytes = 256 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
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
	if c.S3.Bucket == "" {
		errs = append(errs, errors.New("origin: S3.Bucket is required"))
	}
	return errors.Join(errs...)
}
