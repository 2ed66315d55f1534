package origin_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// receiver is an integrator's webhook endpoint: it checks every signature,
// refuses the first delivery of each event (so every one is retried), and
// keeps what it accepted.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	seen   map[string]int            // deliveries per event ID
	events map[string]webhooks.Event // accepted, by ID
	data   map[string]map[string]any // accepted data, by type
	down   bool                      // answers 503 to everything
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := webhooks.Verify(r.Header.Get(webhooks.SignatureHeader), body, rc.secret, 5*time.Minute, time.Now()); err != nil {
		rc.t.Errorf("a delivery with a bad signature: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		webhooks.Event
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.t.Errorf("a delivery that is not JSON: %s", body)
		return
	}
	rc.seen[ev.ID]++
	if rc.down || rc.seen[ev.ID] == 1 {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	rc.events[ev.ID] = ev.Event
	rc.data[ev.Type] = ev.Data
}

func (rc *receiver) types() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := map[string]int{}
	for _, ev := range rc.events {
		n[ev.Type]++
	}
	return n
}

func apiCall(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// Events of a video's life reach a registered endpoint signed, once each
// (by ID), even though every first delivery fails and the origin that
// queued them is replaced by another.
func TestWebhooks_EveryEventArrivesSignedAcrossARetryAndARestart(t *testing.T) {
	b := startBackend(t)
	first := startOriginOn(t, b, 0)
	rc := &receiver{t: t, seen: map[string]int{}, events: map[string]webhooks.Event{}, data: map[string]map[string]any{}, down: true}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)

	var ep webhooks.Endpoint
	if code := apiCall(t, http.MethodPost, first.URL+"/api/v1/webhooks", map[string]any{"url": hook.URL + "/hook"}, &ep); code != http.StatusCreated {
		t.Fatalf("create endpoint: %d", code)
	}
	rc.mu.Lock()
	rc.secret = ep.Secret
	rc.mu.Unlock()
	if code := apiCall(t, http.MethodPost, first.URL+"/api/v1/webhooks", map[string]any{"url": "ftp://example.com"}, nil); code != http.StatusBadRequest {
		t.Fatalf("an ftp URL: %d, want 400", code)
	}
	if code := apiCall(t, http.MethodPost, first.URL+"/api/v1/webhooks", map[string]any{"url": hook.URL, "events": []string{"video.exploded"}}, nil); code != http.StatusBadRequest {
		t.Fatalf("an unknown event type: %d, want 400", code)
	}

	code, v, body := upload(t, first.URL, testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 2, Width: 320, Height: 240, Faststart: true}), "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitFor(t, first.URL, v.ID, "complete", func(p progressVideo) bool { return p.Status == "ready" && p.Stage == "" })
	// An event's data is the object as it is when an origin fans the event
	// out; wait until this one has (a delivery of video.complete was
	// tried), so its data is the complete video, not what the edits below
	// make of it.
	deadline := time.Now().Add(60 * time.Second) // a guard against hanging
	for tried := false; !tried; {
		var log struct{ Attempts []webhooks.Attempt }
		apiCall(t, http.MethodGet, first.URL+"/api/v1/webhooks/"+ep.ID+"/attempts", nil, &log)
		for _, a := range log.Attempts {
			tried = tried || a.Type == webhooks.VideoComplete
		}
		if time.Now().After(deadline) {
			t.Fatalf("video.complete was never fanned out: %+v", log.Attempts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The receiver has refused everything so far; the origin goes away
	// with deliveries pending, and another takes over.
	first.stop()
	second := startOriginOn(t, b, 0)
	rc.mu.Lock()
	rc.down = false
	rc.mu.Unlock()

	if code := apiCall(t, http.MethodPatch, second.URL+"/api/v1/videos/"+v.ID, map[string]any{"title": "renamed"}, nil); code != http.StatusOK {
		t.Fatalf("patch: %d", code)
	}
	if code := apiCall(t, http.MethodDelete, second.URL+"/api/v1/videos/"+v.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	var test webhooks.Event
	if code := apiCall(t, http.MethodPost, second.URL+"/api/v1/webhooks/"+ep.ID+"/test", nil, &test); code != http.StatusAccepted {
		t.Fatalf("test event: %d", code)
	}
	want := map[string]int{"video.created": 1, "video.ready": 1, "video.complete": 1, "video.updated": 1, "video.deleted": 1, "webhook.test": 1}
	deadline = time.Now().Add(3 * time.Minute)
	for {
		got := rc.types()
		if len(got) == len(want) {
			for k, n := range want {
				if got[k] != n {
					t.Fatalf("events received: %v, want %v", got, want)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events received: %v, want %v", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	rc.mu.Lock()
	if got := rc.data["video.complete"]; got["id"] != v.ID || got["status"] != "ready" {
		t.Errorf("video.complete carries %v, want the ready video", got)
	}
	if got := rc.data["video.updated"]; got["title"] != "renamed" {
		t.Errorf("video.updated carries %v, want the new title", got)
	}
	rc.mu.Unlock()

	var log struct{ Attempts []webhooks.Attempt }
	if code := apiCall(t, http.MethodGet, second.URL+"/api/v1/webhooks/"+ep.ID+"/attempts", nil, &log); code != http.StatusOK {
		t.Fatalf("attempts: %d", code)
	}
	var failed, ok int
	for _, a := range log.Attempts {
		switch {
		case a.OK:
			ok++
		case a.Status == http.StatusServiceUnavailable && strings.Contains(a.Error, "try again later") && a.NextAttempt != nil:
			failed++
		default:
			t.Errorf("an attempt logged as %+v", a)
		}
	}
	if ok != len(want) || failed < len(want) {
		t.Errorf("the log has %d successes and %d failures, want %d and at least as many", ok, failed, len(want))
	}

	if code := apiCall(t, http.MethodDelete, second.URL+"/api/v1/webhooks/"+ep.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete endpoint: %d", code)
	}
	if code := apiCall(t, http.MethodGet, second.URL+"/api/v1/webhooks/"+ep.ID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("deleted endpoint: %d, want 404", code)
	}
	req, _ := http.NewRequest(http.MethodGet, second.URL+"/api/v1/webhooks", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("webhooks without the key: %d, want 401", resp.StatusCode)
	}
}
