package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/player"
)

// TestWatch_PlaysInChromium loads a real watch page in Debian's Chromium
// with the player's own e2e script: the server-rendered page, its Content
// Security Policy, the player mounted from /player/ and hls.js fetching a
// stream from another origin (as from an edge) must all work together.
func TestWatch_PlaysInChromium(t *testing.T) {
	requirePlayerTooling(t)

	// The media host stands in for an edge: another origin, with CORS.
	media := t.TempDir()
	makeTestStream(t, media)
	files := http.FileServer(http.Dir(media))
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(edge.Close)

	v := readyVideo("e2e0000000000001", fixtureTime(0))
	v.Title = "Test pattern </script>"
	v.HLSURL = edge.URL + "/hls/master.m3u8"
	v.MP4URL = edge.URL + "/clip.mp4"
	v.ThumbnailURL = edge.URL + "/poster.jpg"
	v.Width, v.Height, v.DurationS = 640, 360, 12
	site := startSite(t, newTestSite(t, startAPI(t, []video{v}, nil)))

	shotDir := os.Getenv("STREAMFRONT_ARTIFACTS")
	if shotDir == "" {
		shotDir = t.TempDir()
	} else if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(shotDir, "web-watch.png")

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute) // only a hung browser hits this
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("..", "player", "e2e", "play.mjs"),
		"--url", site+"/watch/"+v.ID, "--screenshot", shot, "--switch-levels", "--timeout-ms", "90000")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	t.Logf("screenshot: %s\nplay.mjs: %s", shot, stdout.String())

	var res struct {
		OK     bool   `json:"ok"`
		Reason string `json:"reason"`
		Engine string `json:"engine"`
		Levels []struct {
			Height int `json:"height"`
		} `json:"levels"`
		Errors []struct {
			Source  string `json:"source"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("play.mjs printed no JSON result (%v; exit %v)\nstderr: %s", err, runErr, stderr.String())
	}
	if runErr != nil || !res.OK {
		t.Fatalf("the watch page did not play: %s (exit %v)\nstderr: %s", res.Reason, runErr, stderr.String())
	}
	if res.Engine != "hls.js" || len(res.Levels) != 2 {
		t.Errorf("engine %q with %d levels, want hls.js with 2", res.Engine, len(res.Levels))
	}
	for _, e := range res.Errors {
		// The poster does not exist; every other console error is a fault.
		if strings.Contains(e.Message, "Content Security Policy") || (e.Source != "console" || !strings.Contains(e.Message, "404")) {
			t.Errorf("browser error: %s: %s", e.Source, e.Message)
		}
	}
}

// requirePlayerTooling fails (never skips) when what the browser test
// needs is missing, saying how to get it.
func requirePlayerTooling(t *testing.T) {
	t.Helper()
	assets, err := player.New()
	if err != nil {
		t.Fatal(err)
	}
	if !assets.Built() {
		t.Fatal("the player is not built into this test binary: run `make build` (or `cd player && npm ci && npm run build`) before `go test ./web/...`")
	}
	if _, err := os.Stat(filepath.Join("..", "player", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatal("player/node_modules is not installed, so player/e2e/play.mjs cannot drive Chromium: run `make build` (or `cd player && npm ci`)")
	}
	for _, tool := range []string{"node", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH; the browser test of the watch page needs it", tool)
		}
	}
}

// makeTestStream writes dir/hls/master.m3u8 (fMP4 HLS, 640x360 and 320x180)
// and dir/clip.mp4: 12 s of test pattern and tone, a keyframe every 2 s.
func makeTestStream(t *testing.T, dir string) {
	t.Helper()
	source := []string{
		"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "12",
	}
	h264 := []string{"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0"}
	hls := append(append([]string{}, source...),
		"-filter_complex", "[0:v]split=2[big][small0];[small0]scale=320:180[small]",
		"-map", "[big]", "-map", "[small]", "-map", "1:a", "-map", "1:a")
	hls = append(hls, h264...)
	hls = append(hls,
		"-b:v:0", "800k", "-b:v:1", "300k", "-c:a", "aac", "-b:a", "96k", "-ac", "2",
		"-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
		"-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
		"-hls_segment_filename", filepath.Join(dir, "hls", "v%v", "seg%03d.m4s"),
		"-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
		filepath.Join(dir, "hls", "v%v", "index.m3u8"))
	mp4 := append(append(append([]string{}, source...), h264...), "-c:a", "aac", "-movflags", "+faststart", filepath.Join(dir, "clip.mp4"))
	for _, args := range [][]string{hls, mp4} {
		if out, err := exec.CommandContext(t.Context(), "ffmpeg", args...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
	}
}
