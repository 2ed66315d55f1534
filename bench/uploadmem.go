package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// loopReader yields data over and over until left bytes have been read: a
// large upload body generated as a stream, never as a file on disk.
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

// uploadMemRun is one big upload's memory record.
type uploadMemRun struct {
	label               string
	took                time.Duration
	before, peak, after int64
	outcome             string // what became of the video
}

// measureUploadMemory streams a large body into a fresh origin process,
// twice, and records how far its resident memory grows each time.
func (e *env) measureUploadMemory(ctx context.Context) *section {
	s := &section{title: fmt.Sprintf("Origin memory while uploading %s", fmtBytes(e.cfg.UploadBytes))}
	if err := e.ensureS3(ctx); err != nil {
		s.err = err
		return s
	}
	// Random bytes, not the fixture looped: the upload path only streams
	// bytes to S3, so it cannot tell, and afterwards packaging fails at
	// once instead of transcoding gigabytes (a looped MP4 is not
	// remuxable) while the next upload is measured.
	data := make([]byte, 4<<20)
	rng := rand.NewChaCha8([32]byte{'b', 'e', 'n', 'c', 'h'})
	_, _ = rng.Read(data)
	// A fresh origin on a bucket of its own: nothing from earlier steps in
	// its memory, and no other origin to take over its packaging job.
	o, err := startOrigin(ctx, "origin-upload", e.dir, e.bin, e.s3, "bench-upload")
	if err != nil {
		s.err = fmt.Errorf("start the upload origin: %w", err)
		return s
	}
	defer o.stop()
	fresh, err := statusBytes(o.pid(), "VmRSS")
	if err != nil {
		s.err = err
		return s
	}

	var runs []uploadMemRun
	for _, label := range []string{"1st upload, fresh process", "2nd upload, same process"} {
		e.logf("%s: %s of random bytes", label, fmtBytes(e.cfg.UploadBytes))
		r, err := e.uploadMemOnce(ctx, o, data)
		if err != nil {
			s.err = o.failed(fmt.Errorf("%s: %w", label, err))
			break
		}
		r.label = label
		runs = append(runs, r)
	}

	t := newTable("upload", "time", "throughput", "RSS before", "peak RSS", "RSS after", "growth (peak − before)", "goal ≤ 64 MiB", "peak − fresh process", "then the video")
	for _, r := range runs {
		growth := r.peak - r.before
		t.add(r.label, fmtDuration(r.took), fmtRate(float64(e.cfg.UploadBytes)/r.took.Seconds()),
			fmtBytes(r.before), fmtBytes(r.peak), fmtBytes(r.after), fmtBytes(growth), verdict(growth <= 64<<20), fmtBytes(r.peak-fresh), r.outcome)
	}
	s.tables = append(s.tables, t)
	s.note("`streamfront origin` as its own process (S3: versitygw on loopback, its own bucket), raw POST /api/v1/videos (Content-Type video/mp4, Content-Length %d); the body is a %s block of random bytes looped, streamed from this program's memory, never a file.",
		e.cfg.UploadBytes, fmtBytes(int64(len(data))))
	s.note("Peak RSS is VmHWM after resetting it (clear_refs) right before the upload, cross-checked with VmRSS sampled every 100 ms. The first upload's growth includes one-time set-up (S3 client, buffer pools); the second shows what a further upload adds to a process that has already done one (the fresh process had %s). Each upload's packaging is waited for (or given up on after 60 s) before the next, so it does not overlap.", fmtBytes(fresh))
	return s
}

// uploadMemOnce uploads UploadBytes to o and records its memory.
func (e *env) uploadMemOnce(ctx context.Context, o *originProcess, data []byte) (uploadMemRun, error) {
	pid := o.pid()
	var r uploadMemRun
	var err error
	if r.before, err = statusBytes(pid, "VmRSS"); err != nil {
		return r, err
	}
	if err := resetPeakRSS(pid); err != nil {
		return r, fmt.Errorf("reset the origin's VmHWM: %w", err)
	}
	var sampled atomic.Int64
	sampled.Store(r.before)
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
	start := time.Now()
	v, err := uploadRaw(ctx, o.URL, &loopReader{data: data, left: e.cfg.UploadBytes}, e.cfg.UploadBytes, "bench upload-memory body")
	r.took = time.Since(start)
	hwm, hwmErr := statusBytes(pid, "VmHWM")
	r.after, _ = statusBytes(pid, "VmRSS")
	close(stop)
	wg.Wait()
	if err != nil {
		return r, err
	}
	if hwmErr != nil {
		return r, hwmErr
	}
	r.peak = max(hwm, sampled.Load())

	// Let its packaging finish (or fail) before anything else is measured.
	created := time.Now()
	v, readyAt, err := waitReady(ctx, o.URL, v.ID, 100*time.Millisecond, 60*time.Second)
	switch {
	case err == nil:
		r.outcome = "ready after " + fmtDuration(readyAt.Sub(created).Round(100*time.Millisecond))
	case v.Status == "failed":
		r.outcome = "failed to package, as expected for random bytes"
	default:
		r.outcome = fmt.Sprintf("still %s after 60 s", v.Status)
	}
	return r, nil
}
