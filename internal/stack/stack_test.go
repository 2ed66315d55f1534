package stack_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/urlsign"
)

const apiKey = "e2e-key"

type video struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	Error     string  `json:"error"`
	DurationS float64 `json:"duration_s"`
	HLSURL    string  `json:"hls_url"`
	MP4URL    string  `json:"mp4_url"`
	PageURL   string  `json:"page_url"`
}

func startStack(t *testing.T) *stack.Stack {
	t.Helper()
	testenv.Require(t, "ffmpeg")
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: stack.Local(t.TempDir(), apiKey),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("stack shut down with error: %v", err)
		}
	})
	return st
}

// uploadMultipart posts a file through the web site's /api proxy, as the
// upload page does.
func uploadMultipart(t *testing.T, base, path, title string) video {
	t.Helper()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	_ = form.WriteField("title", title)
	_ = form.WriteField("tags", "e2e, test")
	part, _ := form.CreateFormFile("file", filepath.Base(path))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(data)
	_ = form.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/videos", &body)
	req.Header.Set("Content-Type", form.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %s %s", resp.Status, raw)
	}
	var v video
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// waitReady follows the video's Server-Sent Events until it is ready.
func waitReady(t *testing.T, base, id string) video {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/videos/"+id+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("events: Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Video  video  `json:"video"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("bad event %q: %v", data, err)
		}
		switch ev.Status {
		case "ready":
			return ev.Video
		case "failed":
			t.Fatalf("video failed: %s", ev.Error)
		}
	}
	t.Fatalf("event stream ended before ready: %v", sc.Err())
	return video{}
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// originSegmentFetches reads the origin's own count of segment requests.
func originSegmentFetches(t *testing.T, originURL string) int {
	t.Helper()
	_, body := get(t, originURL+"/metrics", nil)
	total := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, `streamfront_origin_requests_total{code="200",route="/videos/{id}/hls/{rendition}/{kind}/{file}"}`) {
			n, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			total += int(n)
		}
	}
	return total
}

// TestStack_UploadPackageDeliverPlay is the walking skeleton's acceptance:
// an H.264 High (B-frames) + AAC MP4 with its moov at the end goes in
// through the site's API and comes out through the edges, judged by ffmpeg
// and by Chromium.
func TestStack_UploadPackageDeliverPlay(t *testing.T) {
	st := startStack(t)
	const seconds = 20.0
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "bframes.mp4", Seconds: seconds, Width: 1280, Height: 720, Profile: "high"})

	v := uploadMultipart(t, st.WebURL, src, "End to end")
	v = waitReady(t, st.WebURL, v.ID)
	if !strings.HasPrefix(v.HLSURL, st.RouterURL) || !strings.HasPrefix(v.MP4URL, st.RouterURL) {
		t.Fatalf("media URLs should point at the router: %s %s", v.HLSURL, v.MP4URL)
	}

	segment := func(edge string, n int) string {
		return fmt.Sprintf("%s/videos/%s/hls/src/video/%d.m4s", edge, v.ID, n)
	}

	t.Run("second fetch is a hit", func(t *testing.T) {
		url := segment(st.EdgeURLs[1], 1)
		first, body1 := get(t, url, nil)
		second, body2 := get(t, url, nil)
		if !strings.HasPrefix(first.Header.Get("X-Cache"), "Miss") || !strings.HasPrefix(second.Header.Get("X-Cache"), "Hit") {
			t.Fatalf("X-Cache: first %q, second %q", first.Header.Get("X-Cache"), second.Header.Get("X-Cache"))
		}
		if second.Header.Get("X-Edge") != "edge-2" || second.Header.Get("Age") == "" {
			t.Fatalf("missing X-Edge/Age: %v", second.Header)
		}
		if !bytes.Equal(body1, body2) {
			t.Fatal("hit differs from miss")
		}
	})

	t.Run("200 concurrent misses make one origin fetch", func(t *testing.T) {
		url := segment(st.EdgeURLs[1], 2)
		before := originSegmentFetches(t, st.OriginURL)
		var wg sync.WaitGroup
		bodies := make([][]byte, 200)
		errs := make(chan error, 200)
		for i := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Get(url)
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				bodies[i], err = io.ReadAll(resp.Body)
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %s", resp.Status)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := originSegmentFetches(t, st.OriginURL) - before; got != 1 {
			t.Fatalf("origin served %d fetches for one segment, want 1", got)
		}
		for i := range bodies {
			if !bytes.Equal(bodies[i], bodies[0]) || len(bodies[0]) == 0 {
				t.Fatalf("response %d differs", i)
			}
		}
	})

	// After the cache checks above: ffmpeg loads every pathway's playlists
	// of the router's steered master, so it warms both edges.
	t.Run("ffmpeg decodes HLS and MP4 through the router and the edges", func(t *testing.T) {
		for _, u := range []string{v.HLSURL, v.MP4URL} {
			if d := testenv.Decode(t, u); d < seconds-0.1 || d > seconds+0.1 {
				t.Errorf("%s decodes to %.3f s, source is %.1f s", u, d, seconds)
			}
		}
	})

	t.Run("ffmpeg decodes the MPEG-TS master for old players", func(t *testing.T) {
		ts := strings.Replace(v.HLSURL, "master.m3u8", "master-ts.m3u8", 1)
		if d := testenv.Decode(t, ts); d < seconds-0.1 || d > seconds+0.1 {
			t.Errorf("%s decodes to %.3f s, source is %.1f s", ts, d, seconds)
		}
		_, body := get(t, ts, nil)
		if !strings.Contains(string(body), "#EXT-X-VERSION:3") || !strings.Contains(string(body), "ts.m3u8") {
			t.Errorf("unexpected TS master:\n%s", body)
		}
	})

	t.Run("1000-byte range from the middle of the MP4", func(t *testing.T) {
		// The origin serves media to edges only: sign as one.
		mp4Path := strings.TrimPrefix(v.MP4URL, st.RouterURL)
		_, whole := get(t, st.OriginURL+mp4Path, map[string]string{
			urlsign.RequestHeader: urlsign.RequestSignature([]byte(st.EdgeSecret), http.MethodGet, mp4Path, time.Now()),
		})
		mid := int64(len(whole) / 2)
		resp, got := get(t, v.MP4URL, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", mid, mid+999)})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, whole[mid:mid+1000]) {
			t.Fatalf("status %d, %d bytes, equal %v", resp.StatusCode, len(got), bytes.Equal(got, whole[mid:mid+1000]))
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", mid, mid+999, len(whole)); resp.Header.Get("Content-Range") != want {
			t.Fatalf("Content-Range %q, want %q", resp.Header.Get("Content-Range"), want)
		}
	})

	t.Run("Chromium plays and seeks the watch page", func(t *testing.T) {
		node := testenv.Require(t, "node")
		testenv.Require(t, "chromium")
		root := testenv.RepoRoot(t)
		shot := filepath.Join(testenv.ArtifactDir(t), "watch-"+v.ID+".png")
		cmd := exec.Command(node, filepath.Join(root, "player", "e2e", "play.mjs"),
			"--url", v.PageURL, "--screenshot", shot, "--seek-fraction", "0.8", "--timeout-ms", "90000")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil {
			t.Fatalf("playback failed: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		t.Logf("player: %s (screenshot %s)", strings.TrimSpace(stdout.String()), shot)
	})
}
