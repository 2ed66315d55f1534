package origin_test

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
)

const testAdminToken = "origin-test-edge-admin-token"

// recordingEdge is a loopback HTTP server that speaks the edges'
// invalidation API (POST /api/v1/invalidations with the admin token) and
// records what it was asked to remove.
type recordingEdge struct {
	URL  string
	mu   sync.Mutex
	seen [][]string
}

func startRecordingEdge(t *testing.T, ln net.Listener) *recordingEdge {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	re := &recordingEdge{URL: "http://" + ln.Addr().String()}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/invalidations" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+testAdminToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"missing or wrong admin token"}`))
			return
		}
		var req struct{ Paths []string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		re.mu.Lock()
		re.seen = append(re.seen, req.Paths)
		re.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"paths": req.Paths, "removed": 3})
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return re
}

func (re *recordingEdge) requests() [][]string {
	re.mu.Lock()
	defer re.mu.Unlock()
	return append([][]string(nil), re.seen...)
}

// deadAddress is a loopback address nothing listens on (for now).
func deadAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type invalidationAnswer struct {
	Paths []string `json:"paths"`
	Edges []struct {
		Edge, Status, Error string
		Removed             int
	} `json:"edges"`
	Error string `json:"error"`
}

func TestOrigin_InvalidationFansOutAndRetriesUnreachableEdges(t *testing.T) {
	a, b := startRecordingEdge(t, nil), startRecordingEdge(t, nil)
	dead := deadAddress(t)
	base := startOriginWith(t, func(c *origin.Config) {
		c.Edges = []string{a.URL, b.URL + "/", "http://" + dead}
		c.EdgeAdminToken = testAdminToken
	})
	body := `{"paths":["/videos/abc/*","/videos/def/master.m3u8"]}`

	// Writes need the API key.
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/invalidations", strings.NewReader(body))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a key: %v %v", resp.StatusCode, err)
	}
	var bad invalidationAnswer
	for _, b := range []string{`{"paths":[]}`, `{"paths":["videos/x"]}`, `{"path":["/x"]}`, `nope`} {
		if code := apiDo(t, http.MethodPost, base+"/api/v1/invalidations", b, &bad); code != http.StatusBadRequest || bad.Error == "" {
			t.Fatalf("body %s: %d %+v", b, code, bad)
		}
	}

	var ans invalidationAnswer
	if code := apiDo(t, http.MethodPost, base+"/api/v1/invalidations", body, &ans); code != http.StatusAccepted {
		t.Fatalf("POST: %d %+v", code, ans)
	}
	// Reachable edges have the invalidation when the answer comes.
	for _, e := range []*recordingEdge{a, b} {
		if got := e.requests(); len(got) != 1 || strings.Join(got[0], ",") != "/videos/abc/*,/videos/def/master.m3u8" {
			t.Fatalf("edge %s got %v", e.URL, got)
		}
	}
	if len(ans.Edges) != 3 || ans.Edges[0].Status != "done" || ans.Edges[0].Removed != 3 || ans.Edges[1].Status != "done" ||
		ans.Edges[2].Status != "retrying" || !strings.Contains(ans.Edges[2].Error, "unreachable") {
		t.Fatalf("answer %+v", ans)
	}

	// The unreachable edge comes up: the retry reaches it.
	ln, err := net.Listen("tcp", dead)
	if err != nil {
		t.Fatalf("the dead edge's port was taken meanwhile: %v", err)
	}
	late := startRecordingEdge(t, ln)
	deadline := time.Now().Add(30 * time.Second)
	for len(late.requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the retried invalidation never reached the edge that came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := late.requests(); len(got) != 1 || got[0][0] != "/videos/abc/*" {
		t.Fatalf("late edge got %v", got)
	}
}

func TestOrigin_WrongEdgeAdminTokenIsReportedNotRetried(t *testing.T) {
	a := startRecordingEdge(t, nil)
	base := startOriginWith(t, func(c *origin.Config) {
		c.Edges, c.EdgeAdminToken = []string{a.URL}, "not the edges' token"
	})
	var ans invalidationAnswer
	if code := apiDo(t, http.MethodPost, base+"/api/v1/invalidations", `{"paths":["/videos/abc/*"]}`, &ans); code != http.StatusAccepted {
		t.Fatalf("POST: %d", code)
	}
	if len(ans.Edges) != 1 || ans.Edges[0].Status != "failed" || !strings.Contains(ans.Edges[0].Error, "STREAMFRONT_EDGE_ADMIN_TOKEN") {
		t.Fatalf("answer %+v", ans)
	}
}

func TestOrigin_InvalidationWithoutEdgesSaysSo(t *testing.T) {
	base := startOriginWith(t, nil)
	var ans invalidationAnswer
	if code := apiDo(t, http.MethodPost, base+"/api/v1/invalidations", `{"paths":["/videos/abc/*"]}`, &ans); code != http.StatusConflict || !strings.Contains(ans.Error, "list them under edges") {
		t.Fatalf("%d %+v", code, ans)
	}
}

func TestOrigin_DeleteAndVisibilityChangesInvalidateTheVideo(t *testing.T) {
	a := startRecordingEdge(t, nil)
	base := startOriginWith(t, func(c *origin.Config) {
		c.Edges, c.EdgeAdminToken = []string{a.URL}, testAdminToken
	})
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 2, Faststart: true})
	code, v, body := upload(t, base, src, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	want := "/videos/" + v.ID + "/*"
	steps := []struct {
		method, body string
		invalidates  bool
	}{
		{http.MethodPatch, `{"title":"new title"}`, false},
		{http.MethodPatch, `{"visibility":"private"}`, true},
		{http.MethodPatch, `{"visibility":"private","title":"again"}`, false},
		{http.MethodPatch, `{"visibility":"public"}`, true},
		{http.MethodDelete, "", true},
	}
	// Media are invalidated on a visibility change or a delete; the watch
	// and embed pages (which edges serving the site hold) on every change.
	media, seen := 0, 0
	for _, s := range steps {
		if code := apiDo(t, s.method, base+"/api/v1/videos/"+v.ID, s.body, nil); code >= 300 {
			t.Fatalf("%s %s: %d", s.method, s.body, code)
		}
		if s.invalidates {
			media++
		}
		got := a.requests()
		gotMedia, gotPage := 0, false
		for _, paths := range got {
			if slices.Contains(paths, want) {
				gotMedia++
			}
		}
		for _, paths := range got[seen:] {
			gotPage = gotPage || (slices.Contains(paths, "/watch/"+v.ID) && slices.Contains(paths, "/"))
		}
		seen = len(got)
		if gotMedia != media {
			t.Fatalf("after %s %s: %d media invalidations, want %d", s.method, s.body, gotMedia, media)
		}
		if !gotPage {
			t.Fatalf("after %s %s: the watch page and the library were not invalidated", s.method, s.body)
		}
	}
}
