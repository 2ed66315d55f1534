package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/streamfront/streamfront/packager/transcode"
)

// ladderOverheadGoal is the goal: our ladder encode takes at most
// 5 % longer than the same ffmpeg command run by hand.
const ladderOverheadGoal = 0.05

// plainRun is one ffmpeg run by hand.
type plainRun struct {
	cpu     cpuUse
	ffCPU   time.Duration // ffmpeg's own user + system time
	peakRSS int64
	files   int
	bytes   int64
}

// measureLadder times the default ladder on the 5-minute fixture in an
// origin of its own, from the upload's 201 to complete, against the very
// ffmpeg command the origin runs, run by hand on the local file.
func (e *env) measureLadder(ctx context.Context) *section {
	s := &section{title: fmt.Sprintf("Default ladder on the %d-minute 1080p fixture: our origin vs the same ffmpeg command by hand", e.fx.VideoSeconds/60)}
	if err := e.ensureS3(ctx); err != nil {
		s.err = err
		return s
	}
	plainDir := filepath.Join(e.dir, "ladder-plain")
	if err := os.MkdirAll(plainDir, 0o755); err != nil {
		s.err = err
		return s
	}
	plan, err := planLadder(ctx, e.fx.Video, plainDir, transcode.DefaultLadder)
	if err != nil {
		s.err = fmt.Errorf("plan the ladder: %w", err)
		return s
	}
	// The default ladder, spelled out in a deployment file of its own: a
	// STREAMFRONT_CONFIG inherited from the environment must not change
	// what is measured.
	ladderEnv, err := ladderConfig(e.dir, "origin-ladder", transcode.DefaultLadder)
	if err != nil {
		s.err = err
		return s
	}
	o, err := startOrigin(ctx, "origin-ladder", e.dir, e.bin, e.s3, "bench-ladder", ladderEnv)
	if err != nil {
		s.err = fmt.Errorf("start the ladder origin: %w", err)
		return s
	}
	defer o.stop()

	e.logf("ladder: uploading %s to an origin with the default ladder, waiting until complete", filepath.Base(e.fx.Video))
	v, err := uploadFile(ctx, o.URL, e.fx.Video, "bench ladder")
	if err != nil {
		s.err = o.failed(err)
		return s
	}
	w, err := watchJob(ctx, o, v.ID, time.Now(), true, 30*time.Minute)
	if err != nil {
		s.err = o.failed(fmt.Errorf("package with the ladder: %w", err))
		return s
	}
	o.stop() // nothing of it may run beside the plain encode

	e.logf("ladder: running the same ffmpeg command on the local file")
	plain, err := runPlainFFmpeg(ctx, plan.args, plainDir)
	if err != nil {
		s.err = err
		return s
	}

	ffs := w.ffmpegRuns()
	if len(ffs) != 1 {
		s.err = fmt.Errorf("expected the origin to run ffmpeg once, saw %d runs", len(ffs))
		return s
	}
	ff := ffs[0]
	// The input alone, read the origin's way (its presigned URL, still
	// valid for hours) and from the local file: demux every packet, decode
	// and encode nothing.
	e.logf("ladder: reading the input alone, over the presigned URL and locally")
	demuxURL, demuxLocal, demuxErr := time.Duration(0), time.Duration(0), error(nil)
	if url := argAfter(ff.argv, "-i"); url == "" {
		demuxErr = fmt.Errorf("no -i in the origin's ffmpeg command line")
	} else if demuxURL, demuxErr = demuxTime(ctx, url); demuxErr == nil {
		demuxLocal, demuxErr = demuxTime(ctx, e.fx.Video)
	}
	ours := w.complete.Sub(w.created)
	before := ff.first.Sub(w.created)
	tail := w.complete.Sub(ff.gone)
	plainWall := plain.cpu.wall
	mark := func(u cpuUse, text string) string {
		if u.disturbed() {
			return "⚠ " + text
		}
		return text
	}
	// The watch's CPU covers the origin's whole job; its wall time is the
	// same stretch as ours.
	oursUse := w.cpu

	t := newTable("measure", "Streamfront origin", "ffmpeg by hand", "ours − plain", "overhead")
	t.add("**201 → complete** vs the command's wall time", mark(oursUse, fmtDuration(ours)), mark(plain.cpu, fmtDuration(plainWall)),
		fmtDuration(ours-plainWall), fmtPercent(ours.Seconds()/plainWall.Seconds()-1))
	t.add("  before ffmpeg starts (probe and index the source over S3, src ready, ffprobe of the presigned URL)", fmtDuration(before), "—", "", "")
	t.add("  ffmpeg running (sampled every 50 ms)", fmtDuration(ff.wall()), fmtDuration(plainWall),
		fmtDuration(ff.wall()-plainWall), fmtPercent(ff.wall().Seconds()/plainWall.Seconds()-1))
	t.add("  after ffmpeg exits (index each rendition, upload renditions, indexes, poster, sprites, VTT; record final)", fmtDuration(tail), "—", "", "")
	if st := w.stageTime("storing renditions"); !st.IsZero() {
		t.add("  stage \"storing renditions\" first seen → complete (the origin's own progress)", fmtDuration(w.complete.Sub(st)), "—", "", "")
	}
	if demuxErr == nil {
		t.add("  the input alone: ffmpeg -i INPUT -map 0 -c copy -f null - (best of 2; over the presigned URL vs the local file)", fmtDuration(demuxURL), fmtDuration(demuxLocal),
			fmtDuration(demuxURL-demuxLocal), "")
	} else {
		s.note("The input-only comparison could not run: %v.", demuxErr)
	}
	t.add("201 → ready (the source itself playable, ladder still encoding)", fmtDuration(w.ready.Sub(w.created)), "—", "", "")
	t.add("ffmpeg CPU time (user + system)", fmtDuration(ff.cpu), fmtDuration(plain.ffCPU), fmtDuration(ff.cpu-plain.ffCPU), fmtPercent(ff.cpu.Seconds()/plain.ffCPU.Seconds()-1))
	t.add("CPU time of every process the bench started (origin, ffmpeg, ffprobe, S3, this program)", fmtDuration(oursUse.ours), fmtDuration(plain.cpu.ours), fmtDuration(oursUse.ours-plain.cpu.ours), fmtPercent(oursUse.ours.Seconds()/plain.cpu.ours.Seconds()-1))
	t.add("other work on the machine meanwhile", mark(oursUse, coresOf(oursUse.others, oursUse.wall)), mark(plain.cpu, coresOf(plain.cpu.others, plain.cpu.wall)), "", "")
	t.add("ffmpeg peak RSS (VmHWM; by hand: rusage maxrss)", fmtBytes(ff.peakRSS), fmtBytes(plain.peakRSS), "", "")
	t.add("origin peak RSS while it packages (growth from the 201)", fmt.Sprintf("%s (+%s)", fmtBytes(w.peakToComplete), fmtBytes(w.peakToComplete-w.rssAtCreated)), "—", "", "")
	s.tables = append(s.tables, t)
	e.ladderMem = &ladderMemory{
		source:       fmt.Sprintf("the %d-minute fixture", e.fx.VideoSeconds/60),
		originPeak:   w.peakToComplete,
		originGrowth: w.peakToComplete - w.rssAtCreated,
		ffmpegPeak:   ff.peakRSS,
	}

	overhead := ours.Seconds()/plainWall.Seconds() - 1
	around := before + tail
	cpuOverhead := oursUse.ours.Seconds()/plain.cpu.ours.Seconds() - 1
	g := newTable("goal (issue)", "ours", "plain", "overhead", "verdict")
	g.add(fmt.Sprintf("**ladder encode: 201 → complete at most %.0f %% over plain ffmpeg** (wall time)", ladderOverheadGoal*100), fmtDuration(ours), fmtDuration(plainWall),
		fmtPercent(overhead), judged(overhead <= ladderOverheadGoal, oursUse.disturbed() || plain.cpu.disturbed()))
	g.add("  the origin's own wall time around ffmpeg (before it starts + after it exits), over plain's wall time", fmtDuration(around), fmtDuration(plainWall),
		fmtPercent(around.Seconds()/plainWall.Seconds()), verdict(around.Seconds() <= ladderOverheadGoal*plainWall.Seconds())+" (this part)")
	g.add("  CPU time of everything each side started (not lengthened by waiting for a core)", fmtDuration(oursUse.ours), fmtDuration(plain.cpu.ours),
		fmtPercent(cpuOverhead), verdict(cpuOverhead <= ladderOverheadGoal)+" (CPU time)")
	s.tables = append(s.tables, g)

	var names []string
	for _, r := range plan.rungs {
		names = append(names, fmt.Sprintf("%s (cap %s)", r.Name, fmtBitrate(r.VideoBitrate)))
	}
	s.note("Ladder: the default (%s). For this source (%dx%d, its index's peak video rate %s) the origin keeps only rungs meaningfully below the source in size and rate, so the encode makes %s, plus the poster and the storyboard sprites in the same run; left out: %s.",
		strings.Join(rungNames(transcode.DefaultLadder), ", "), plan.src.Video.Width, plan.src.Video.Height, fmtBitrate(plan.peak), strings.Join(names, " and "), leftOut(transcode.DefaultLadder, plan))
	if diff := compareArgs(ff.argv, plan.args, plainDir); diff != "" {
		s.note("**The command by hand differs from the origin's:** %s.", diff)
	} else {
		s.note("Same command: the origin's ffmpeg command line (read from /proc while it ran) equals the one run by hand — transcode.LadderArgs with keyframes at the source index's segment boundaries (packager.Analyze on the local file) and thumbs.Plan — except for the input and the scratch directory (%d arguments).", len(plan.args))
	}
	if got, want := renditionNames(w.video), append([]string{"src"}, rungNames(plan.rungs)...); !sameSet(got, want) {
		s.note("**Renditions differ:** the origin made %s, the plan has %s.", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	s.note("Ours: `streamfront origin` as its own process with the default ladder, its own bucket on the same versitygw; the fixture is uploaded (raw POST) and the time runs from the 201 to the first GET /api/v1/videos/{id} that says ready with no stage (polled every 20 ms, every 250 ms while ffmpeg runs). ffmpeg's start and exit are when a 50 ms /proc sample first saw it and first did not (each up to 50 ms late).")
	s.note("By hand: `ffmpeg` with exactly those arguments on the local fixture (in the page cache: it was just read for the upload), outputs into a scratch directory (%d files, %s), run after the origin was stopped. Its `-progress pipe:1` output is read and dropped, as the origin reads it for its progress bar.", plain.files, fmtBytes(plain.bytes))
	s.note("What differs: the origin's ffmpeg reads the source over HTTP from S3 (versitygw on loopback) through a presigned URL; before it starts, the origin probes and indexes the source (S3 ranged reads) and runs ffprobe on the URL; after it exits, the origin indexes each rendition file, uploads renditions, indexes, poster, sprites and storyboard to S3 and writes the final record: that tail is its own row.")
	s.note("The two runs are one after the other on a machine others use too, and ffmpeg keeps both cores busy, so whatever else runs lengthens its wall time: \"other work\" is every CPU's busy time less the time of the processes this bench started; a run where it averaged over %.0f%% of a core is marked ⚠ and the wall-time goal is then inconclusive. The two rows under the goal are the steadier evidence on a busy machine: the origin's own steps around ffmpeg, timed directly, and CPU time, which waiting for a core does not lengthen (it would miss time ffmpeg spends stalled on its HTTP input; the input-only row above bounds that).", disturbedShare*100)
	return s
}

// runPlainFFmpeg runs ffmpeg with args in dir and measures it.
func runPlainFFmpeg(ctx context.Context, args []string, dir string) (plainRun, error) {
	var r plainRun
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.Dir = dir
	stderr := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	meter := startCPUMeter()
	err := cmd.Run()
	r.cpu = meter.stop()
	if err != nil {
		return r, fmt.Errorf("ffmpeg %s: %w: %.1500s", strings.Join(args, " "), err, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.peakRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	r.ffCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return r, err
	}
	for _, en := range entries {
		if fi, err := en.Info(); err == nil && fi.Mode().IsRegular() {
			r.files++
			r.bytes += fi.Size()
		}
	}
	return r, nil
}

// leftOut says which rungs of ladder the plan does not encode, and why.
func leftOut(ladder []transcode.Rung, p *ladderPlan) string {
	var out []string
	for _, r := range ladder {
		if slices.ContainsFunc(p.rungs, func(k transcode.Rung) bool { return k.Name == r.Name }) {
			continue
		}
		why := fmt.Sprintf("its %s cap is not below 90 %% of the source's peak", fmtBitrate(r.VideoBitrate))
		if short := p.src.ShortSide(); r.ShortSide*10 > short*9 {
			why = fmt.Sprintf("not below 90 %% of the source's %d lines", short)
		}
		out = append(out, r.Name+" ("+why+")")
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// demuxTime is the best of two wall times of ffmpeg reading every packet
// of input and writing nothing.
func demuxTime(ctx context.Context, input string) (time.Duration, error) {
	var best time.Duration
	for range 2 {
		cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", input, "-map", "0", "-c", "copy", "-f", "null", "-")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("ffmpeg demux of the input: %w: %.500s", err, out)
		}
		if best == 0 || took < best {
			best = took
		}
	}
	return best, nil
}

// argAfter is the argument that follows flag in argv; "" if none.
func argAfter(argv []string, flag string) string {
	if i := slices.Index(argv, flag); i >= 0 && i+1 < len(argv) {
		return argv[i+1]
	}
	return ""
}

// ladderConfig writes a deployment file that sets only the workers'
// ladder (empty: none) and returns the variable that points a role at it.
func ladderConfig(dir, name string, ladder []transcode.Rung) (string, error) {
	var b strings.Builder
	b.WriteString("worker:\n  ladder:")
	if len(ladder) == 0 {
		b.WriteString(" []")
	}
	b.WriteString("\n")
	for _, r := range ladder {
		fmt.Fprintf(&b, "    - {name: %s, short_side: %d, bitrate: %d}\n", r.Name, r.ShortSide, r.VideoBitrate)
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	return "STREAMFRONT_CONFIG=" + path, nil
}

func rungNames(rungs []transcode.Rung) []string {
	var out []string
	for _, r := range rungs {
		out = append(out, r.Name)
	}
	return out
}

func renditionNames(v video) []string {
	var out []string
	for _, r := range v.Renditions {
		out = append(out, r.Name)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// judged is a goal's verdict, inconclusive when a run it rests on was
// disturbed by other work.
func judged(ok, disturbed bool) string {
	if disturbed {
		return "inconclusive (" + verdict(ok) + " on a disturbed run)"
	}
	return verdict(ok)
}

func fmtPercent(f float64) string { return fmt.Sprintf("%+.1f %%", f*100) }

// coresOf is CPU time over a wall time, as cores, e.g. "0.05 cores".
func coresOf(cpu, wall time.Duration) string {
	if wall <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f cores", cpu.Seconds()/wall.Seconds())
}
