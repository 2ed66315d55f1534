package origin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/urlsign"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
)

const (
	testEdgeSecret = "origin-test-edge-secret"
	testKeyID      = "test-key-1"
)

var testSigningKey = []byte("origin-test-signing-key")

// startOriginWith runs an origin on loopback against a fresh S3, with cfg
// changed by mutate, and returns its base URL.
func startOriginWith(t *testing.T, mutate func(*origin.Config)) string {
	t.Helper()
	b := startBackend(t)
	return startOriginOn(t, b, 0, func(c *origin.Config, _ *origin.WorkerConfig) {
		c.MediaURL = "http://edge.test:8081"
		if mutate != nil {
			mutate(c)
		}
	}).URL
}

// apiDo sends an API request with the key and decodes a JSON answer into
// out (when not nil).
func apiDo(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// edgeGet fetches a media path from the origin as an edge would (signed
// with secret, or unsigned when secret is empty).
func edgeGet(t *testing.T, base, path, secret string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if secret != "" {
		urlsign.SignRequest(req, []byte(secret), time.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

type fullVideo struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Error         string `json:"error"`
	Visibility    string `json:"visibility"`
	HLSURL        string `json:"hls_url"`
	MP4URL        string `json:"mp4_url"`
	ThumbnailURL  string `json:"thumbnail_url"`
	StoryboardURL string `json:"storyboard_url"`
}

func TestOrigin_MediaOnlyThroughEdgesPrivateVideosSigned(t *testing.T) {
	base := startOriginWith(t, func(c *origin.Config) {
		c.EdgeSecret = testEdgeSecret
		c.SigningKeyID, c.SigningKey = testKeyID, testSigningKey
		c.SignedURLTTL = 2 * time.Hour
	})
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 4, Faststart: true})
	code, v, body := upload(t, base, src, "?title=Private")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	if v = waitDone(t, base, v.ID); v.Status != "ready" {
		t.Fatalf("video failed: %s", v.Error)
	}
	master := "/videos/" + v.ID + "/master.m3u8"

	// Origin Access Control: a viewer is refused, an edge is served.
	resp, body := edgeGet(t, base, master, "")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Media is served through the CDN edges; use the hls_url/mp4_url from the API.") {
		t.Fatalf("unsigned request: %d %s", resp.StatusCode, body)
	}
	if resp, _ := edgeGet(t, base, master, "another secret"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrongly signed request: %d", resp.StatusCode)
	}
	resp, body = edgeGet(t, base, master, testEdgeSecret)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "#EXTM3U") {
		t.Fatalf("edge request: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get(urlsign.AccessHeader) != "" {
		t.Fatal("a public video's content is marked signed")
	}
	// The API stays open.
	var public fullVideo
	if apiDo(t, http.MethodGet, base+"/api/v1/videos/"+v.ID, "", &public) != http.StatusOK || strings.Contains(public.HLSURL, "token=") {
		t.Fatalf("public video: %+v", public)
	}

	// Private: signed URLs for the video's prefix, content marked.
	var private fullVideo
	if code := apiDo(t, http.MethodPatch, base+"/api/v1/videos/"+v.ID, `{"visibility":"private"}`, &private); code != http.StatusOK {
		t.Fatalf("PATCH: %d", code)
	}
	urls := map[string]string{"hls_url": private.HLSURL, "mp4_url": private.MP4URL}
	if private.ThumbnailURL != "" {
		urls["thumbnail_url"], urls["storyboard_url"] = private.ThumbnailURL, private.StoryboardURL
	}
	for name, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || !strings.HasPrefix(raw, "http://edge.test:8081/videos/"+v.ID+"/") {
			t.Fatalf("%s %q", name, raw)
		}
		p, err := urlsign.Verify(u.Query().Get("token"), u.Path, netip.Addr{}, time.Now(), map[string][]byte{testKeyID: testSigningKey})
		if err != nil {
			t.Fatalf("%s %q: %v", name, raw, err)
		}
		if p.Resource != "/videos/"+v.ID+"/" || time.Until(p.Expires) < time.Hour+59*time.Minute || time.Until(p.Expires) > 2*time.Hour {
			t.Fatalf("%s: policy %+v", name, p)
		}
	}
	resp, _ = edgeGet(t, base, master, testEdgeSecret)
	if resp.StatusCode != http.StatusOK || resp.Header.Get(urlsign.AccessHeader) != urlsign.AccessSigned {
		t.Fatalf("private master: %d, %s %q", resp.StatusCode, urlsign.AccessHeader, resp.Header.Get(urlsign.AccessHeader))
	}
	mp4, _ := url.Parse(private.MP4URL)
	resp, _ = edgeGet(t, base, mp4.Path, testEdgeSecret)
	if resp.Header.Get(urlsign.AccessHeader) != urlsign.AccessSigned {
		t.Fatal("private MP4 not marked")
	}
}

func TestOrigin_ConfigChecksAccessSettings(t *testing.T) {
	base := origin.Config{APIKey: "k", MediaURL: "http://e", WebURL: "http://w", S3: store.Config{Bucket: "b"}}
	tests := []struct {
		name   string
		mutate func(*origin.Config)
		want   string
	}{
		{"key without ID", func(c *origin.Config) { c.SigningKey = testSigningKey }, "signing key"},
		{"short key", func(c *origin.Config) { c.SigningKeyID, c.SigningKey = "k1", []byte("short") }, "at least 16 bytes"},
		{"edges without admin token", func(c *origin.Config) { c.Edges = []string{"http://edge-1:8081"} }, "EdgeAdminToken"},
		{"edge not a URL", func(c *origin.Config) { c.Edges, c.EdgeAdminToken = []string{"edge-1:8081"}, "t" }, "absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			if _, err := origin.New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error about %q", err, tt.want)
			}
		})
	}
}
