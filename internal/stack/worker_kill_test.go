package stack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

// A worker process killed with SIGKILL mid-ladder: no rendition of the
// killed run is ever in the master, another worker process finishes the
// job once its lease runs out, every rendition is cut at the same
// instants (what lets hls.js switch without a stall; the corpus switches
// levels in Chromium) and decodes through an edge, and the watch page
// plays in Chromium.
func TestStack_WorkerKilledMidEncode(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	const ackWait = 3 * time.Second
	d := stack.Local(t.TempDir(), apiKey)
	d.Queue.AckWait = config.Duration(ackWait)
	st, err := stack.Start(context.Background(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	st.WorkerStops[0]() // this test's workers are processes of their own
	bin := testenv.BuildStreamfront(t)
	worker := func(name string) *exec.Cmd {
		return testenv.StartWorkerProcess(t, bin, "STREAMFRONT_WORKER_NAME="+name,
			"STREAMFRONT_NATS_URL="+st.NATS.URL(), "STREAMFRONT_JOB_ACK_WAIT="+ackWait.String(),
			"STREAMFRONT_S3_ENDPOINT="+st.S3.Endpoint(), "STREAMFRONT_S3_BUCKET=streamfront",
			"STREAMFRONT_S3_ACCESS_KEY="+st.S3.AccessKey(), "STREAMFRONT_S3_SECRET_KEY="+st.S3.SecretKey(),
			"STREAMFRONT_S3_PATH_STYLE=true", "STREAMFRONT_THREADS=1", "STREAMFRONT_LOG_LEVEL=warn")
	}
	doomed := worker("doomed")

	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "kill.mp4", Seconds: 12, Width: 1280, Height: 720})
	code, v, body := uploadRaw(t, st.WebURL, src)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var p struct {
			Stage   string  `json:"stage"`
			Percent float64 `json:"percent"`
		}
		_, b := get(t, st.WebURL+"/api/v1/videos/"+v.ID, nil)
		_ = json.Unmarshal(b, &p)
		if p.Stage == "encoding renditions" { // a worker took the job and runs ffmpeg
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ladder never started (stage %q)", p.Stage)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(-doomed.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, master := get(t, st.EdgeURLs[0]+"/videos/"+v.ID+"/master.m3u8", nil)
	if strings.Contains(string(master), "480p") || strings.Contains(string(master), "360p") {
		t.Fatalf("a rendition of the killed encode is in the master:\n%s", master)
	}
	worker("survivor")
	done := waitComplete(t, st.WebURL, v.ID)
	if done.Status != "ready" || len(done.Renditions) != 3 {
		t.Fatalf("ended %s (%s) with %+v, want src, 480p and 360p", done.Status, done.Error, done.Renditions)
	}
	var cuts []string
	for _, r := range done.Renditions {
		u := st.EdgeURLs[0] + "/videos/" + v.ID + "/hls/" + r.Name + "/video.m3u8"
		_, body := get(t, u, nil)
		var durations []string
		for _, line := range strings.Split(string(body), "\n") {
			if d, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
				durations = append(durations, d)
			}
		}
		cuts = append(cuts, strings.Join(durations, " "))
		if d := testenv.Decode(t, u); d < 11.9 || d > 12.1 {
			t.Errorf("rendition %s decodes to %.3f s through the edge, want 12", r.Name, d)
		}
	}
	for i := range cuts {
		if cuts[i] != cuts[0] {
			t.Errorf("rendition %s is cut at %q, %s at %q: not aligned", done.Renditions[i].Name, cuts[i], done.Renditions[0].Name, cuts[0])
		}
	}
	playPage(t, done, "killed-worker-") // switching: see the doc comment
}
