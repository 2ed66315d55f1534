package origin_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/transcode"
)

// tinyLadder keeps encodes short in tests.
var tinyLadder = []transcode.Rung{{Name: "180p", ShortSide: 180, VideoBitrate: 200_000}}

// ffmpegWrapper is an ffmpeg for workers that logs every run (its video's
// source key) to log and, while the file hold exists, waits before it
// starts: an encoder held on purpose.
func ffmpegWrapper(t *testing.T, log, hold string) string {
	t.Helper()
	real := testenv.Require(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "ffmpeg")
	script := fmt.Sprintf(`#!/bin/sh
for a in "$@"; do case "$a" in *sources/*) echo "$a" | sed 's|.*sources/\([^?]*\).*|\1|' >> %q;; esac; done
while [ -e %q ]; do sleep 0.05; done
exec %q "$@"
`, log, hold, real)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// encodeStarts counts the encodes logged by ffmpegWrapper, per video.
func encodeStarts(t *testing.T, log string) map[string]int {
	t.Helper()
	f, err := os.Open(log)
	if os.IsNotExist(err) {
		return map[string]int{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n[strings.TrimSpace(sc.Text())]++
	}
	return n
}

// Making an upload playable never waits for the encode pool: with the
// only worker's only slot held by an encode that cannot go on, a new
// H.264 MP4 upload still becomes ready, its ladder waiting in line.
func TestPipeline_ReadyNeverWaitsForTheEncodePool(t *testing.T) {
	b := startBackend(t)
	dir := t.TempDir()
	hold, log := filepath.Join(dir, "hold"), filepath.Join(dir, "encodes.log")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o := startOriginOn(t, b, 0, withWorker(func(c *origin.WorkerConfig) {
		c.FFmpeg, c.Ladder, c.MaxEncodes = ffmpegWrapper(t, log, hold), tinyLadder, 1
	}))
	first := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 4})
	_, busy, _ := upload(t, o.URL, first, "")
	waitFor(t, o.URL, busy.ID, "its encode to be held", func(progressVideo) bool { return encodeStarts(t, log)[busy.ID] == 1 })

	second := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 3, Width: 320, Height: 240})
	code, v, body := upload(t, o.URL, second, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	ready := waitFor(t, o.URL, v.ID, "ready", func(p progressVideo) bool { return p.Status == "ready" || p.Status == "failed" })
	if ready.Status != "ready" {
		t.Fatalf("ended %s: %s", ready.Status, ready.Error)
	}
	if n := encodeStarts(t, log); n[busy.ID] != 1 || n[v.ID] != 0 {
		t.Fatalf("encodes started %v: the pool should still be held by the first video only", n)
	}
	if busyNow, _ := getVideo(t, o.URL, busy.ID); busyNow.Stage == "" {
		t.Fatalf("the held video is complete (%+v): the test did not hold the pool", busyNow)
	}
	// Its ladder waits behind the held encode (the place is recorded just
	// after ready).
	waitFor(t, o.URL, v.ID, "its ladder to wait at place 1", func(p progressVideo) bool { return p.QueuePosition == 1 })
	if d := testenv.Decode(t, ready.HLSURL); d < 2.9 || d > 3.1 {
		t.Errorf("decodes to %.3f s, want 3", d)
	}
	// The queue as /metrics shows it: one ladder encoding, one waiting.
	resp, err := http.Get(o.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`streamfront_queue_jobs{kind="encode-ladder",state="in_flight"} 1`,
		`streamfront_queue_jobs{kind="encode-ladder",state="waiting"} 1`,
		`streamfront_queue_jobs{kind="package",state="waiting"} 0`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The same through the queue API, with the videos behind the numbers.
	var q struct {
		Kinds []struct {
			Kind     string
			Waiting  int
			InFlight int `json:"in_flight"`
		}
		Jobs []struct {
			Video, Stage, Kind string
			QueuePosition      int        `json:"queue_position"`
			StartedAt          *time.Time `json:"started_at"`
			Worker             string
		}
		Workers []struct {
			Name       string
			MaxEncodes int `json:"max_encodes"`
			Encodes    []struct{ Video, Task string }
		}
		ScanComplete bool `json:"scan_complete"`
	}
	if code := apiDo(t, http.MethodGet, o.URL+"/api/v1/queue", "", &q); code != http.StatusOK || !q.ScanComplete {
		t.Fatalf("GET /api/v1/queue: %d %+v", code, q)
	}
	for _, k := range q.Kinds {
		if k.Kind == "encode-ladder" && (k.Waiting != 1 || k.InFlight != 1) {
			t.Errorf("the queue API says the ladder has %d waiting, %d in flight; want 1 and 1", k.Waiting, k.InFlight)
		}
	}
	jobs := map[string]int{}
	for i, j := range q.Jobs {
		jobs[j.Video] = i
	}
	if i, ok := jobs[v.ID]; !ok || q.Jobs[i].QueuePosition != 1 || q.Jobs[i].Kind != "encode-ladder" {
		t.Errorf("the queue API lacks the waiting video at place 1: %+v", q.Jobs)
	}
	if i, ok := jobs[busy.ID]; !ok || q.Jobs[i].StartedAt == nil || q.Jobs[i].Stage == "" {
		t.Errorf("the queue API lacks the encoding video with its stage and start: %+v", q.Jobs)
	}
	// The one worker says it is there, with its one slot taken by the held
	// encode.
	if len(q.Workers) != 1 || q.Workers[0].MaxEncodes != 1 || len(q.Workers[0].Encodes) != 1 ||
		q.Workers[0].Encodes[0].Video != busy.ID {
		t.Errorf("the queue API's workers: %+v, want one running %s", q.Workers, busy.ID)
	} else if i := jobs[busy.ID]; q.Jobs[i].Worker != q.Workers[0].Name {
		t.Errorf("the encoding video's worker is %q, want %q", q.Jobs[i].Worker, q.Workers[0].Name)
	}

	os.Remove(hold) // the pool goes on: both complete
	for _, id := range []string{busy.ID, v.ID} {
		done := waitFor(t, o.URL, id, "complete", func(p progressVideo) bool { return p.Status == "ready" && p.Stage == "" })
		if len(done.Renditions) != 2 {
			t.Errorf("%s has renditions %+v, want src and 180p", id, done.Renditions)
		}
	}
}

// Two origins, three workers, one bucket and one queue: ten uploads all
// complete, and each video's encode ran exactly once.
func TestPipeline_TwoOriginsThreeWorkersEncodeEachVideoOnce(t *testing.T) {
	b := startBackend(t)
	log := filepath.Join(t.TempDir(), "encodes.log")
	ffmpeg := ffmpegWrapper(t, log, filepath.Join(t.TempDir(), "no-hold"))
	worker := withWorker(func(c *origin.WorkerConfig) { c.FFmpeg, c.Ladder = ffmpeg, tinyLadder })
	origins := []*runningOrigin{startOriginOn(t, b, 0, worker), startOriginOn(t, b, 0, worker)}
	startWorker(t, b, func(c *origin.WorkerConfig) { c.FFmpeg, c.Ladder = ffmpeg, tinyLadder })
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 2, Width: 320, Height: 240})

	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, v, body := upload(t, origins[i%2].URL, src, "")
			if code != http.StatusCreated {
				t.Errorf("upload %d: %d %s", i, code, body)
			}
			ids[i] = v.ID
		}()
	}
	wg.Wait()
	for i, id := range ids {
		done := waitFor(t, origins[(i+1)%2].URL, id, "complete", func(p progressVideo) bool {
			return p.Status == "failed" || p.Status == "ready" && p.Stage == ""
		})
		if done.Status != "ready" || len(done.Renditions) != 2 {
			t.Errorf("video %d ended %s (%s) with %d renditions, want ready with src and 180p", i, done.Status, done.Error, len(done.Renditions))
		}
	}
	st, err := store.New(s3Config(b.S3))
	if err != nil {
		t.Fatal(err)
	}
	starts := encodeStarts(t, log)
	for i, id := range ids {
		if starts[id] != 1 {
			t.Errorf("video %d was encoded %d times, want once", i, starts[id])
		}
		keys, _, err := st.ListPage(context.Background(), "videos/"+id+"/r/", "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 4 { // src.head (moov at end) + src.idx + 180p.mp4 + 180p.idx
			t.Errorf("video %d has stored renditions %v", i, keys)
		}
	}
}

// startWorker runs one more encoding worker until the test ends.
func startWorker(t *testing.T, b *backend, mutate func(*origin.WorkerConfig)) {
	t.Helper()
	wc := origin.WorkerConfig{Addr: "-", S3: s3Config(b.S3), Queue: queue.Config{URL: b.NATS},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mutate != nil {
		mutate(&wc)
	}
	w, err := origin.NewWorker(wc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// A worker killed with SIGKILL mid-encode: the queue gives its job to
// another worker once the job's lease (AckWait) runs out, the video
// completes with correct renditions, and no rendition of the killed run
// was ever listed.
func TestPipeline_WorkerKilledMidEncodeJobFinishesElsewhere(t *testing.T) {
	b := startBackend(t)
	bin := testenv.BuildStreamfront(t)
	const ackWait = 3 * time.Second
	o := startOriginOn(t, b, 0, func(c *origin.Config, w *origin.WorkerConfig) {
		c.Queue.AckWait = ackWait
		w.Queue.AckWait = ackWait
	}, noWorker)
	// A small ladder, so the killed worker is mid-encode for a while
	// without loading the machine.
	conf := filepath.Join(t.TempDir(), "worker.yaml")
	if err := os.WriteFile(conf, []byte("worker:\n  ladder:\n    - {name: 360p, short_side: 360, bitrate: 600k}\n    - {name: 240p, short_side: 240, bitrate: 300k}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := testenv.StartWorkerProcess(t, bin, "STREAMFRONT_CONFIG="+conf,
		"STREAMFRONT_NATS_URL="+b.NATS,
		"STREAMFRONT_JOB_ACK_WAIT="+ackWait.String(),
		"STREAMFRONT_S3_ENDPOINT="+b.Endpoint, "STREAMFRONT_S3_BUCKET=streamfront",
		"STREAMFRONT_S3_ACCESS_KEY="+b.AccessKey, "STREAMFRONT_S3_SECRET_KEY="+b.SecretKey, "STREAMFRONT_S3_PATH_STYLE=true",
		"STREAMFRONT_THREADS=1", "STREAMFRONT_LOG_LEVEL=info")

	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 24, Width: 960, Height: 540})
	code, v, body := upload(t, o.URL, src, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitFor(t, o.URL, v.ID, "the encode to start", func(p progressVideo) bool {
		if p.Status == "failed" {
			t.Fatalf("failed before the kill: %s", p.Error)
		}
		return p.Stage == "encoding renditions" // a worker took the job and runs ffmpeg
	})
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	mid, _ := getVideo(t, o.URL, v.ID)
	if len(mid.Renditions) != 1 {
		t.Fatalf("renditions listed mid-encode: %+v, want src only", mid.Renditions)
	}
	startWorker(t, b, func(c *origin.WorkerConfig) { c.Queue.AckWait, c.Ladder = ackWait, tinyLadder })
	done := waitFor(t, o.URL, v.ID, "complete", func(p progressVideo) bool {
		return p.Status == "failed" || p.Status == "ready" && p.Stage == ""
	})
	if done.Status != "ready" || len(done.Renditions) < 2 {
		t.Fatalf("ended %s (%s) with renditions %+v", done.Status, done.Error, done.Renditions)
	}
	for _, r := range done.Renditions {
		u := strings.TrimSuffix(done.HLSURL, "master.m3u8") + "hls/" + r.Name + "/video.m3u8"
		if d := testenv.Decode(t, u); d < 23.9 || d > 24.1 {
			t.Errorf("rendition %s decodes to %.3f s, want 24", r.Name, d)
		}
	}
}

// noWorker starts the origin without a worker of its own.
func noWorker(_ *origin.Config, w *origin.WorkerConfig) { w.MaxEncodes = -1 }

// A source no browser decodes and that cannot be remuxed (H.264 4:4:4) is
// encoded whole: it plays from its first rendition, and its ladder follows
// that rendition to the end with no quality missing. (The ladder job used
// to require a "src" rendition such a source never has, and failed three
// times: "Only some qualities could be made".)
func TestPipeline_AWholeTranscodeGetsItsLadder(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	base, _ := startOrigin(t)
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "444.mp4", Seconds: 4, Width: 1280, Height: 720, Extra: []string{"-pix_fmt", "yuv444p", "-profile:v", "high444"}})
	code, v, body := upload(t, base, src, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	type complete struct {
		Status     string `json:"status"`
		Stage      string `json:"stage"`
		Error      string `json:"error"`
		Renditions []struct {
			Name string `json:"name"`
		} `json:"renditions"`
	}
	got := testenv.WaitVideo(t, base, v.ID, "complete or failed", 3*time.Minute, func(v complete) bool {
		return v.Status == "failed" || (v.Status == "ready" && v.Stage == "")
	})
	if got.Status != "ready" || got.Error != "" {
		t.Fatalf("status %s, error %q; want ready with every quality", got.Status, got.Error)
	}
	if len(got.Renditions) < 2 {
		t.Errorf("renditions %+v: want the first encode and at least one rung below it", got.Renditions)
	}
}
