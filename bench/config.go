package bench

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Step names, in the order Run performs them.
const (
	StepPackaging   = "packaging"
	StepLadder      = "ladder"
	StepPackageMem  = "packagemem"
	StepEdgeHits    = "edgehits"
	StepSlowViewers = "slowviewers"
	StepHitRatio    = "hitratio"
	StepUploadMem   = "uploadmem"
	StepPipeline    = "pipeline"
	StepLive        = "live"
	StepSiteHits    = "sitehits"
)

// AllSteps lists every step in run order.
var AllSteps = []string{StepPackaging, StepLadder, StepPackageMem, StepEdgeHits, StepSiteHits, StepSlowViewers, StepHitRatio, StepUploadMem, StepPipeline, StepLive}

// Config says what to measure and for how long. Zero values take the
// documented defaults; Quick gives a short smoke run.
type Config struct {
	// RepoDir is the repository root; relative paths below are resolved
	// against it. It defaults to the working directory.
	RepoDir string
	// Streamfront is the streamfront binary run as origin and edge. It
	// defaults to "bin/streamfront" (what `make build` writes).
	Streamfront string
	// OutDir receives results.md and fixtures/. It defaults to "bench/out".
	OutDir string
	// Steps selects what runs. It defaults to AllSteps.
	Steps []string

	// FixtureSeconds is the length of the 1080p H.264 + AAC fixture. It
	// defaults to 300 (5 minutes).
	FixtureSeconds int
	// VideoKbps is the fixture's video bit rate: 1400 kbit/s makes a 6 s
	// segment about 1 MiB. It defaults to 1400.
	VideoKbps int
	// ClipSeconds is the length of the short clip cut from the fixture
	// whose media playlist is the small object of the hit benchmark (~600
	// bytes). It defaults to 72, or half of FixtureSeconds when shorter.
	ClipSeconds int

	// WrkDuration is the length of each wrk run. It defaults to 10s.
	WrkDuration time.Duration
	// WrkConnections lists the connection counts of the hit benchmark. It
	// defaults to [64, 256].
	WrkConnections []int
	// WrkThreads is wrk's -t. It defaults to one per CPU wrk is pinned to
	// (2 unpinned): more threads than CPUs only time-slice, and the wait
	// for a slice (a few ms) lands in the measured p99, more so for the
	// faster server.
	WrkThreads int
	// Rounds is how many times each wrk run is repeated, the servers'
	// order rotated each round; the best round is reported, with every
	// round's rate beside it. On a shared machine a neighbour's burst then
	// costs one round, not the comparison. It defaults to 2.
	Rounds int
	// ExtraRuns bounds the re-runs of hit cells whose every run was
	// disturbed by other processes on the machine. It defaults to 12;
	// negative disables re-runs.
	ExtraRuns int
	// Pin runs the servers under test on ServerCPUs and wrk on ClientCPUs
	// (taskset), so the load generator does not steal the servers' core.
	Pin bool
	// ServerCPUs and ClientCPUs are taskset CPU lists. They default to "0"
	// and "1".
	ServerCPUs, ClientCPUs string
	// Nice is the nice value of the servers under load and of wrk. On a
	// shared machine a negative value keeps other work from starving
	// them — and starving them unequally: the scheduler shares a busy core
	// per thread, so Varnish's hundreds of threads would win CPU that
	// nginx's one worker loses. 0 leaves the priority alone (what Config's
	// zero value does); benchtable passes -10.
	Nice int

	// EdgeMemoryBytes is the memory tier of the edge under test. It
	// defaults to 256 MiB, the edge's own default.
	EdgeMemoryBytes int64

	// BigSourceBytes is about the size of the source the package-memory
	// step uploads, made by joining copies of the fixture. It defaults to
	// 2 GB (2,000,000,000 bytes: 35 copies of the 5-minute fixture).
	BigSourceBytes int64

	// UploadBytes is the size of the body streamed to the origin by the
	// upload-memory step. It defaults to 2 GiB.
	UploadBytes int64

	// Viewers, ViewerRate and ViewerDuration shape the slow-viewer step:
	// that many concurrent clients each read one ~1 MiB segment at
	// ViewerRate bytes/s for ViewerDuration. They default to 1000,
	// 100 kB/s and 5s.
	Viewers        int
	ViewerRate     int
	ViewerDuration time.Duration

	// HitRatioBudget is the edge memory budget of the hit-ratio step; the
	// catalog is ten times bigger. It defaults to 32 MiB.
	HitRatioBudget int64
	// HitRatioObjectBytes is the size of each object of that catalog. It
	// defaults to 32 KiB.
	HitRatioObjectBytes int
	// HitRatioRequests is the length of the Zipf request stream. It
	// defaults to 60000.
	HitRatioRequests int
	// ZipfS is the Zipf exponent. It defaults to 0.9.
	ZipfS float64

	// KeepTemp leaves the temporary directory (server logs, configs, S3
	// data) in place for inspection.
	KeepTemp bool
}

// Quick returns a configuration for a smoke run of about two minutes: the
// same steps, shorter and smaller.
func Quick() Config {
	return Config{
		FixtureSeconds:   60,
		ClipSeconds:      30,
		WrkDuration:      3 * time.Second,
		WrkConnections:   []int{64},
		Rounds:           1,
		ExtraRuns:        3,
		UploadBytes:      512 << 20,
		BigSourceBytes:   512 << 20,
		Viewers:          300,
		ViewerDuration:   3 * time.Second,
		HitRatioRequests: 20000,
		HitRatioBudget:   8 << 20,
	}
}

func (c *Config) setDefaults() {
	setDefault(&c.RepoDir, ".")
	setDefault(&c.Streamfront, "bin/streamfront")
	setDefault(&c.OutDir, "bench/out")
	if len(c.Steps) == 0 {
		c.Steps = AllSteps
	}
	setDefault(&c.FixtureSeconds, 300)
	setDefault(&c.VideoKbps, 1400)
	setDefault(&c.ClipSeconds, min(72, c.FixtureSeconds/2))
	setDefault(&c.WrkDuration, 10*time.Second)
	if len(c.WrkConnections) == 0 {
		c.WrkConnections = []int{64, 256}
	}
	if c.Pin {
		setDefault(&c.WrkThreads, max(1, len(parseCPUList(c.ClientCPUs))))
	}
	setDefault(&c.WrkThreads, 2)
	setDefault(&c.Rounds, 2)
	setDefault(&c.ExtraRuns, 12)
	setDefault(&c.ServerCPUs, "0")
	setDefault(&c.ClientCPUs, "1")
	setDefault(&c.EdgeMemoryBytes, 256<<20)
	setDefault(&c.UploadBytes, 2<<30)
	setDefault(&c.BigSourceBytes, 2_000_000_000)
	setDefault(&c.Viewers, 1000)
	setDefault(&c.ViewerRate, 100_000)
	setDefault(&c.ViewerDuration, 5*time.Second)
	setDefault(&c.HitRatioBudget, 32<<20)
	setDefault(&c.HitRatioObjectBytes, 32<<10)
	setDefault(&c.HitRatioRequests, 60000)
	setDefault(&c.ZipfS, 0.9)
}

func (c *Config) validate() error {
	var errs []error
	for _, s := range c.Steps {
		if !slices.Contains(AllSteps, s) {
			errs = append(errs, fmt.Errorf("unknown step %q (steps: %s)", s, strings.Join(AllSteps, ", ")))
		}
	}
	if c.ClipSeconds >= c.FixtureSeconds {
		errs = append(errs, fmt.Errorf("ClipSeconds %d must be shorter than FixtureSeconds %d", c.ClipSeconds, c.FixtureSeconds))
	}
	if c.WrkDuration < time.Second || c.WrkDuration > 60*time.Second {
		errs = append(errs, fmt.Errorf("WrkDuration %s must be between 1s and 60s", c.WrkDuration))
	}
	for _, n := range c.WrkConnections {
		if n < c.WrkThreads || n > 4096 {
			errs = append(errs, fmt.Errorf("wrk connections %d must be between %d (threads) and 4096", n, c.WrkThreads))
		}
	}
	if c.Rounds < 1 || c.Rounds > 5 {
		errs = append(errs, fmt.Errorf("Rounds %d must be between 1 and 5", c.Rounds))
	}
	if c.Nice < -20 || c.Nice > 19 {
		errs = append(errs, fmt.Errorf("Nice %d must be between -20 and 19", c.Nice))
	}
	if c.BigSourceBytes < 1<<20 || c.BigSourceBytes > 64<<30 {
		errs = append(errs, fmt.Errorf("BigSourceBytes %d must be between 1 MiB and 64 GiB", c.BigSourceBytes))
	}
	if c.Viewers < 1 || c.Viewers > 5000 {
		errs = append(errs, fmt.Errorf("Viewers %d must be between 1 and 5000", c.Viewers))
	}
	if c.ViewerDuration > 60*time.Second {
		errs = append(errs, fmt.Errorf("ViewerDuration %s must be at most 60s", c.ViewerDuration))
	}
	if c.HitRatioObjectBytes < 1 || int64(c.HitRatioObjectBytes)*4 > c.HitRatioBudget {
		errs = append(errs, errors.New("HitRatioObjectBytes must be positive and at most a quarter of HitRatioBudget"))
	}
	if c.ZipfS <= 0 {
		errs = append(errs, errors.New("ZipfS must be positive"))
	}
	return errors.Join(errs...)
}

func (c *Config) runs(step string) bool { return slices.Contains(c.Steps, step) }

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
