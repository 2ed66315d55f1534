package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/s3server"
)

// Run measures what cfg selects and writes the report to w and to
// OutDir/results.md. Progress goes to logw. A step that fails is reported
// as failed in its section and the others still run; Run then returns an
// error naming the failed steps.
func Run(ctx context.Context, cfg Config, w, logw io.Writer) error {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("bench config: %w", err)
	}
	start, loadAtStart := time.Now(), loadSummary()
	e, err := newEnv(ctx, cfg, logw)
	if err != nil {
		return err
	}
	defer e.close()

	m := describeMachine(ctx, cfg.RepoDir)
	var sections []*section
	steps := []struct {
		name string
		run  func(context.Context) *section
	}{
		{StepPackaging, e.measurePackaging},
		{StepLadder, e.measureLadder},
		{StepPackageMem, e.measurePackageMemory},
		{StepEdgeHits, e.measureEdgeHits},
		{StepSiteHits, e.measureSiteHits},
		{StepSlowViewers, e.measureSlowViewers},
		{StepHitRatio, e.measureHitRatio},
		{StepUploadMem, e.measureUploadMemory},
		{StepPipeline, e.measurePipeline},
		{StepLive, e.measureLive},
	}
	var failed []string
	for _, st := range steps {
		if !cfg.runs(st.name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		e.logf("== %s", st.name)
		stepStart, load := time.Now(), loadSummary()
		s := st.run(ctx)
		s.note("Step time: %s; machine at its start: %s.", fmtDuration(time.Since(stepStart).Round(100*time.Millisecond)), load)
		if s.err != nil {
			failed = append(failed, st.name)
			e.logf("%s failed: %v", st.name, s.err)
		}
		sections = append(sections, s)
		if st.name == StepSlowViewers || st.name == StepEdgeHits && !cfg.runs(StepSlowViewers) {
			e.stopCaches() // the later steps want a quiet machine
		}
	}

	m.Load = []string{"at start: " + loadAtStart, "at end: " + loadSummary()}
	report := renderReport(cfg, m, e, sections, time.Since(start))
	if _, err := io.WriteString(w, report); err != nil {
		return err
	}
	outPath := filepath.Join(e.out, "results.md")
	if err := os.WriteFile(outPath, []byte(report), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", outPath, err)
	}
	e.logf("report written to %s", outPath)
	if ctx.Err() != nil {
		return fmt.Errorf("bench interrupted: %w", ctx.Err())
	}
	if len(failed) > 0 {
		return fmt.Errorf("steps failed: %s (see their sections)", strings.Join(failed, ", "))
	}
	return nil
}

func renderReport(cfg Config, m machine, e *env, sections []*section, took time.Duration) string {
	var b strings.Builder
	b.WriteString("# Streamfront benchmarks\n\n")
	fmt.Fprintf(&b, "Run %s, took %s, commit %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), fmtDuration(took.Round(time.Second)), m.Commit)
	mt := newTable("machine", "")
	mt.add("CPUs (nproc)", fmt.Sprintf("%d × %s", m.CPUs, m.CPUModel))
	mt.add("memory", fmtBytes(m.MemBytes))
	mt.add("kernel", m.Kernel)
	mt.add("TCP congestion control", m.Congestion)
	mt.add("TCP metrics cache", m.TCPMetrics)
	for _, v := range m.Versions {
		name, ver, _ := strings.Cut(v, ": ")
		mt.add(name, ver)
	}
	if cfg.Pin {
		mt.add("CPU placement", fmt.Sprintf("servers under load (our edge, nginx, Varnish) pinned to CPU %s, wrk to CPU %s (taskset); origin, S3 and this program unpinned (idle during the hit runs)", cfg.ServerCPUs, cfg.ClientCPUs))
	} else {
		mt.add("CPU placement", "nothing pinned: wrk and the servers share every core")
	}
	if cfg.Nice != 0 {
		mt.add("priority", fmt.Sprintf("servers under load and wrk run at nice %d, so other work on a shared machine disturbs them less (and alike)", cfg.Nice))
	}
	for _, l := range m.Load {
		mt.add("machine load", l)
	}
	if e.fx.Made > time.Second {
		mt.add("fixtures", fmt.Sprintf("made in this run in %s (reused next time)", fmtDuration(e.fx.Made.Round(100*time.Millisecond))))
	}
	b.WriteString(mt.markdown() + "\n")
	if m.CPUs <= 2 {
		b.WriteString(fmt.Sprintf("With %d CPUs the load generator and the servers compete for cores: see CPU placement; figures are for comparing the servers with each other on this machine, not absolute capacity.\n\n", m.CPUs))
	}
	for _, s := range sections {
		b.WriteString(s.markdown())
	}
	return b.String()
}

// env is what the steps share: the temporary directory, the fixtures, and
// the servers started on first use.
type env struct {
	cfg  Config
	dir  string // temporary: logs, configs, S3 data, caches
	bin  string // absolute path of the streamfront binary
	out  string
	logw io.Writer
	fx   fixtures

	s3     *s3server.Server
	origin *originProcess
	big    *uploaded // the FixtureSeconds video, packaged
	clip   *uploaded // the ClipSeconds clip, packaged
	caches *caches
	// segment is the big video's segment closest to 1 MiB, once chosen.
	segment *object
	// ladderMem is what the ladder step saw of memory, once it ran.
	ladderMem *ladderMemory
}

// uploaded is a video the bench has uploaded and seen ready.
type uploaded struct {
	video
	uploadTime   time.Duration // POST start → 201
	readyTime    time.Duration // 201 → status ready first seen
	completeTime time.Duration // 201 → ready with no stage (thumbnails stored)
}

// object is a path and the bytes the origin serves for it.
type object struct {
	path string
	body []byte
	// acceptEncoding, when set, is the Accept-Encoding header wrk and the
	// checks send (a browser's); the answer's body may then be encoded.
	acceptEncoding string
	// congestion, when set, is the machine's TCP congestion control while
	// this object's runs make their connections (congestion.go); the
	// machine's own otherwise.
	congestion string
	// rounds, when above the configured rounds, is how many rounds this
	// object's cells get: the cell a goal rests on when runs vary.
	rounds int
	// cpuShare, when set, caps every server at this share of one core
	// during this object's runs (cpucap.go).
	cpuShare float64
}

func newEnv(ctx context.Context, cfg Config, logw io.Writer) (*env, error) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(cfg.RepoDir, p)
	}
	e := &env{cfg: cfg, logw: logw, bin: abs(cfg.Streamfront), out: abs(cfg.OutDir)}
	if b, err := filepath.Abs(e.bin); err == nil {
		e.bin = b
	}
	if fi, err := os.Stat(e.bin); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("the streamfront binary %s is missing: run `make build` (or `make bench`, which builds it) first", e.bin)
	}
	if _, err := s3server.FindBinary(); err != nil {
		return nil, err
	}
	var err error
	if e.out, err = filepath.Abs(e.out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(e.out, 0o755); err != nil {
		return nil, fmt.Errorf("output dir: %w", err)
	}
	if e.dir, err = os.MkdirTemp("", "streamfront-bench-"); err != nil {
		return nil, err
	}
	// Directories made by root with 0700 would keep nginx workers and
	// varnishd out were they to drop privileges; keep them readable.
	_ = os.Chmod(e.dir, 0o755)
	// The live and site steps make their own sources; alone, they need no
	// fixtures.
	if slices.ContainsFunc(cfg.Steps, func(st string) bool { return st != StepLive && st != StepSiteHits }) {
		e.logf("fixtures in %s", filepath.Join(e.out, "fixtures"))
		if e.fx, err = ensureFixtures(ctx, filepath.Join(e.out, "fixtures"), cfg); err != nil {
			e.close()
			return nil, err
		}
	}
	e.logf("work dir %s; %d CPUs (GOMAXPROCS %d)", e.dir, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	return e, nil
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.logw, "bench: "+format+"\n", args...)
}

// ensureOrigin starts the S3 server and the shared origin. It runs
// without a ladder: its packaging is the remux and index path plus a
// keyframes-only thumbnails pass, so no ffmpeg encode runs in the
// background of the steps that use it (the hit benchmarks take the
// origin, S3 and this program to be idle).
func (e *env) ensureOrigin(ctx context.Context) error {
	if err := e.ensureS3(ctx); err != nil {
		return err
	}
	if e.origin != nil {
		return nil
	}
	noLadder, err := ladderConfig(e.dir, "origin", nil)
	if err != nil {
		return err
	}
	o, err := startOrigin(ctx, "origin", e.dir, e.bin, e.s3, "streamfront", noLadder)
	if err != nil {
		return fmt.Errorf("start the origin: %w", err)
	}
	e.origin = o
	return nil
}

func (e *env) ensureS3(ctx context.Context) error {
	if e.s3 != nil {
		return nil
	}
	s3, err := startS3(ctx, e.dir)
	if err != nil {
		return err
	}
	e.s3 = s3
	return nil
}

// upload sends a fixture to the shared origin and waits until it is
// complete (ready, and its thumbnails stored), timing each.
func (e *env) upload(ctx context.Context, path, title string) (*uploaded, error) {
	if err := e.ensureOrigin(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	v, err := uploadFile(ctx, e.origin.URL, path, title)
	if err != nil {
		return nil, e.origin.failed(err)
	}
	created := time.Now()
	w, err := watchJob(ctx, e.origin, v.ID, created, true, 10*time.Minute)
	if err != nil {
		return nil, e.origin.failed(err)
	}
	return &uploaded{video: w.video, uploadTime: created.Sub(start), readyTime: w.ready.Sub(created), completeTime: w.complete.Sub(created)}, nil
}

// ensureVideos uploads the fixture and the clip unless done already.
func (e *env) ensureVideos(ctx context.Context) error {
	var err error
	if e.big == nil {
		e.logf("uploading %s", filepath.Base(e.fx.Video))
		if e.big, err = e.upload(ctx, e.fx.Video, "bench fixture"); err != nil {
			return fmt.Errorf("upload the fixture: %w", err)
		}
	}
	if e.clip == nil {
		e.logf("uploading %s", filepath.Base(e.fx.Clip))
		if e.clip, err = e.upload(ctx, e.fx.Clip, "bench clip"); err != nil {
			return fmt.Errorf("upload the clip: %w", err)
		}
	}
	return nil
}

func (e *env) ensureCaches(ctx context.Context) error {
	if e.caches != nil {
		return nil
	}
	if err := e.ensureOrigin(ctx); err != nil {
		return err
	}
	pl, count := placement{nice: e.cfg.Nice}, runtime.NumCPU()
	if e.cfg.Pin {
		pl.cpus, count = e.cfg.ServerCPUs, max(1, len(parseCPUList(e.cfg.ServerCPUs)))
	}
	var natsURL string
	if e.origin.nats != nil {
		natsURL = e.origin.nats.URL()
	}
	c, err := startCaches(ctx, e.dir, e.bin, e.origin.URL, natsURL, e.cfg.EdgeMemoryBytes, pl, count)
	if err != nil {
		return err
	}
	e.caches = c
	return nil
}

func (e *env) stopCaches() {
	if e.caches != nil {
		e.caches.stop()
		e.caches = nil
	}
}

// pickSegment finds the big video's segment closest to 1 MiB.
func (e *env) pickSegment(ctx context.Context) (*object, int, error) {
	playlist, _, err := httpGet(ctx, e.origin.URL+e.big.playlistPath(), nil)
	if err != nil {
		return nil, 0, err
	}
	paths, err := segmentPaths(e.big.playlistPath(), playlist)
	if err != nil {
		return nil, 0, err
	}
	var best *object
	for _, p := range paths {
		body, _, err := httpGet(ctx, e.origin.URL+p, nil)
		if err != nil {
			return nil, 0, err
		}
		if best == nil || abs64(int64(len(body))-1<<20) < abs64(int64(len(best.body))-1<<20) {
			best = &object{path: p, body: body}
		}
	}
	return best, len(paths), nil
}

func (e *env) close() {
	e.stopCaches()
	e.origin.stopIfRunning()
	if e.s3 != nil {
		e.s3.Close()
	}
	if e.dir != "" {
		if e.cfg.KeepTemp {
			e.logf("kept %s", e.dir)
		} else if err := os.RemoveAll(e.dir); err != nil {
			e.logf("remove %s: %v", e.dir, err)
		}
	}
}

func (o *originProcess) stopIfRunning() {
	if o != nil {
		o.stop()
	}
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
