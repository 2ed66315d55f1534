package origin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
)

// postView reports a view as the player does, from the viewer ua at the
// address the site's proxy says (X-Forwarded-For).
func postView(t *testing.T, base, id, ua, addr string) (int, bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/videos/"+id+"/views", nil)
	req.Header.Set("User-Agent", ua)
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Counted bool `json:"counted"`
	}
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out.Counted
}

// Each viewer counts once per video per hour; the counts reach the video's
// JSON within a flush.
func TestViews_OnePerViewerPerHour(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	base, _ := startOrigin(t)
	code, v, body := upload(t, base, testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 2}), "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	if code, _ := postView(t, base, "nosuchvideo", "ua", "192.0.2.1"); code != http.StatusNotFound {
		t.Errorf("a view of no video: %d, want 404", code)
	}
	waitDone(t, base, v.ID)

	for _, c := range []struct {
		ua, addr string
		counted  bool
	}{
		{"player/1", "192.0.2.1", true},
		{"player/1", "192.0.2.1", false},              // the same viewer again
		{"player/1", "203.0.113.9, 192.0.2.1", false}, // a forged first entry changes nothing
		{"player/2", "192.0.2.1", true},               // another browser at that address
		{"player/1", "192.0.2.2", true},               // another address
	} {
		code, counted := postView(t, base, v.ID, c.ua, c.addr)
		if code != http.StatusAccepted || counted != c.counted {
			t.Errorf("view from %s at %s: %d counted=%t, want 202 counted=%t", c.ua, c.addr, code, counted, c.counted)
		}
	}
	type viewed struct {
		Views int64 `json:"views"`
	}
	got := testenv.WaitVideo(t, base, v.ID, "3 views counted", 30*time.Second, func(v viewed) bool { return v.Views >= 3 })
	if got.Views != 3 {
		t.Errorf("views = %d, want 3", got.Views)
	}
	// Nothing personal is stored: the catalog has a number.
	resp, err := http.Get(base + "/api/v1/videos/" + v.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(raw), "192.0.2") || strings.Contains(string(raw), "player/1") {
		t.Errorf("the video's JSON holds a viewer's address or browser: %s", raw)
	}
}
