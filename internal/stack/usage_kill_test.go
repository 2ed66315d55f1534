package stack_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

// An edge process killed with SIGKILL loses at most the counts of its last
// reporting interval, and its usage never says more than its clients
// received: what it sent more than an interval before the kill is all
// there, what it sent just before may be missing.
func TestStack_UsageOfAnEdgeKilledIsShortByAtMostOneInterval(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	const interval = time.Second
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: stack.Local(t.TempDir(), apiKey), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	bin := testenv.BuildStreamfront(t)
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "killed-edge.mp4", Seconds: 8})
	v := uploadMultipart(t, st.WebURL, src, "Killed edge")
	v = waitReady(t, st.WebURL, v.ID)

	edgeURL, edgeProc := startEdgeProcess(t, bin, "edge-k",
		"STREAMFRONT_ORIGIN_URL="+st.OriginURL, "STREAMFRONT_EDGE_SECRET="+st.EdgeSecret,
		"STREAMFRONT_NATS_URL="+st.NATS.URL(), "STREAMFRONT_USAGE_INTERVAL="+interval.String())
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true}}
	var sent received
	batch := func() received {
		var b received
		for _, p := range []string{"master.m3u8", "hls/src/video.m3u8", "hls/src/video/0.m4s", "hls/src/video/1.m4s"} {
			resp, err := client.Get(edgeURL + "/videos/" + v.ID + "/" + p)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %v", p, resp.StatusCode, err)
			}
			b.requests++
			b.bytes += n
		}
		sent.requests += b.requests
		sent.bytes += b.bytes
		return b
	}

	// What was sent, then reported: the edge flushes within an interval.
	batch()
	batch()
	waitUsage(t, st, v.ID, map[string]*received{"edge-k": {sent.requests, sent.bytes}})
	before := sent

	// Sent within the last interval, then killed.
	last := batch()
	if err := syscall.Kill(-edgeProc.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = edgeProc.Wait()
	// Anything it flushed before dying reaches the API within a few
	// intervals; wait that long, then judge.
	time.Sleep(5 * interval)
	got := queryUsage(t, st, v.ID)["edge-k"]
	t.Logf("killed edge: usage %d requests, %d bytes; sent %d requests, %d bytes (the last %d requests, %d bytes within its last interval)",
		got.Requests, got.BytesOut, sent.requests, sent.bytes, last.requests, last.bytes)
	if got.Requests < before.requests || got.BytesOut < before.bytes {
		t.Errorf("usage %d requests, %d bytes: less than what was sent more than an interval before the kill (%d, %d)",
			got.Requests, got.BytesOut, before.requests, before.bytes)
	}
	if got.Requests > sent.requests || got.BytesOut > sent.bytes {
		t.Errorf("usage %d requests, %d bytes: more than the clients received (%d, %d)", got.Requests, got.BytesOut, sent.requests, sent.bytes)
	}
}

// startEdgeProcess runs `streamfront edge` (bin) as its own process group
// on a free loopback port, with env added, and waits until it is healthy.
// The test may SIGKILL the group; it is killed at cleanup anyway.
func startEdgeProcess(t *testing.T, bin, name string, env ...string) (string, *exec.Cmd) {
	t.Helper()
	addr := testenv.FreeLoopbackAddr(t)
	cmd := testenv.StartProcess(t, bin, "edge",
		append([]string{"STREAMFRONT_EDGE_NAME=" + name, "STREAMFRONT_ADDR=" + addr, "STREAMFRONT_LOG_LEVEL=warn"}, env...)...)
	base := "http://" + addr
	testenv.WaitHealthy(t, base, "edge "+name)
	return base, cmd
}
