package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/live"
	"github.com/streamfront/streamfront/packager/transcode"
)

// A live ladder the whole way: a stream with "ladder": true, ffmpeg
// broadcasting 640x360, two workers with a one-rung ladder (180p,
// ultrafast: the machine is shared). The steered master lists the source
// and the rung; 10 s of the rung's playlist decode through an edge
// without an error; the edge answers the rung's blocking reloads (two
// viewers waiting for the next part, then a third asking after it, served
// from the edge's cache); the rung's
// program date-times track the source's (lag logged). The worker running
// the ladder is stopped: the job goes to the other worker and the rung
// comes back on air.
func TestStack_LiveLadderThroughAnEdge(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	d := stack.Local(t.TempDir(), apiKey)
	d.Live.Enabled, d.Live.RTMPAddr = true, "127.0.0.1:0"
	d.Live.ReconnectWindow = config.Duration(2 * time.Second)
	d.Local.Workers = 2
	st, err := stack.Start(context.Background(), stack.Config{Deployment: d,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker: func(w *origin.WorkerConfig) {
			w.Ladder = []transcode.Rung{{Name: "180p", ShortSide: 180, VideoBitrate: 200_000}}
			w.LivePreset, w.Threads = "ultrafast", 1
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("stack shut down with error: %v", err)
		}
	})

	ls := createLive(t, st, `{"title": "Ladder", "ladder": true}`)
	startEncoder(t, ffmpeg, ls.RTMPURL, "640x360", 75)

	// The steered master (router → edge → origin) lists the rung.
	master := testenv.WaitBody(t, ls.HLSURL, 60*time.Second, "the rung in the steered master", func(b string) bool {
		return strings.Contains(b, "180p/video1_stream.m3u8")
	})
	t.Logf("steered master:\n%s", master)

	edge := st.EdgeURLs[0] + "/videos/" + ls.ID
	source, rung := edge+"/video1_stream.m3u8", edge+"/180p/video1_stream.m3u8"
	for range 3 {
		t.Logf("rung lag through the edge: %v behind the source (part granularity)",
			live.PlaylistLag(testenv.MediaPlaylist(t, source), testenv.MediaPlaylist(t, rung)).Round(time.Millisecond))
		time.Sleep(time.Second)
	}

	// Blocking reloads of the rung at the edge: two viewers wait for the
	// same part; a third asking for it afterwards is answered from the
	// edge's cache.
	pl := testenv.MediaPlaylist(t, rung)
	next := fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", rung, pl.MediaSequence+len(pl.Segments), len(pl.Parts))
	codes := make(chan string, 2)
	for range 2 {
		go func() {
			resp, err := http.Get(next)
			if err != nil {
				codes <- err.Error()
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("X-Cache"))
		}()
	}
	a, b := <-codes, <-codes
	resp, err := http.Get(next)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Logf("rung blocking reload at the edge: %s, %s, then %d %s", a, b, resp.StatusCode, resp.Header.Get("X-Cache"))
	if !strings.HasPrefix(a, "200") || !strings.HasPrefix(b, "200") || !strings.HasPrefix(resp.Header.Get("X-Cache"), "Hit") {
		t.Errorf("the rung's blocking reload through the edge: %s, %s, then %d %q; want 200s, then a hit",
			a, b, resp.StatusCode, resp.Header.Get("X-Cache"))
	}

	dec := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", rung, "-t", "10", "-f", "null", "-")
	var decErr bytes.Buffer
	dec.Stderr = &decErr
	if err := dec.Run(); err != nil || strings.TrimSpace(decErr.String()) != "" {
		t.Fatalf("decoding the rung's playlist through an edge: %v\n%s", err, decErr.String())
	}

	// The worker running the ladder stops: its rung goes off the air and
	// the other worker takes the job and brings it back.
	running := ladderWorker(t, st, ls.ID)
	if running < 0 {
		t.Fatal("no worker shows the live ladder")
	}
	st.WorkerStops[running]()
	origin := st.OriginURL + "/api/v1/live/" + ls.ID
	testenv.WaitBody(t, origin, 30*time.Second, "the rung off the air", func(b string) bool { return !strings.Contains(b, `"180p"`) })
	back := time.Now()
	testenv.WaitBody(t, origin, 60*time.Second, "the rung back on the air", func(b string) bool { return strings.Contains(b, `"180p"`) })
	t.Logf("rung back on the air %v after its worker stopped", time.Since(back).Round(100*time.Millisecond))
	if other := ladderWorker(t, st, ls.ID); other < 0 || other == running {
		t.Errorf("the ladder runs on worker %d after worker %d stopped", other, running)
	}
	decodeRung := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", rung, "-t", "4", "-f", "null", "-")
	if out, err := decodeRung.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("decoding the rung again through an edge: %v\n%s", err, out)
	}
}

// ladderWorker is the index (in st.Workers) of the worker that shows the
// live ladder of stream id in the queue, or -1.
func ladderWorker(t *testing.T, st *stack.Stack, id string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.OriginURL+"/api/v1/queue", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var q struct {
		Workers []struct {
			Name    string `json:"name"`
			Encodes []struct {
				Video string `json:"video"`
				Task  string `json:"task"`
			} `json:"encodes"`
		} `json:"workers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil {
		t.Fatal(err)
	}
	for _, w := range q.Workers {
		for _, e := range w.Encodes {
			if e.Video == id && e.Task == "live-ladder" {
				var n int
				if _, err := fmt.Sscanf(w.Name, "worker-%d", &n); err == nil {
					return n - 1
				}
			}
		}
	}
	return -1
}
