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
// viewer decodes the hls_url through the router and an edge, the encoder
// comes back with another picture size, and after the reconnect window
// the recording is a ready video as long as both connections, playing
// through an edge as it was recorded, then with its MP4.
func TestStack_LiveBroadcastThroughAnEdgeBecomesAVideo(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	d := stack.Local(t.TempDir(), apiKey)
	d.Live.Enabled, d.Live.RTMPAddr = true, "127.0.0.1:0"
	// Long enough for the second ffmpeg to start on a busy machine: the
	// broadcast must go on, not end and begin again.
	d.Live.ReconnectWindow = config.Duration(6 * time.Second)
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

	// Two connections: the second, within the reconnect window, with another
	// picture size (new codec parameters: a new generation of the
	// broadcast, with its own init segments).
	const first, second = 12, 8
	const seconds = first + second
	enc, encErr := startEncoder(t, ffmpeg, ls.RTMPURL, "640x360", first)
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

	// 5 s through the router (steered master) and an edge.
	dec := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", ls.HLSURL, "-t", "5", "-f", "null", "-")
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
	enc, encErr = startEncoder(t, ffmpeg, ls.RTMPURL, "480x270", second)
	if err := enc.Wait(); err != nil {
		t.Fatalf("ffmpeg broadcasting again: %v\n%s", err, encErr.String())
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
	// Ready as it was recorded: both generations in one VOD playlist per
	// track, a discontinuity between them, decoded through the router and
	// an edge.
	// (The master offers them until the pipeline's first rendition is
	// stored, which may come before this looks: each track's playlist is
	// decoded too, through the router and an edge.)
	for _, track := range []string{"video1", "audio2"} {
		url := strings.Replace(v.HLSURL, "/master.m3u8", "/hls/rec/"+track+".m3u8", 1)
		resp, err = http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		pl, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Edge") == "" || bytes.Count(pl, []byte("#EXT-X-DISCONTINUITY\n")) != 1 ||
			bytes.Count(pl, []byte("#EXT-X-MAP:")) != 2 || !bytes.HasSuffix(pl, []byte("#EXT-X-ENDLIST\n")) {
			t.Errorf("the recording's %s playlist (two generations) through an edge: HTTP %d\n%s", track, resp.StatusCode, pl)
		}
		if d := testenv.Decode(t, url); math.Abs(d-seconds) > 1 {
			t.Errorf("the recording's %s decodes to %.2f s through an edge, %d s were streamed", track, d, seconds)
		}
	}
	if d := testenv.Decode(t, v.HLSURL); math.Abs(d-seconds) > 1 {
		t.Errorf("the recording's HLS decodes to %.2f s through an edge, %d s were streamed", d, seconds)
	}
	// Then the pipeline's MP4, made of both generations.
	v = testenv.WaitVideo(t, st.WebURL, v.ID, "an MP4", 3*time.Minute, func(v video) bool {
		if v.Status == "failed" {
			t.Fatalf("recording %s failed: %s", v.ID, v.Error)
		}
		return v.MP4URL != ""
	})
	if d := testenv.Decode(t, v.MP4URL); math.Abs(d-seconds) > 1 {
		t.Errorf("the recording's MP4 decodes to %.2f s through an edge, %d s were streamed", d, seconds)
	}
}
