package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/player"
)

func TestNew_ChecksTheConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no API URL", Config{}, "Config.APIURL is required"},
		{"relative API URL", Config{APIURL: "127.0.0.1:8090"}, "absolute http:// or https:// URL"},
		{"API URL with a query", Config{APIURL: "http://127.0.0.1:8090/?x=1"}, "without ?query"},
		{"bad public URL", Config{APIURL: "http://127.0.0.1:8090", PublicURL: "ftp://x"}, "Config.PublicURL"},
		{"valid", Config{APIURL: "http://127.0.0.1:8090/"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultPublicURL(t *testing.T) {
	tests := map[string]string{
		":8080":          "http://localhost:8080",
		"0.0.0.0:9000":   "http://localhost:9000",
		"[::]:9000":      "http://localhost:9000",
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"example.test:1": "http://example.test:1",
	}
	for addr, want := range tests {
		if got := defaultPublicURL(addr); got != want {
			t.Errorf("defaultPublicURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestServer_ServesHealthStaticAndPlayerThenShutsDown(t *testing.T) {
	site := newTestSite(t, startAPI(t, nil, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- site.Serve(ctx, ln) }()

	assets, err := player.New()
	if err != nil {
		t.Fatal(err)
	}
	playerStatus, playerType := http.StatusServiceUnavailable, "text/plain; charset=utf-8"
	if assets.Built() {
		playerStatus, playerType = http.StatusOK, "text/javascript; charset=utf-8"
	}
	tests := []struct {
		path       string
		wantStatus int
		wantType   string
		wantCache  string
	}{
		{"/healthz", http.StatusOK, "text/plain; charset=utf-8", ""},
		{site.static.url("site.css"), http.StatusOK, "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		{site.static.url("upload.js"), http.StatusOK, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/static/nope.css", http.StatusNotFound, "", ""},
		{"/player/player.js?v=" + assets.Version(), playerStatus, playerType, ""},
	}
	for _, tc := range tests {
		res, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != tc.wantStatus {
			t.Errorf("GET %s: status %d, want %d", tc.path, res.StatusCode, tc.wantStatus)
		}
		if tc.wantType != "" && res.Header.Get("Content-Type") != tc.wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, res.Header.Get("Content-Type"), tc.wantType)
		}
		if tc.wantCache != "" && res.Header.Get("Cache-Control") != tc.wantCache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, res.Header.Get("Cache-Control"), tc.wantCache)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff header", tc.path)
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v, want nil", err)
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("the site still answers after shutdown")
	}
}
