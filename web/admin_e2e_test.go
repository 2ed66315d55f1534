package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/usage"
)

// TestAdmin_DashboardShowsTheUsageInChromium runs the real roles (S3,
// NATS, origin with its usage ledger, two edges, router, site), has each
// edge's usage Meter report a known mix of traffic through the queue, as
// the edges do, and then signs in to /admin in Chromium: the overview must
// chart that traffic, and the edges page list both edges. The screenshot is
// web-admin-overview.png in $STREAMFRONT_ARTIFACTS (test-artifacts/ under
// make test). Then, with an upload whose ladder waits for a worker and a
// live stream: an invalidation sent from the form shows in the history
// with both edges' applied times, the queue page shows the waiting video,
// and the live page the stream.
func TestAdmin_DashboardShowsTheUsageInChromium(t *testing.T) {
	requireBrowserTooling(t)
	const apiKey = "admin-e2e-key"
	d := stack.Local(t.TempDir(), apiKey)
	d.Local.Workers = 0 // no encode runs: an upload's ladder waits in the queue
	d.Live.Enabled, d.Live.RTMPAddr = true, "127.0.0.1:0"
	st, err := stack.Start(t.Context(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	// The traffic: edge-1 sends a video 6 hits and a miss of 1 MB, edge-2
	// another video 3 hits of 1 MB; 10 MB and 10 requests in all.
	now := time.Now().UTC()
	reportUsage(t, st.NATS.URL(), "edge-1", now, "0123456789abcdef", 6, 1)
	reportUsage(t, st.NATS.URL(), "edge-2", now, "fedcba9876543210", 3, 0)
	waitForUsage(t, st.OriginURL, apiKey, now, 10)

	// An upload the origin packages itself; its ladder then waits for a
	// worker that never comes. And a live stream, idle.
	waiting := uploadAndWaitReady(t, st.OriginURL, apiKey)
	var ls struct {
		ID string `json:"id"`
	}
	if code := keyedJSON(t, http.MethodPost, st.OriginURL+"/api/v1/live", apiKey, `{"title":"Dashboard rehearsal"}`, &ls); code != http.StatusCreated {
		t.Fatalf("create a live stream: HTTP %d", code)
	}

	dir := os.Getenv("STREAMFRONT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "web-admin-overview.png")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute) // only a hung browser hits this
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("e2e", "admin.mjs"),
		"--url", st.WebURL+"/admin", "--api-key", apiKey, "--screenshot", shot, "--timeout-ms", "60000",
		"--invalidate", "/videos/"+waiting+"/*")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	t.Logf("screenshot: %s\nadmin.mjs: %s", shot, stdout.String())
	var res struct {
		OK             bool   `json:"ok"`
		Reason         string `json:"reason"`
		SignInRedirect bool   `json:"signInRedirect"`
		Totals         struct {
			BytesOut string `json:"bytesOut"`
			Requests string `json:"requests"`
		} `json:"totals"`
		ChartTitle       string   `json:"chartTitle"`
		TableRows        int      `json:"tableRows"`
		BillTotal        string   `json:"billTotal"`
		Edges            []string `json:"edges"`
		CookieVisible    bool     `json:"cookieVisibleToScripts"`
		LocalStorageKeys int      `json:"localStorageKeys"`
		KeyInURL         bool     `json:"keyInURL"`
		Invalidation     *struct {
			Paths   []string `json:"paths"`
			Applied []string `json:"applied"`
		} `json:"invalidation"`
		Queue struct {
			Kinds   map[string]string `json:"kinds"`
			Running []string          `json:"running"`
			Waiting []string          `json:"waiting"`
		} `json:"queue"`
		Live   []string `json:"live"`
		Errors []struct {
			Source  string `json:"source"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("admin.mjs printed no JSON result (%v; exit %v)\nstderr: %s", err, runErr, stderr.String())
	}
	if runErr != nil || !res.OK {
		t.Fatalf("the dashboard did not show the usage: %s (exit %v)\nstderr: %s", res.Reason, runErr, stderr.String())
	}
	if !res.SignInRedirect {
		t.Error("without a session /admin did not lead to the sign-in form")
	}
	if res.Totals.BytesOut != "10.0 MB" || res.Totals.Requests != "10" {
		t.Errorf("the overview shows %s and %s requests, want 10.0 MB and 10", res.Totals.BytesOut, res.Totals.Requests)
	}
	// The last 48 hours touch 49 hourly periods: the current one is partial.
	if res.ChartTitle != "Bytes delivered" || res.TableRows != 49 {
		t.Errorf("chart %q with %d rows in its table, want \"Bytes delivered\" with 49 hours", res.ChartTitle, res.TableRows)
	}
	if !strings.HasSuffix(res.BillTotal, " USD") {
		t.Errorf("bill %q, want an amount in USD", res.BillTotal)
	}
	if strings.Join(res.Edges, ",") != "edge-1,edge-2" {
		t.Errorf("edges page lists %v, want edge-1 and edge-2", res.Edges)
	}
	if res.CookieVisible || res.LocalStorageKeys != 0 || res.KeyInURL {
		t.Errorf("the session leaks: cookie visible to scripts %v, %d localStorage keys, key in a URL %v", res.CookieVisible, res.LocalStorageKeys, res.KeyInURL)
	}
	// The invalidation sent from the form is the history's newest, with
	// when each edge applied it.
	if inv := res.Invalidation; inv == nil || strings.Join(inv.Paths, " ") != "/videos/"+waiting+"/*" || len(inv.Applied) != 2 ||
		!strings.HasPrefix(inv.Applied[0], "edge-1: ") || !strings.HasPrefix(inv.Applied[1], "edge-2: ") || !strings.HasSuffix(inv.Applied[0], " later)") {
		t.Errorf("the invalidation history shows %+v, want the sent path applied by edge-1 and edge-2", inv)
	}
	if res.Queue.Kinds["encode-ladder"] != "1/0" || strings.Join(res.Queue.Waiting, ",") != waiting {
		t.Errorf("the queue page shows %+v, want the upload's ladder waiting (1 waiting, 0 in flight)", res.Queue)
	}
	if strings.Join(res.Live, ",") != "Dashboard rehearsal" {
		t.Errorf("the live page lists %q, want the stream created", res.Live)
	}
	for _, e := range res.Errors {
		t.Errorf("browser error: %s: %s", e.Source, e.Message)
	}
}

// reportUsage has an edge's Meter report hits and misses of 1 MB segments
// of one video through the queue, and flush them.
func reportUsage(t *testing.T, natsURL, edge string, at time.Time, video string, hits, misses int) {
	t.Helper()
	ctx := t.Context()
	q, err := queue.Open(ctx, queue.Config{URL: natsURL, Name: edge + "-meter"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	kind, err := q.Kind(ctx, usage.QueueKind)
	if err != nil {
		t.Fatal(err)
	}
	m, err := usage.New(usage.Config{Edge: edge, Sink: &usage.QueueSink{Kind: kind}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range hits + misses {
		ev := usage.Event{Video: video, Kind: usage.KindSegment, Result: usage.ResultHit, BytesOut: 1_000_000, Delivered: 4 * time.Second, At: at}
		if i < misses {
			ev.Result, ev.OriginBytes = usage.ResultMiss, 1_000_000
		}
		m.Add(ev)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.Close(cctx); err != nil {
		t.Fatal(err)
	}
}

// waitForUsage waits until the origin's ledger has folded in the reports:
// the queue delivers them to its consumer asynchronously.
func waitForUsage(t *testing.T, originURL, key string, at time.Time, requests int64) {
	t.Helper()
	q := "from=" + at.Add(-time.Hour).Format(time.RFC3339) + "&to=" + at.Add(time.Hour).Format(time.RFC3339)
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, originURL+"/api/v1/usage?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a struct {
			Totals struct {
				Requests int64 `json:"requests"`
			} `json:"totals"`
		}
		err = json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("usage: HTTP %d, %v", res.StatusCode, err)
		}
		if a.Totals.Requests == requests {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the origin counts %d requests after 60 s, want %d", a.Totals.Requests, requests)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// uploadAndWaitReady uploads a short H.264 MP4 and waits until it plays
// (the origin packages it; the ladder is left to workers). It returns its ID.
func uploadAndWaitReady(t *testing.T, originURL, key string) string {
	t.Helper()
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 2, Width: 320, Height: 240})
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, originURL+"/api/v1/videos", f)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "video/mp4")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		ID string `json:"id"`
	}
	err = json.NewDecoder(res.Body).Decode(&v)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("upload: HTTP %d, %v", res.StatusCode, err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var got struct {
			Status        string `json:"status"`
			QueuePosition int    `json:"queue_position"`
		}
		if code := keyedJSON(t, http.MethodGet, originURL+"/api/v1/videos/"+v.ID, key, "", &got); code == http.StatusOK && got.Status == "ready" && got.QueuePosition == 1 {
			return v.ID
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload is %s at place %d after 90 s, want ready with its ladder at place 1", got.Status, got.QueuePosition)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// keyedJSON makes one API call with the key and decodes the answer.
func keyedJSON(t *testing.T, method, url, key, body string, into any) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatalf("%s %s: HTTP %d, %v", method, url, res.StatusCode, err)
	}
	return res.StatusCode
}

// requireBrowserTooling fails (never skips) when node or the player's
// playwright-core, which drives Chromium, is missing.
func requireBrowserTooling(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not on PATH; the dashboard's browser test needs it")
	}
	if _, err := os.Stat(filepath.Join("..", "player", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatal("player/node_modules is not installed, so web/e2e/admin.mjs cannot drive Chromium: run `make build` (or `cd player && npm ci`)")
	}
}
