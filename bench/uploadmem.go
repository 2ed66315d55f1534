package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// loopReader yields data over and over until n bytes: a large upload body
// generated as a stream, never as a file on disk.
type loopReader struct {
	data []byte
	off  int
	left int64
}

func (r *loopReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	r.left -= int64(n)
	return n, nil
}

// measureUploadMemory streams a large body into a fresh origin process and
// records how far its resident memory grows.
func (e *env) measureUploadMemory(ctx context.Context) *section {
	s := &section{title: fmt.Sprintf("Origin memory while uploading %s", fmtBytes(e.cfg.UploadBytes))}
	if err := e.ensureS3(ctx); err != nil {
		s.err = err
		return s
	}
	// A fresh origin on a bucket of its own: nothing from earlier steps in
	// its memory, and no other origin to take over its packaging job.
	o, err := startOrigin(ctx, "origin-upload", e.dir, e.bin, e.s3, "bench-upload")
	if err != nil {
		s.err = fmt.Errorf("start the upload origin: %w", err)
		return s
	}
	defer o.stop()
	pid := o.pid()
	fresh, err := statusBytes(pid, "VmRSS")
	if err != nil {
		s.err = err
		return s
	}

	// A small upload first, so one-time set-up (S3 client, bucket, buffer
	// pools) is not counted as growth caused by the big body.
	e.logf("warm-up upload of %s", e.fx.Clip)
	warm, err := uploadFile(ctx, o.URL, e.fx.Clip, "bench warm-up")
	if err != nil {
		s.err = o.failed(fmt.Errorf("warm-up upload: %w", err))
		return s
	}
	if _, _, err := waitReady(ctx, o.URL, warm.ID, 50*time.Millisecond, 5*time.Minute); err != nil {
		s.err = o.failed(fmt.Errorf("warm-up video: %w", err))
		return s
	}

	data, err := os.ReadFile(e.fx.Video)
	if err != nil {
		s.err = err
		return s
	}
	before, err := statusBytes(pid, "VmRSS")
	if err != nil {
		s.err = err
		return s
	}
	if err := resetPeakRSS(pid); err != nil {
		s.err = fmt.Errorf("reset the origin's VmHWM: %w", err)
		return s
	}

	var sampled atomic.Int64
	sampled.Store(before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := statusBytes(pid, "VmRSS"); err == nil && rss > sampled.Load() {
				sampled.Store(rss)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	e.logf("uploading %s (the fixture's bytes looped)", fmtBytes(e.cfg.UploadBytes))
	start := time.Now()
	_, err = uploadRaw(ctx, o.URL, &loopReader{data: data, left: e.cfg.UploadBytes}, e.cfg.UploadBytes, "bench 2 GB upload")
	took := time.Since(start)
	hwm, hwmErr := statusBytes(pid, "VmHWM")
	after, _ := statusBytes(pid, "VmRSS")
	close(stop)
	wg.Wait()
	if err != nil {
		s.err = o.failed(fmt.Errorf("the %s upload: %w", fmtBytes(e.cfg.UploadBytes), err))
		return s
	}
	if hwmErr != nil {
		s.err = hwmErr
		return s
	}
	peak := max(hwm, sampled.Load())
	growth := peak - before

	t := newTable("body", "upload time", "throughput", "RSS fresh", "RSS before", "peak RSS (VmHWM)", "RSS after", "growth", "goal ≤ 64 MiB")
	t.add(fmtBytes(e.cfg.UploadBytes), fmtDuration(took), fmtRate(float64(e.cfg.UploadBytes)/took.Seconds()),
		fmtBytes(fresh), fmtBytes(before), fmtBytes(peak), fmtBytes(after), fmtBytes(growth), verdict(growth <= 64<<20))
	s.tables = append(s.tables, t)
	s.note("`streamfront origin` as its own process (S3: versitygw on loopback), raw POST /api/v1/videos with Content-Length; the body is the fixture's bytes looped, streamed from memory of this program, never a file.")
	s.note("RSS fresh: just started; RSS before: after a warm-up upload of the %d s clip had been packaged. The peak is VmHWM after resetting it (clear_refs) right before the big upload, cross-checked with VmRSS sampled every 100 ms; growth = peak − RSS before (peak − fresh: %s).",
		e.fx.ClipSeconds, fmtBytes(peak-fresh))
	return s
}
