package stack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

// An edge that is down when an invalidation is issued applies it when it
// comes back, before its disk tier answers: the object is fetched again,
// never served from disk, even an hour (of its clock) later; the history
// shows when each edge applied it.
func TestStack_AnEdgeDownDuringAnInvalidationAppliesItWhenBack(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	d := stack.Local(t.TempDir(), apiKey)
	// The HTTP fan-out gives up on the down edge at once: only the
	// durable feed can bring it the invalidation.
	d.Origin.InvalidationRetryFor = config.Duration(time.Millisecond)
	st, err := stack.Start(context.Background(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v := uploadMultipart(t, st.WebURL, testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 4}), "Invalidated")
	v = waitReady(t, st.WebURL, v.ID)
	seg := st.EdgeURLs[0] + "/videos/" + v.ID + "/hls/src/video/0.m4s"
	xcache := func() string {
		t.Helper()
		resp, _ := get(t, seg, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", seg, resp.StatusCode)
		}
		return resp.Header.Get("X-Cache")
	}
	xcache()
	if got := xcache(); !strings.HasPrefix(got, "Hit") {
		t.Fatalf("second GET: X-Cache %q, want a hit", got)
	}
	var invID string
	err = st.RestartEdgeAfter(0, func() {
		// Edge 1 is down (its disk tier keeps the segment): invalidate.
		req, _ := http.NewRequest(http.MethodPost, st.OriginURL+"/api/v1/invalidations",
			strings.NewReader(`{"paths":["/videos/`+v.ID+`/*"]}`))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			ID    string `json:"id"`
			Edges []struct{ Edge, Status string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusAccepted || out.ID == "" {
			t.Fatalf("invalidation: %d %+v", resp.StatusCode, out)
		}
		invID = out.ID
		t.Logf("while edge-1 is down: %+v", out.Edges)
	}, func() time.Time { return time.Now().Add(time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	if got := xcache(); !strings.HasPrefix(got, "Miss") {
		t.Fatalf("after the restart: X-Cache %q: served from the disk tier despite the invalidation", got)
	}
	// The history says when each edge applied it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, st.OriginURL+"/api/v1/invalidations", nil)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Invalidations []struct {
				ID      string               `json:"id"`
				Applied map[string]time.Time `json:"applied"`
			} `json:"invalidations"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if len(h.Invalidations) > 0 && h.Invalidations[0].ID == invID && len(h.Invalidations[0].Applied) == 2 {
			t.Logf("applied: %v", h.Invalidations[0].Applied)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history: %+v, want %s applied by both edges", h, invID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The month's usage counts the path (CloudFront bills paths past 1,000).
	now := time.Now().UTC()
	req, _ := http.NewRequest(http.MethodGet, st.OriginURL+"/api/v1/usage?from="+now.Add(-time.Hour).Format(time.RFC3339)+"&to="+now.Add(time.Hour).Format(time.RFC3339), nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct {
		InvalidatedPaths int `json:"invalidated_paths"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&u)
	if u.InvalidatedPaths != 1 {
		t.Fatalf("usage counts %d invalidated paths, want 1", u.InvalidatedPaths)
	}
}
