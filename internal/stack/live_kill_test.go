package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

// An origin process hosting a broadcast is killed with SIGKILL: the other
// origin (the stack's) ends the broadcast once the dead host's lease runs
// out, says why in the stream's error, and makes the recording from the
// segments the dead host had put in S3; the recording is ready and
// decodes through an edge.
func TestStack_AnOriginKilledMidBroadcast(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	// A short lease, the same on both origins, so the test waits seconds
	// rather than the default 45.
	const leaseTTL = 3500 * time.Millisecond
	d := stack.Local(t.TempDir(), apiKey)
	d.Live.Enabled, d.Live.RTMPAddr = true, "127.0.0.1:0"
	d.Live.ReconnectWindow = config.Duration(time.Second)
	d.Live.HostLeaseTTL = config.Duration(leaseTTL)
	st, err := stack.Start(context.Background(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	// The doomed origin: its own process, the stack's S3 bucket and queue.
	bin := testenv.BuildStreamfront(t)
	dir := t.TempDir()
	rtmpAddr, addr := testenv.FreeLoopbackAddr(t), testenv.FreeLoopbackAddr(t)
	conf := fmt.Sprintf("live:\n  enabled: true\n  rtmp_addr: %s\n  reconnect_window: 1s\n  host_lease_ttl: %s\nworker:\n  ladder: []\n", rtmpAddr, leaseTTL)
	if err := os.WriteFile(filepath.Join(dir, "doomed.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	doomed := testenv.StartProcess(t, bin, "origin",
		"STREAMFRONT_CONFIG="+filepath.Join(dir, "doomed.yaml"), "STREAMFRONT_ADDR="+addr,
		"STREAMFRONT_NATS_URL="+st.NATS.URL(), "STREAMFRONT_S3_ENDPOINT="+st.S3.Endpoint(),
		"STREAMFRONT_S3_BUCKET="+d.S3.Bucket, "STREAMFRONT_S3_ACCESS_KEY="+st.S3.AccessKey(),
		"STREAMFRONT_S3_SECRET_KEY="+st.S3.SecretKey(), "STREAMFRONT_S3_PATH_STYLE=true",
		"STREAMFRONT_WORK_DIR="+dir, "STREAMFRONT_API_KEY="+apiKey, "STREAMFRONT_LOG_LEVEL=warn",
		"STREAMFRONT_MEDIA_URL="+st.RouterURL, "STREAMFRONT_WEB_URL="+st.SiteURL)
	testenv.WaitHealthy(t, "http://"+addr, "the doomed origin")

	ls := createLive(t, st, `{"title": "Killed host"}`)
	// The stream was made through the stack's origin; its key is known to
	// every origin (it is in S3), so the encoder may reach the doomed one.
	_, key, ok := strings.Cut(ls.RTMPURL, "/live/")
	if !ok {
		t.Fatalf("rtmp_url %q has no key", ls.RTMPURL)
	}
	started := time.Now()
	startEncoder(t, ffmpeg, "rtmp://"+rtmpAddr+"/live/"+key, "320x180", 60)
	waitLiveStatus(t, st, ls.ID, "live", 30*time.Second)
	time.Sleep(6 * time.Second) // some segments reach S3

	if err := syscall.Kill(-doomed.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	streamed := killed.Sub(started) // at most; ffmpeg needs a moment to start
	ended := waitLiveStatus(t, st, ls.ID, "ended", 60*time.Second)
	endedIn := time.Since(killed)
	if !strings.Contains(ended.Error, "stopped answering") {
		t.Errorf("the ended stream does not say why: %q", ended.Error)
	}
	deadline := time.Now().Add(90 * time.Second) // a guard against hanging, not a timing assertion
	for ended.VideoID == "" {
		if time.Now().After(deadline) {
			t.Fatal("the broadcast ended without a recording")
		}
		time.Sleep(100 * time.Millisecond)
		ended, _ = getLive(t, st, ls.ID)
	}
	v := testenv.WaitVideo(t, st.WebURL, ended.VideoID, "ready or failed", 2*time.Minute, func(v video) bool {
		return v.Status == "ready" || v.Status == "failed"
	})
	if v.Status != "ready" {
		t.Fatalf("recording %s: %s", v.ID, v.Error)
	}
	t.Logf("killed %.1f s after the encoder started; ended by the other origin %.1f s later (lease %v); recording %.2f s long, ready %.1f s after the kill",
		streamed.Seconds(), endedIn.Seconds(), leaseTTL, v.DurationS, time.Since(killed).Seconds())
	// What reached S3 before the kill: not more than was streamed, and
	// at most the segment being made (and ffmpeg's start) less.
	if v.DurationS > streamed.Seconds()+1 || v.DurationS < 2 {
		t.Errorf("the recording lasts %.2f s; %.1f s were streamed before the kill", v.DurationS, streamed.Seconds())
	}
	if got := testenv.Decode(t, v.HLSURL); got < 2 {
		t.Errorf("the recording's HLS decodes to %.2f s through an edge", got)
	}
}

// createLive creates a live stream through the site's API.
func createLive(t *testing.T, st *stack.Stack, body string) liveStream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.WebURL+"/api/v1/live", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ls liveStream
	if err := json.Unmarshal(raw, &ls); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	return ls
}

// waitLiveStatus waits until the stream's status is want; limit only
// guards against hanging.
func waitLiveStatus(t *testing.T, st *stack.Stack, id, want string, limit time.Duration) liveStream {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got, body := getLive(t, st, id)
		if got.Status == want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream not %s after %v: %s", want, limit, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startEncoder runs ffmpeg pushing a test pattern of size (25 fps, a
// keyframe a second, ultrafast: the machine is shared) and a tone to url
// over RTMP for seconds, in real time; it is killed at cleanup if still
// running. Its errors are in the buffer.
func startEncoder(t *testing.T, ffmpeg, url, size string, seconds int) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	enc := exec.Command(ffmpeg, "-nostdin", "-v", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size="+size+":rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-f", "flv", url)
	var encErr bytes.Buffer
	enc.Stderr = &encErr
	if err := enc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if enc.ProcessState == nil {
			_ = enc.Process.Kill()
			_ = enc.Wait()
		}
	})
	return enc, &encErr
}
