package origin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/live"
	"github.com/streamfront/streamfront/packager/transcode"
)

// withLiveLadder gives the worker a one-rung ladder (180p), cheap to
// encode on a shared machine.
func withLiveLadder(c *origin.Config, w *origin.WorkerConfig) {
	w.Ladder = []transcode.Rung{{Name: "180p", ShortSide: 180, VideoBitrate: 200_000}}
	w.LivePreset, w.Threads = "ultrafast", 1
}

// The acceptance of a live ladder at the origin: a stream asks for a
// ladder, ffmpeg broadcasts 640x360, a worker takes the live-ladder job
// (seen in the queue's workers) and publishes a 180p rung; the
// multivariant playlist lists the source and the rung, 10 s of the rung's
// playlist decode without an error, and the rung's program date-times
// follow the source's (the lag is logged). When the broadcast ends the
// job ends and the worker's slot is free.
func TestLive_LadderRungPlaysBesideTheSource(t *testing.T) {
	b := startBackend(t)
	base := startOriginOn(t, b, 0, withLive(t), withLiveLadder).URL

	code, ls, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"title": "Ladder", "ladder": true}`)
	if code != http.StatusCreated || !strings.Contains(body, `"ladder":true`) {
		t.Fatalf("create: %d %s", code, body)
	}
	// PATCH turns it off and on again.
	if code, _, body := liveCall(t, http.MethodPatch, base+"/api/v1/live/"+ls.ID, `{"ladder": false}`); code != http.StatusOK || !strings.Contains(body, `"ladder":false`) {
		t.Fatalf("patch ladder off: %d %s", code, body)
	}
	if code, _, body := liveCall(t, http.MethodPatch, base+"/api/v1/live/"+ls.ID, `{"ladder": true}`); code != http.StatusOK || !strings.Contains(body, `"ladder":true`) {
		t.Fatalf("patch ladder on: %d %s", code, body)
	}

	enc, encErr := pushLive(t, ls.RTMPURL, 40, h264AAC...)
	waitLive(t, base, ls.ID, "live", 30*time.Second, func(l liveStream) bool { return l.Status == "live" })

	master := testenv.WaitBody(t, ls.HLSURL, 60*time.Second, "a rung in the multivariant playlist", func(b string) bool {
		return strings.Contains(b, "180p/video1_stream.m3u8")
	})
	t.Logf("multivariant playlist:\n%s", master)
	parsed, err := playlist.Unmarshal([]byte(master))
	if err != nil {
		t.Fatal(err)
	}
	mv := parsed.(*playlist.Multivariant)
	if len(mv.Variants) != 2 || mv.Variants[0].URI != "video1_stream.m3u8" || mv.Variants[1].Resolution != "320x180" {
		t.Fatalf("want the source then the 180p rung:\n%s", master)
	}

	// The stream shows its rung; the queue shows the worker encoding it.
	var view struct {
		Rungs []string `json:"rungs"`
	}
	_, _, body = liveCall(t, http.MethodGet, base+"/api/v1/live/"+ls.ID, "")
	if err := json.Unmarshal([]byte(body), &view); err != nil || len(view.Rungs) != 1 || view.Rungs[0] != "180p" {
		t.Errorf("stream rungs: %s", body)
	}
	var q struct {
		Workers []struct {
			Name    string `json:"name"`
			Encodes []struct {
				Video string `json:"video"`
				Task  string `json:"task"`
			} `json:"encodes"`
		} `json:"workers"`
	}
	if code := apiCall(t, http.MethodGet, base+"/api/v1/queue", nil, &q); code != http.StatusOK {
		t.Fatalf("queue: %d", code)
	}
	seen := false
	for _, w := range q.Workers {
		for _, e := range w.Encodes {
			seen = seen || (e.Video == ls.ID && e.Task == "live-ladder")
		}
	}
	if !seen {
		t.Errorf("no worker shows the live ladder of %s: %+v", ls.ID, q.Workers)
	}

	source := base + "/videos/" + ls.ID + "/video1_stream.m3u8"
	rung := base + "/videos/" + ls.ID + "/180p/video1_stream.m3u8"
	for range 5 {
		t.Logf("rung lag: %v behind the source (part granularity)", live.PlaylistLag(testenv.MediaPlaylist(t, source), testenv.MediaPlaylist(t, rung)).Round(time.Millisecond))
		time.Sleep(time.Second)
	}
	ffmpeg := testenv.Require(t, "ffmpeg")
	dec := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", rung, "-t", "10", "-f", "null", "-")
	var decErr bytes.Buffer
	dec.Stderr = &decErr
	if err := dec.Run(); err != nil || strings.TrimSpace(decErr.String()) != "" {
		t.Fatalf("decoding the rung's playlist: %v\n%s", err, decErr.String())
	}

	if err := enc.Wait(); err != nil {
		t.Fatalf("ffmpeg broadcasting: %v\n%s", err, encErr)
	}
	waitLive(t, base, ls.ID, "ended", 60*time.Second, func(l liveStream) bool { return l.Status == "ended" })
	// The job ends with the broadcast: nothing of its kind stays in flight.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var qk struct {
			Kinds []struct {
				Kind     string `json:"kind"`
				Waiting  int    `json:"waiting"`
				InFlight int    `json:"in_flight"`
			} `json:"kinds"`
		}
		apiCall(t, http.MethodGet, base+"/api/v1/queue", nil, &qk)
		busy := false
		for _, k := range qk.Kinds {
			busy = busy || (k.Kind == "live-ladder" && k.Waiting+k.InFlight > 0)
		}
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live-ladder job is still queued or in flight 60 s after the broadcast ended: %+v", qk.Kinds)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// A worker killed with SIGKILL while it encodes a live ladder: its
// encoder dies with it (the rung goes off the air), and the queue gives
// the job to another worker once its lease (AckWait) runs out, which puts
// the rung back on the air while the broadcast goes on.
func TestLive_LadderWorkerKilledHandsTheRungOn(t *testing.T) {
	b := startBackend(t)
	bin := testenv.BuildStreamfront(t)
	const ackWait = 3 * time.Second
	o := startOriginOn(t, b, 0, withLive(t), func(c *origin.Config, w *origin.WorkerConfig) {
		c.Queue.AckWait = ackWait
	}, noWorker)
	deployment := filepath.Join(t.TempDir(), "streamfront.yaml")
	if err := os.WriteFile(deployment, []byte("worker:\n  threads: 1\n  live_preset: ultrafast\n"+
		"  ladder:\n    - {name: 180p, short_side: 180, bitrate: 200k}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := testenv.StartWorkerProcess(t, bin, "STREAMFRONT_CONFIG="+deployment,
		"STREAMFRONT_NATS_URL="+b.NATS,
		"STREAMFRONT_JOB_ACK_WAIT="+ackWait.String(),
		"STREAMFRONT_S3_ENDPOINT="+b.Endpoint, "STREAMFRONT_S3_BUCKET=streamfront",
		"STREAMFRONT_S3_ACCESS_KEY="+b.AccessKey, "STREAMFRONT_S3_SECRET_KEY="+b.SecretKey, "STREAMFRONT_S3_PATH_STYLE=true",
		"STREAMFRONT_LOG_LEVEL=info")

	code, ls, body := liveCall(t, http.MethodPost, o.URL+"/api/v1/live", `{"ladder": true}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	enc, encErr := pushLive(t, ls.RTMPURL, 75, h264AAC...)
	api := o.URL + "/api/v1/live/" + ls.ID
	testenv.WaitBody(t, api, 60*time.Second, "the rung on the air", func(b string) bool { return strings.Contains(b, `"rungs":["180p"]`) })

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	testenv.WaitBody(t, api, 30*time.Second, "the rung off the air", func(b string) bool { return strings.Contains(b, `"rungs":[]`) })
	t.Logf("rung off the air %v after its worker was killed", time.Since(killed).Round(100*time.Millisecond))
	startWorker(t, b, func(c *origin.WorkerConfig) {
		withLiveLadder(nil, c)
		c.Queue.AckWait = ackWait
	})
	testenv.WaitBody(t, api, 60*time.Second, "the rung back on the air", func(b string) bool { return strings.Contains(b, `"rungs":["180p"]`) })
	t.Logf("rung back on the air %v after its worker was killed (AckWait %v)", time.Since(killed).Round(100*time.Millisecond), ackWait)
	rung := o.URL + "/videos/" + ls.ID + "/180p/video1_stream.m3u8"
	ffmpeg := testenv.Require(t, "ffmpeg")
	if out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", rung, "-t", "4", "-f", "null", "-").CombinedOutput(); err != nil ||
		strings.TrimSpace(string(out)) != "" {
		t.Fatalf("decoding the rung after the hand-over: %v\n%s", err, out)
	}
	_ = enc.Process.Kill()
	_ = enc.Wait()
	if t.Failed() {
		t.Logf("the broadcasting ffmpeg said: %s", encErr)
	}
}
