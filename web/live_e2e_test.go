package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

// liveStream is what the live test reads of the API's LiveStream.
type liveStream struct {
	ID      string `json:"id"`
	RTMPURL string `json:"rtmp_url"`
	HLSURL  string `json:"hls_url"`
	PageURL string `json:"page_url"`
	Status  string `json:"status"`
	VideoID string `json:"video_id"`
}

// startLiveStack runs every role with live streaming on, and creates a
// live stream.
func startLiveStack(t *testing.T, apiKey string) (*stack.Stack, liveStream) {
	t.Helper()
	d := stack.Local(t.TempDir(), apiKey)
	d.Local.Workers = 0 // nothing is encoded here
	d.Live.Enabled, d.Live.RTMPAddr = true, "127.0.0.1:0"
	d.Live.ReconnectWindow = config.Duration(2 * time.Second)
	st, err := stack.Start(t.Context(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, st.WebURL+"/api/v1/live",
		strings.NewReader(`{"title": "Live page test", "description": "A test pattern, live.", "dvr_window_s": 600}`))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var ls liveStream
	if err := json.Unmarshal(body, &ls); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create a live stream: HTTP %d %s", res.StatusCode, body)
	}
	return st, ls
}

// pushTestPattern runs ffmpeg -re sending a 640x360 test pattern with a
// tone to url for seconds (a keyframe a second), until the test ends.
func pushTestPattern(t *testing.T, url string, seconds int) *exec.Cmd {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-f", "flv", url)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// waitFor polls get until ok says so; within only guards against hanging.
func waitFor(t *testing.T, what string, within time.Duration, ok func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		done, last := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %v: %s", what, within, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getLive(t *testing.T, st *stack.Stack, id string) (liveStream, string) {
	t.Helper()
	res, err := http.Get(st.WebURL + "/api/v1/live/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var ls liveStream
	_ = json.Unmarshal(b, &ls)
	return ls, string(b)
}

// The live page's acceptance, in Chromium against the real roles: ffmpeg
// broadcasts a test pattern over RTMP; the DVR playlist (recorded
// segments in S3) decodes with ffmpeg through an edge; the live page plays
// in hls.js's low-latency mode with the LIVE badge and the latency shown,
// seeks back into the DVR window, and returns to live. The screenshot is
// web-live.png in $STREAMFRONT_ARTIFACTS (test-artifacts/ under make test).
func TestLivePage_PlaysSeeksBackAndReturnsToLiveInChromium(t *testing.T) {
	requireBrowserTooling(t)
	const apiKey = "live-e2e-key"
	st, ls := startLiveStack(t, apiKey)
	encoder := pushTestPattern(t, ls.RTMPURL, 300)
	waitFor(t, "live", 30*time.Second, func() (bool, string) {
		got, body := getLive(t, st, ls.ID)
		return got.Status == "live", body
	})

	// The DVR playlist, through an edge: it lists what was recorded, so
	// wait for a few segments before decoding it.
	dvr := st.EdgeURLs[0] + "/videos/" + ls.ID + "/dvr.m3u8"
	waitFor(t, "recorded for the DVR", 60*time.Second, func() (bool, string) {
		res, err := http.Get(st.EdgeURLs[0] + "/videos/" + ls.ID + "/dvr/video1.m3u8")
		if err != nil {
			return false, err.Error()
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode == http.StatusOK && bytes.Count(b, []byte("#EXTINF")) >= 6, string(b)
	})
	checkDVRPlaylist(t, st.EdgeURLs[0]+"/videos/"+ls.ID+"/dvr/video1.m3u8")
	if d := decodeLive(t, dvr, 4); d < 3.5 {
		t.Errorf("the DVR playlist decodes to %.2f s through an edge, want 4 s", d)
	}

	dir := testenv.ArtifactDir(t)
	shot := filepath.Join(dir, "web-live.png")
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute) // only a hung browser hits this
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("e2e", "live.mjs"),
		"--url", st.WebURL+"/live/"+ls.ID, "--screenshot", shot, "--timeout-ms", "90000")
	var stdout bytes.Buffer
	// When the page is back at the live edge, the broadcast ends.
	stderr := &markerWriter{marker: "at-live-again", fn: func() { _ = encoder.Process.Kill() }}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	runErr := cmd.Run()
	t.Logf("screenshot: %s\nlive.mjs: %s", shot, stdout.String())
	var res struct {
		OK        bool    `json:"ok"`
		Reason    string  `json:"reason"`
		LowLat    bool    `json:"lowLatencyMode"`
		Badge     bool    `json:"liveBadge"`
		Latency   string  `json:"latency"`
		Advanced  float64 `json:"advanced"`
		DVR       bool    `json:"dvr"`
		BehindDVR float64 `json:"behindInDVR"`
		Back      bool    `json:"backToLive"`
		Recording string  `json:"recordingPage"`
		Failed    []struct {
			URL      string `json:"url"`
			Status   int    `json:"status"`
			AfterEnd bool   `json:"afterEnd"`
		} `json:"failedRequests"`
		ErrorsBeforeEnd int `json:"errorsBeforeEnd"`
		Errors          []struct {
			Source  string `json:"source"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("live.mjs printed no JSON result (%v; exit %v)\nstderr: %s", err, runErr, stderr.String())
	}
	if runErr != nil || !res.OK {
		t.Fatalf("the live page failed: %s (exit %v)\nstderr: %s", res.Reason, runErr, stderr.String())
	}
	if !res.LowLat || !res.Badge || res.Latency == "" || res.Advanced <= 0 {
		t.Errorf("at the live edge: low-latency mode %v, LIVE badge %v, latency %q, currentTime advanced %.2f s",
			res.LowLat, res.Badge, res.Latency, res.Advanced)
	}
	if !res.DVR || res.BehindDVR <= 0 {
		t.Errorf("seeking back: on the DVR playlist %v, %.1f s behind live", res.DVR, res.BehindDVR)
	}
	if !res.Back {
		t.Error("back to live did not return to the low-latency playlist at the live edge")
	}
	ended, body := getLive(t, st, ls.ID)
	if ended.VideoID == "" || res.Recording != "/watch/"+ended.VideoID {
		t.Errorf("after the broadcast the page went to %q; the stream says %s", res.Recording, body)
	}
	// Once the broadcast is over, its live playlists answer 404 (or a
	// blocking reload held when the muxer closed fails) until the player
	// hears of the end: those failed loads are the end, not faults. Any
	// other failed request, and any error before the end, is.
	endLoads := 0
	for _, f := range res.Failed {
		if f.AfterEnd && strings.Contains(f.URL, "/videos/"+ls.ID+"/") && strings.Contains(f.URL, ".m3u8") {
			endLoads++
			continue
		}
		t.Errorf("failed request: HTTP %d %s (after the end: %v)", f.Status, f.URL, f.AfterEnd)
	}
	for i, e := range res.Errors {
		if i >= res.ErrorsBeforeEnd && e.Source == "console" && strings.HasPrefix(e.Message, "Failed to load resource") && endLoads > 0 {
			endLoads--
			continue
		}
		t.Errorf("browser error: %s: %s", e.Source, e.Message)
	}
}

// markerWriter keeps what is written and calls fn once when a line holds
// marker.
type markerWriter struct {
	marker string
	fn     func()
	buf    bytes.Buffer
	done   bool
}

func (w *markerWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.marker) {
		w.done = true
		w.fn()
	}
	return len(p), nil
}

func (w *markerWriter) String() string { return w.buf.String() }

// checkDVRPlaylist reads a DVR media playlist: dated segments, no ENDLIST
// while live.
func checkDVRPlaylist(t *testing.T, url string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	pl := string(b)
	if n, d := strings.Count(pl, "#EXTINF"), strings.Count(pl, "#EXT-X-PROGRAM-DATE-TIME"); n == 0 || n != d {
		t.Errorf("DVR playlist: %d segments, %d dated, want every one dated:\n%s", n, d, pl)
	}
	if strings.Contains(pl, "#EXT-X-ENDLIST") {
		t.Errorf("DVR playlist of a live broadcast ends:\n%s", pl)
	}
	if res.Header.Get("X-Edge") == "" {
		t.Errorf("DVR playlist not from an edge: %v", res.Header)
	}
}

// decodeLive decodes seconds of a live URL with ffmpeg from its first
// segment, which must log no error; it returns the seconds decoded.
func decodeLive(t *testing.T, url string, seconds int) float64 {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-live_start_index", "0", "-i", url,
		"-t", strconv.Itoa(seconds), "-f", "null", "-progress", "pipe:1", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg on %s: %v\n%s", url, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("ffmpeg reported errors decoding %s:\n%s", url, s)
	}
	last := 0.0
	for line := range strings.Lines(stdout.String()) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "out_time_us="); ok {
			if us, err := strconv.ParseFloat(v, 64); err == nil {
				last = us / 1e6
			}
		}
	}
	return last
}
