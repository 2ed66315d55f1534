package steering

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/player"
)

// steerResult is the JSON line player/e2e/steer.mjs prints.
type steerResult struct {
	OK             bool               `json:"ok"`
	Reason         string             `json:"reason"`
	FirstPathway   string             `json:"firstPathway"`
	FinalPathway   string             `json:"finalPathway"`
	ViewerRTT      map[string]float64 `json:"viewerRTT"`
	SegmentsBefore map[string]int     `json:"segmentsBefore"`
	SegmentsAfter  map[string]int     `json:"segmentsAfter"`
	Steering       []struct {
		URL       string   `json:"url"`
		Status    int      `json:"status"`
		Priority  []string `json:"priority"`
		AfterFail bool     `json:"afterFail"`
	} `json:"steering"`
	Position float64          `json:"position"`
	Errors   []map[string]any `json:"errors"`
}

// The page the browser opens: the real player, mounted on the router's
// master with a short buffer, so that it keeps asking for segments while
// the test changes the router's mind (with hls.js's default 30 s buffer a
// short clip would be fetched whole before any steering reload).
var steerPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Streamfront steering test</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/player/player.css?v={{.Version}}">
</head><body style="margin:0;padding:24px">
<div id="player" style="max-width:640px"></div>
<script src="/player/player.js?v={{.Version}}"></script>
<script>
Streamfront.mount(document.getElementById('player'), {
  hls: {{.HLS}},
  hlsConfig: {maxBufferLength: 3, maxMaxBufferLength: 4, backBufferLength: 10},
});
</script>
</body></html>`))

func TestRouter_PlayerInChromiumFollowsTheFastEdgeThenMovesWhenItGoesDown(t *testing.T) {
	assets := requirePlayerTooling(t)
	dir := t.TempDir()
	makeHLS(t, dir, 30)
	slow := startTestEdge(t, "edge-1", dir)
	fast := startTestEdge(t, "edge-2", dir)
	slow.delay.Store(int64(slowEdgeDelay))
	_, router := startRouter(t, testConfig(slow, fast)) // steering TTL 1 s
	waitForEdges(t, router, "the fast edge first", func(s edgesState) bool {
		return slices.Equal(s.PathwayPriority, []string{"edge-2", "edge-1"}) && s.Edges[0].Samples >= 2
	})

	// When the player has played a while from the fast edge, steer.mjs
	// POSTs /fail: the fast edge's health check starts failing (it keeps
	// serving media, so only steering can move the player).
	var mu sync.Mutex
	var slowSegmentsAtFail, fastSegmentsAtFail = -1, -1
	mux := http.NewServeMux()
	mux.Handle("/player/", http.StripPrefix("/player", assets))
	mux.HandleFunc("GET /watch", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := steerPage.Execute(w, map[string]string{"Version": assets.Version(), "HLS": router + "/videos/" + testVideoID + "/master.m3u8"})
		if err != nil {
			t.Errorf("render: %v", err)
		}
	})
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		slowSegmentsAtFail = len(slow.requestsMatching(".m4s"))
		fastSegmentsAtFail = len(fast.requestsMatching(".m4s"))
		mu.Unlock()
		fast.down.Store(true)
		w.WriteHeader(http.StatusNoContent)
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	res, stderr := runSteer(t, "--url", site.URL+"/watch", "--fail-url", site.URL+"/fail", "--min-segments", "4")
	if !res.OK {
		t.Fatalf("steer.mjs failed: %s\nresult: %+v\nstderr: %s", res.Reason, res, stderr)
	}

	fastHost, slowHost := hostOf(t, fast.URL), hostOf(t, slow.URL)
	// Before: every segment from the fast edge, the one the router ranked
	// first by the viewer's own measurements.
	if res.FirstPathway != "edge-2" {
		t.Errorf("first pathway %q, want edge-2 (fast)", res.FirstPathway)
	}
	mu.Lock()
	if slowSegmentsAtFail != 0 || fastSegmentsAtFail < 4 {
		t.Errorf("before the fast edge went down: %d segments from the slow edge (want 0), %d from the fast one (want ≥ 4)", slowSegmentsAtFail, fastSegmentsAtFail)
	}
	mu.Unlock()
	if len(res.SegmentsBefore) != 1 || res.SegmentsBefore[fastHost] < 4 {
		t.Errorf("segments before the change by host %v, want only %s", res.SegmentsBefore, fastHost)
	}
	// The player measured both edges, the slow one as slower, and said so
	// on its steering requests, with the pathway it was on.
	if !(res.ViewerRTT["edge-1"] > res.ViewerRTT["edge-2"]) || res.ViewerRTT["edge-1"] < float64(slowEdgeDelay/time.Millisecond)/2 {
		t.Errorf("viewer RTT %v: want edge-1 (delayed %v) measured slower than edge-2", res.ViewerRTT, slowEdgeDelay)
	}
	if len(res.Steering) == 0 {
		t.Fatal("no steering manifest was requested")
	}
	first, err := url.Parse(res.Steering[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	q := first.Query()
	if q.Get("rtt.edge-1") == "" || q.Get("rtt.edge-2") == "" || q.Get("_HLS_pathway") != "edge-2" || q.Get("_HLS_throughput") == "" {
		t.Errorf("first steering request %s lacks the viewer's RTTs or hls.js's parameters", res.Steering[0].URL)
	}
	if !slices.Equal(res.Steering[0].Priority, []string{"edge-2", "edge-1"}) {
		t.Errorf("first steering manifest priority %v", res.Steering[0].Priority)
	}
	// After: the next steering manifest put the slow edge first, and the
	// player moved there.
	movedBy := false
	for _, s := range res.Steering {
		if s.AfterFail && slices.Equal(s.Priority, []string{"edge-1", "edge-2"}) {
			movedBy = true
		}
	}
	if !movedBy {
		t.Errorf("no steering manifest after the failure ranked edge-1 first: %+v", res.Steering)
	}
	if res.FinalPathway != "edge-1" || res.SegmentsAfter[slowHost] == 0 {
		t.Errorf("after the fast edge went down: pathway %q, segments by host %v; want edge-1 and segments from %s", res.FinalPathway, res.SegmentsAfter, slowHost)
	}
	for _, e := range res.Errors {
		if e["fatal"] == true {
			t.Errorf("player error: %v", e)
		}
	}
	t.Logf("viewer RTT %v; segments before %v, after %v; %d steering manifests; played to %.1f s",
		res.ViewerRTT, res.SegmentsBefore, res.SegmentsAfter, len(res.Steering), res.Position)
}

// playResult is the part of player/e2e/play.mjs's JSON line checked here.
type playResult struct {
	OK       bool             `json:"ok"`
	Reason   string           `json:"reason"`
	Engine   string           `json:"engine"`
	Duration float64          `json:"duration"`
	Position float64          `json:"position"`
	SeekedTo float64          `json:"seekedTo"`
	Errors   []map[string]any `json:"errors"`
}

// hls.js 1.7.4 stalls for good (no error, nothing loaded, readyState 0)
// when a pathway switch lands while its very first fragments are loading.
// A viewer whose first steering manifest disagrees with the master's
// initial pathway (the router ranked by its own latency, the viewer's
// measurements say otherwise, or an edge went down in between) meets
// exactly that, so the player holds its first steering request until the
// first fragment is buffered. This test sets that scene: the master names
// edge-2 first, edge-2 is marked down right after serving it and is slow
// to deliver segments, so the first steering manifest moves the player to
// edge-1 while edge-2's first fragments are still loading, unless held.
func TestRouter_PlayerInChromiumSurvivesAnEdgeChangeDuringItsFirstFragments(t *testing.T) {
	assets := requirePlayerTooling(t)
	dir := t.TempDir()
	makeHLS(t, dir, 20)
	other := startTestEdge(t, "edge-1", dir)
	first := startTestEdge(t, "edge-2", dir)
	other.delay.Store(int64(slowEdgeDelay))
	first.segmentDelay.Store(int64(1500 * time.Millisecond))
	_, router := startRouter(t, testConfig(other, first))
	waitForEdges(t, router, "edge-2 first", func(s edgesState) bool {
		return slices.Equal(s.PathwayPriority, []string{"edge-2", "edge-1"}) && s.Edges[0].Samples >= 2
	})
	first.afterMaster.Store(func() { first.down.Store(true) })

	mux := http.NewServeMux()
	mux.Handle("/player/", http.StripPrefix("/player", assets))
	mux.HandleFunc("GET /watch", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := steerPage.Execute(w, map[string]string{"Version": assets.Version(), "HLS": router + "/videos/" + testVideoID + "/master.m3u8"}); err != nil {
			t.Errorf("render: %v", err)
		}
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	var res playResult
	stderr := runE2EScript(t, "play.mjs", "router-startup-switch-e2e.png", &res, "--url", site.URL+"/watch", "--seek-fraction", "0.7")
	if !res.OK {
		t.Fatalf("play.mjs failed: %s\nresult: %+v\nstderr: %s", res.Reason, res, stderr)
	}
	if res.Engine != "hls.js" || res.Duration < 19.5 || res.Position < res.SeekedTo+1 {
		t.Errorf("playback: %+v", res)
	}
	// The scene happened: the player started on edge-2 and moved to edge-1.
	if len(first.requestsMatching("/index.m3u8")) == 0 || len(other.requestsMatching(".m4s")) == 0 {
		t.Errorf("no change of edge at startup: edge-2 playlists %v, edge-1 segments %d",
			first.requestsMatching("/index.m3u8"), len(other.requestsMatching(".m4s")))
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// requirePlayerTooling fails (never skips) when what the browser test
// needs is missing, saying how to get it.
func requirePlayerTooling(t *testing.T) *player.Assets {
	t.Helper()
	assets, err := player.New()
	if err != nil {
		t.Fatal(err)
	}
	if !assets.Built() {
		t.Fatal("the player is not built into this test binary: run `make build` (or `cd player && npm ci && npm run build`) first")
	}
	// The build must know about steering: an old dist/ would play the
	// router's master without reporting the viewer's latency.
	rec := httptest.NewRecorder()
	assets.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/player.js", nil))
	if !bytes.Contains(rec.Body.Bytes(), []byte(probeDataIDPrefix)) {
		t.Fatal("player/dist/player.js predates content steering support: rebuild it (`cd player && npm run build`)")
	}
	if _, err := os.Stat(filepath.Join("..", "..", "player", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatal("player/node_modules is not installed, so player/e2e/steer.mjs cannot drive Chromium: run `cd player && npm ci`")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not on PATH; the steering browser test needs it (Debian: apt-get install nodejs)")
	}
	chromium := os.Getenv("STREAMFRONT_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is not at %s; install Debian's chromium package or set STREAMFRONT_CHROMIUM", chromium)
	}
	return assets
}

// runSteer runs player/e2e/steer.mjs and parses its JSON line.
func runSteer(t *testing.T, args ...string) (steerResult, string) {
	t.Helper()
	var res steerResult
	stderr := runE2EScript(t, "steer.mjs", "router-steering-e2e.png", &res, args...)
	return res, stderr
}

// runE2EScript runs player/e2e/<script> with a screenshot (kept in
// $STREAMFRONT_ARTIFACTS when set) and decodes the JSON line it prints
// into result. It fails the test when there is no such line or when the
// script says ok but exits with an error.
func runE2EScript(t *testing.T, script, shotName string, result any, args ...string) string {
	t.Helper()
	dir := os.Getenv("STREAMFRONT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, shotName)
	path := filepath.Join("..", "..", "player", "e2e", script)
	args = append([]string{path, "--screenshot", shot, "--timeout-ms", "90000"}, args...)
	// The scripts stop themselves at --timeout-ms; this only catches a
	// hung browser launch.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	t.Logf("%s screenshot: %s", script, shot)
	line := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	var status struct {
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal([]byte(line), &status); err != nil {
		t.Fatalf("%s printed no JSON result (%v; exit %v)\nstdout: %s\nstderr: %s", script, err, runErr, stdout.String(), stderr.String())
	}
	if status.OK && runErr != nil {
		t.Fatalf("%s said ok but exited with %v", script, runErr)
	}
	if err := json.Unmarshal([]byte(line), result); err != nil {
		t.Fatalf("%s result: %v", script, err)
	}
	return stderr.String()
}
