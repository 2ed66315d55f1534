package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// measurePipeline times what issue 7 promises, side by side with ffmpeg:
//
//   - upload complete (201) → ready of a 20 s H.264 MP4 while two 5-minute
//     1080p ladders encode (the worker busy, the machine loaded), beside
//     `ffmpeg -c copy -f hls` of the same clip on the same busy machine;
//   - 201 → ready and → first segment decoded of a 5-minute 1080p
//     VP9/Opus WebM (playing while it encodes), beside ffmpeg encoding the
//     same top rung whole, which is what a pipeline without growing HLS
//     makes a viewer wait for;
//   - encode throughput of one worker pinned to one CPU against two workers
//     each pinned to its own.
func (e *env) measurePipeline(ctx context.Context) *section {
	s := &section{title: "Pipeline: ready under load, playing while encoding, encode throughput"}
	if err := e.ensureS3(ctx); err != nil {
		s.err = err
		return s
	}
	clip, vp9, err := e.pipelineFixtures(ctx)
	if err != nil {
		s.err = err
		return s
	}
	if err := e.readyUnderLoad(ctx, s, clip); err != nil {
		s.err = err
		return s
	}
	if err := e.playWhileEncoding(ctx, s, vp9); err != nil {
		s.err = err
		return s
	}
	if err := e.encodeThroughput(ctx, s, clip); err != nil {
		s.err = err
	}
	return s
}

// pipelineFixtures makes a 20 s cut of the big fixture and a 5-minute
// 1080p VP9/Opus WebM (once; reused by later runs).
func (e *env) pipelineFixtures(ctx context.Context) (clip, vp9 string, err error) {
	dir := filepath.Dir(e.fx.Video)
	clip = strings.TrimSuffix(e.fx.Video, ".mp4") + "-20s.mp4"
	if err = makeOnce(ctx, clip, func(tmp string) []string {
		return []string{"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", e.fx.Video, "-t", "20", "-c", "copy", "-f", "mp4", tmp}
	}); err != nil {
		return "", "", fmt.Errorf("cut the 20 s clip: %w", err)
	}
	vp9 = filepath.Join(dir, fmt.Sprintf("vp9-opus-1080p-%ds.webm", e.fx.VideoSeconds))
	e.logf("making %s if missing (a few minutes, once)", filepath.Base(vp9))
	if err = makeOnce(ctx, vp9, func(tmp string) []string {
		return []string{"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
			"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", strconv.Itoa(e.fx.VideoSeconds), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
			"-b:v", "3M", "-g", "60", "-c:a", "libopus", "-b:a", "96k", "-f", "webm", tmp}
	}); err != nil {
		return "", "", fmt.Errorf("make the VP9 fixture: %w", err)
	}
	return clip, vp9, nil
}

// readyUnderLoad: two big uploads keep the worker encoding their ladders;
// then the clip is uploaded three times and timed from 201 to ready.
func (e *env) readyUnderLoad(ctx context.Context, s *section, clip string) error {
	o, err := startOrigin(ctx, "origin-pipeline", e.dir, e.bin, e.s3, "bench-pipeline")
	if err != nil {
		return err
	}
	defer o.stop()
	var busy []video
	for i := range 2 {
		v, err := uploadFile(ctx, o.URL, e.fx.Video, fmt.Sprintf("busy %d", i+1))
		if err != nil {
			return o.failed(err)
		}
		busy = append(busy, v)
	}
	if _, err := waitVideo(ctx, o.URL, busy[0].ID, 5*time.Minute, func(v video) bool {
		return v.Stage == "encoding renditions" && v.Percent > 1
	}); err != nil {
		return o.failed(fmt.Errorf("the first ladder never started: %w", err))
	}
	var ours []time.Duration
	var load []string
	for i := range 3 {
		v, err := uploadFile(ctx, o.URL, clip, fmt.Sprintf("clip %d", i+1))
		if err != nil {
			return o.failed(err)
		}
		created := time.Now()
		if _, _, err := waitReady(ctx, o.URL, v.ID, 10*time.Millisecond, 5*time.Minute); err != nil {
			return o.failed(err)
		}
		ours = append(ours, time.Since(created))
		if l := loadSummary(); !slices.Contains(load, l) {
			load = append(load, l)
		}
	}
	// ffmpeg remuxing the same clip to HLS, on the same busy machine.
	var plain []time.Duration
	for range 3 {
		dir := filepath.Join(e.dir, "pipeline-ffmpeg-hls")
		_ = exec.Command("rm", "-rf", dir).Run()
		_ = exec.Command("mkdir", "-p", dir).Run()
		start := time.Now()
		cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", clip,
			"-c", "copy", "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", filepath.Join(dir, "index.m3u8"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("ffmpeg -f hls: %v %s", err, out)
		}
		plain = append(plain, time.Since(start))
	}
	stillBusy, _ := getVideo(ctx, o.URL, busy[1].ID)
	t := newTable("20 s 1080p H.264 MP4, while two 5-min 1080p ladders encode", "run 1", "run 2", "run 3", "goal")
	t.add("Streamfront: 201 → ready", fmtDuration(ours[0]), fmtDuration(ours[1]), fmtDuration(ours[2]), "≤ 1 s")
	t.add("ffmpeg -c copy -f hls (fMP4) of the same clip, same busy machine", fmtDuration(plain[0]), fmtDuration(plain[1]), fmtDuration(plain[2]), "")
	s.tables = append(s.tables, t)
	s.note("Ready under load: `streamfront origin` + one `streamfront worker` (one encode at a time, the default) and NATS, default ladder. Two uploads of the %d s 1080p fixture were made first; the clip uploads started once the first ladder encode was running (the second waited in line: its stage at the end was %q). Ready is the first GET /api/v1/videos/{id} (polled every 10 ms) that says ready. Machine load during the three runs: %s. Before issue 7 the same clip waited for both ladders: 348 s measured on `make run`.",
		e.fx.VideoSeconds, stillBusy.Stage, strings.Join(load, "; "))
	return nil
}

// playWhileEncoding: a 5-minute VP9 upload on an idle worker, timed to
// ready (its growing HLS has a first segment) and to a first segment
// decoded by ffmpeg over HTTP; beside it ffmpeg encoding the top rung whole.
func (e *env) playWhileEncoding(ctx context.Context, s *section, vp9 string) error {
	o, err := startOrigin(ctx, "origin-growing", e.dir, e.bin, e.s3, "bench-growing")
	if err != nil {
		return err
	}
	defer o.stop()
	v, err := uploadFile(ctx, o.URL, vp9, "vp9")
	if err != nil {
		return o.failed(err)
	}
	created := time.Now()
	if _, _, err := waitReady(ctx, o.URL, v.ID, 20*time.Millisecond, 10*time.Minute); err != nil {
		return o.failed(err)
	}
	ready := time.Since(created)
	playlist := o.URL + "/videos/" + v.ID + "/hls/encoding/stream.m3u8"
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-live_start_index", "0",
		"-i", playlist, "-t", "2", "-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		return fmt.Errorf("ffmpeg decoding the growing HLS: %v %s", err, out)
	}
	decoded := time.Since(created)
	first, err := waitVideo(ctx, o.URL, v.ID, 30*time.Minute, func(v video) bool { return len(v.Renditions) > 0 })
	if err != nil {
		return o.failed(err)
	}
	firstDone := time.Since(created)
	o.stop() // nothing of it may run beside the plain encode

	// ffmpeg encoding the same top rung (same encoder settings), whole.
	out := filepath.Join(e.dir, "pipeline-top.mp4")
	start := time.Now()
	plainArgs := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", vp9,
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-crf", "21", "-bf", "2",
		"-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*2)", "-maxrate", "5000000", "-bufsize", "10000000",
		"-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000", "-movflags", "+faststart", out}
	if b, err := exec.CommandContext(ctx, "ffmpeg", plainArgs...).CombinedOutput(); err != nil {
		return fmt.Errorf("plain ffmpeg encode: %v %s", err, b)
	}
	plain := time.Since(start)
	t := newTable(fmt.Sprintf("%d s 1080p VP9/Opus WebM", e.fx.VideoSeconds), "Streamfront", "ffmpeg, whole top rung", "goal")
	t.add("201 → ready (growing HLS has its first segment)", fmtDuration(ready), "", "≤ 5 s")
	t.add("201 → ffmpeg has decoded the first 2 s over HTTP", fmtDuration(decoded), "", "")
	t.add(fmt.Sprintf("201 → first rendition (%s) stored / encode done", first.Renditions[0].Name), fmtDuration(firstDone), fmtDuration(plain), "")
	s.tables = append(s.tables, t)
	s.note("Playing while encoding: the worker encodes the top rung and writes it at once as CMAF HLS (2 s segments, ffmpeg's tee muxer: one encode for both), storing each segment as ffmpeg closes it; the video is ready after the first. Without that a viewer waits for the whole encode (the ffmpeg column, the same encoder settings on the idle machine). Mux's published median for 5–20 minute files is 9 s.")
	return nil
}

// encodeThroughput: four ladder jobs (the 20 s clip, default ladder) on
// one worker pinned to CPU 0, then on two workers pinned to CPUs 0 and 1.
func (e *env) encodeThroughput(ctx context.Context, s *section, clip string) error {
	const jobs = 4
	run := func(name string, workers []placement) (time.Duration, error) {
		o, err := startOriginWorkers(ctx, name, e.dir, e.bin, e.s3, "bench-"+name, workers)
		if err != nil {
			return 0, err
		}
		defer o.stop()
		var ids []string
		start := time.Now()
		for i := range jobs {
			v, err := uploadFile(ctx, o.URL, clip, fmt.Sprintf("job %d", i+1))
			if err != nil {
				return 0, o.failed(err)
			}
			ids = append(ids, v.ID)
		}
		for _, id := range ids {
			if _, err := waitVideo(ctx, o.URL, id, 30*time.Minute, func(v video) bool { return v.Status == "ready" && v.Stage == "" }); err != nil {
				return 0, o.failed(err)
			}
		}
		return time.Since(start), nil
	}
	cpus := parseCPUList(e.cfg.ServerCPUs + "," + e.cfg.ClientCPUs)
	slices.Sort(cpus)
	cpus = slices.Compact(cpus)
	if len(cpus) < 2 {
		return fmt.Errorf("throughput needs two CPUs to pin workers to, have %v", cpus)
	}
	one, err := run("throughput-1", []placement{{cpus: strconv.Itoa(cpus[0])}})
	if err != nil {
		return err
	}
	two, err := run("throughput-2", []placement{{cpus: strconv.Itoa(cpus[0])}, {cpus: strconv.Itoa(cpus[1])}})
	if err != nil {
		return err
	}
	t := newTable(fmt.Sprintf("%d ladder jobs (20 s 1080p, default ladder + thumbnails)", jobs), "one worker, 1 CPU", "two workers, 1 CPU each", "speed-up", "goal")
	t.add("first upload → all complete", fmtDuration(one), fmtDuration(two), fmt.Sprintf("%.2f×", one.Seconds()/two.Seconds()), "≥ 1.8×")
	s.tables = append(s.tables, t)
	s.note("Throughput: each worker is its own process pinned with taskset (ffmpeg follows its affinity: one thread pool per CPU); the origin, NATS and S3 are unpinned and share the CPUs.")
	return nil
}

// waitVideo polls until cond holds (or the video failed).
func waitVideo(ctx context.Context, apiURL, id string, timeout time.Duration, cond func(video) bool) (video, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		v, err := getVideo(ctx, apiURL, id)
		if err == nil && v.Status == "failed" {
			return v, fmt.Errorf("video %s failed: %s", id, v.Error)
		}
		if err == nil && cond(v) {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("video %s: %w (status %s, stage %q)", id, ctx.Err(), v.Status, v.Stage)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
