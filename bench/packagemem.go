package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// packageMemGoal is the goal for the origin's peak RSS while it
// packages a 2 GB source: 200 MB.
const packageMemGoal = 200_000_000

// ladderMemory is what the ladder step saw of memory, shown again beside
// the big source's figures.
type ladderMemory struct {
	source                   string
	originPeak, originGrowth int64
	ffmpegPeak               int64
}

// measurePackageMemory uploads a ~2 GB, ~3-hour source to a fresh origin
// without a ladder and records the origin's memory from the 201 until the
// video is ready.
func (e *env) measurePackageMemory(ctx context.Context) *section {
	s := &section{title: fmt.Sprintf("Origin memory while packaging a %s source (remux and index)", fmtBytes(e.cfg.BigSourceBytes))}
	if err := e.ensureS3(ctx); err != nil {
		s.err = err
		return s
	}
	e.logf("packagemem: the big source (made once from copies of %s)", filepath.Base(e.fx.Video))
	bs, err := ensureBigSource(ctx, filepath.Join(e.out, "fixtures"), e.fx.Video, e.fx.VideoSeconds, e.cfg.BigSourceBytes)
	if err != nil {
		s.err = fmt.Errorf("make the big source: %w", err)
		return s
	}
	s.title = fmt.Sprintf("Origin memory while packaging a %.2f GB (%s), %s source (remux and index)", float64(bs.Size)/1e9, fmtBytes(bs.Size), fmtHours(bs.Seconds))
	moov, err := boxSize(bs.Path, "moov")
	if err != nil {
		s.err = err
		return s
	}
	const bucket = "bench-bigsource"
	noLadder, err := ladderConfig(e.dir, "origin-bigsource", nil)
	if err != nil {
		s.err = err
		return s
	}
	o, err := startOrigin(ctx, "origin-bigsource", e.dir, e.bin, e.s3, bucket, noLadder)
	if err != nil {
		s.err = fmt.Errorf("start the origin: %w", err)
		return s
	}
	defer o.stop()
	fresh, err := statusBytes(o.pid(), "VmRSS")
	if err != nil {
		s.err = err
		return s
	}
	if err := resetPeakRSS(o.pid()); err != nil {
		s.err = fmt.Errorf("reset the origin's VmHWM: %w", err)
		return s
	}

	e.logf("packagemem: uploading %s (%s), then waiting for ready", filepath.Base(bs.Path), fmtBytes(bs.Size))
	start := time.Now()
	v, err := uploadFile(ctx, o.URL, bs.Path, "bench big source")
	if err != nil {
		s.err = o.failed(err)
		return s
	}
	created := time.Now()
	uploadPeak, _ := statusBytes(o.pid(), "VmHWM")
	w, err := watchJob(ctx, o, v.ID, created, false, 15*time.Minute)
	if err != nil {
		s.err = o.failed(fmt.Errorf("package the big source: %w", err))
		return s
	}
	o.stop() // its thumbnails pass (ffmpeg over the whole source) is not measured
	prefix := filepath.Join(e.dir, "s3", bucket, "videos", v.ID, "r")
	idx, head := fileSize(filepath.Join(prefix, "src.idx")), fileSize(filepath.Join(prefix, "src.head"))

	mark := func(text string) string {
		if w.cpu.disturbed() {
			return "⚠ " + text
		}
		return text
	}
	growth := w.peakToReady - w.rssAtCreated
	t := newTable("measure", "Streamfront origin")
	t.add("source", fmt.Sprintf("%d bytes, %s, %d copies of the %d s fixture joined with `-c copy`; moov (%s) at the end", bs.Size, fmtHours(bs.Seconds), bs.Copies, e.fx.VideoSeconds, fmtBytes(moov)))
	t.add("upload: POST start → 201", fmt.Sprintf("%s (%s)", fmtDuration(created.Sub(start)), fmtRate(float64(bs.Size)/created.Sub(start).Seconds())))
	t.add("**201 → ready** (probe the moov over S3, index, store head and index)", mark(fmtDuration(w.ready.Sub(created))))
	t.add("RSS: fresh process → at the 201", fmt.Sprintf("%s → %s", fmtBytes(fresh), fmtBytes(w.rssAtCreated)))
	t.add("peak RSS during the upload", fmtBytes(uploadPeak))
	t.add("**peak RSS 201 → ready** (growth from the 201)", fmt.Sprintf("%s (+%s)", fmtBytes(w.peakToReady), fmtBytes(growth)))
	t.add("index stored (src.idx)", sizeOrUnknown(idx))
	t.add("faststart head stored (src.head: the new moov)", sizeOrUnknown(head))
	t.add("other work on the machine, 201 → ready", mark(coresOf(w.cpu.others, w.cpu.wall)))
	if lm := e.ladderMem; lm != nil {
		t.add("for comparison — default ladder on "+lm.source+" (ladder step): origin peak RSS while ffmpeg encodes (growth from the 201)",
			fmt.Sprintf("%s (+%s)", fmtBytes(lm.originPeak), fmtBytes(lm.originGrowth)))
		t.add("  that ffmpeg's own peak RSS (a separate process)", fmtBytes(lm.ffmpegPeak))
	}
	s.tables = append(s.tables, t)

	g := newTable("goal (issue)", "ours", "limit", "verdict")
	g.add("origin peak RSS while packaging a 2 GB source", fmtBytes(w.peakToReady), "200 MB ("+fmtBytes(packageMemGoal)+")", verdict(w.peakToReady <= packageMemGoal))
	s.tables = append(s.tables, g)

	s.note("`streamfront origin` as its own fresh process with no ladder (a deployment file with `ladder: []`), on a bucket of its own: packaging is the remux/index path only (probe the moov with ranged S3 reads, lay out the faststart head, plan segments, store head, index and record); no ffmpeg encode. The origin is stopped at ready: the keyframes-only thumbnails pass it starts next (a separate ffmpeg reading the source from S3) is not part of these figures.")
	s.note("Peak RSS is VmHWM after clear_refs at the 201, or the highest VmRSS sampled every 50 ms if higher; the upload's own peak (VmHWM reset before the POST, read at the 201) is its own row, as the upload-memory section measures it. Time to ready is polled every 20 ms.")
	if bs.Made > 0 {
		s.note("The source was made in this run in %s and is kept in %s for later runs.", fmtDuration(bs.Made.Round(100*time.Millisecond)), filepath.Dir(bs.Path))
	}
	if idx < 0 || head < 0 {
		s.note("Index and head sizes are read from versitygw's files under its data directory; a size shown unknown was not found there.")
	}
	return s
}

// fileSize is the size of the file at path, or -1.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

func sizeOrUnknown(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return fmtBytes(n)
}

// fmtHours is e.g. "2 h 55 min".
func fmtHours(seconds int) string {
	h, m := seconds/3600, seconds%3600/60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}
