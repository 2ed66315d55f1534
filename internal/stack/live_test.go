package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

type liveStream struct {
	ID      string `json:"id"`
	RTMPURL string `json:"rtmp_url"`
	HLSURL  string `json:"hls_url"`
	Status  string `json:"status"`
	Error   string `json:"error"`
	VideoID string `json:"video_id"`
}

// getLive reads a live stream through the site's API proxy.
func getLive(t *testing.T, st *stack.Stack, id string) (liveStream, string) {
	t.Helper()
	resp, err := http.Get(st.WebURL + "/api/v1/live/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ls liveStream
	_ = json.Unmarshal(b, &ls)
	return ls, string(b)
}

// The whole way: ffmpeg broadcasts to the rtmp_url the API gives, a
// viewer decodes the hls_url through the router and an edge, and after
// the reconnect window the recording is a ready video as long as the
// broadcast.
func TestStack_LiveBroadcastThroughAnEdgeBecomesAVideo(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	d := stack.Local(t.TempDir(), apiKey)
	d.Live.Enabled, d.Live.RTMPAddr = true, "127.0.0.1:0"
	d.Live.ReconnectWindow = config.Duration(2 * time.Second)
	st, err := stack.Start(context.Background(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("stack shut down with error: %v", err)
		}
	})
	if !strings.HasPrefix(st.RTMPURL, "rtmp://127.0.0.1:") {
		t.Fatalf("stack RTMPURL %q", st.RTMPURL)
	}

	ls := createLive(t, st, `{"title": "Stack live"}`)
	if !strings.HasPrefix(ls.HLSURL, st.RouterURL+"/videos/") {
		t.Fatalf("hls_url %q is not through the router %s", ls.HLSURL, st.RouterURL)
	}

	const seconds = 16
	enc := exec.Command(ffmpeg, "-nostdin", "-v", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-f", "flv", ls.RTMPURL)
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
	deadline := time.Now().Add(30 * time.Second) // a guard against hanging, not a timing assertion
	for {
		got, body := getLive(t, st, ls.ID)
		if got.Status == "live" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not live: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// 10 s through the router (steered master) and an edge.
	dec := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", ls.HLSURL, "-t", "10", "-f", "null", "-")
	var decErr bytes.Buffer
	dec.Stderr = &decErr
	if err := dec.Run(); err != nil {
		t.Fatalf("decoding the live hls_url through an edge: %v\n%s", err, decErr.String())
	}
	for line := range strings.Lines(decErr.String()) {
		// Not a decoding error: see testenv.Decode.
		if !strings.Contains(line, "Cannot reuse HTTP connection for different host") {
			t.Fatalf("ffmpeg reported errors decoding the live hls_url through an edge:\n%s", decErr.String())
		}
	}
	// The steered master sends players to the edges, which serve the
	// live playlists (short-lived) from the origin.
	resp, err := http.Get(st.EdgeURLs[0] + "/videos/" + ls.ID + "/video1_stream.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Edge") == "" || !bytes.Contains(pl, []byte("#EXT-X-PART:")) {
		t.Fatalf("live media playlist from an edge: %d, X-Edge %q, Cache-Control %q:\n%s", resp.StatusCode,
			resp.Header.Get("X-Edge"), resp.Header.Get("Cache-Control"), pl)
	}

	if err := enc.Wait(); err != nil {
		t.Fatalf("ffmpeg broadcasting: %v\n%s", err, encErr.String())
	}
	deadline = time.Now().Add(60 * time.Second)
	var ended liveStream
	for {
		got, body := getLive(t, st, ls.ID)
		if got.Status == "ended" && got.VideoID != "" {
			ended = got
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ended with a recording: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	v := testenv.WaitVideo(t, st.WebURL, ended.VideoID, "ready or failed", 120*time.Second, func(v video) bool {
		return v.Status == "ready" || v.Status == "failed"
	})
	if v.Status != "ready" {
		t.Fatalf("recording %s: %s", v.ID, v.Error)
	}
	t.Logf("recording %s: %.3f s for %d s streamed", v.ID, v.DurationS, seconds)
	if math.Abs(v.DurationS-seconds) > 1 {
		t.Errorf("recording lasts %.2f s, %d s were streamed", v.DurationS, seconds)
	}
	if d := testenv.Decode(t, v.HLSURL); math.Abs(d-seconds) > 1 {
		t.Errorf("the recording's HLS decodes to %.2f s through an edge, %d s were streamed", d, seconds)
	}
}
