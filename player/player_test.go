package player

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeBuild is a dist folder as npm leaves it, small enough to read.
func fakeBuild() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":      {Data: nil},
		"player.js":     {Data: []byte(strings.Repeat("console.log('streamfront');\n", 200))},
		"player.js.map": {Data: []byte(`{"version":3}`)},
		"player.css":    {Data: []byte(".sf-player{display:flex}")},
	}
}

func TestAssets_ServesFilesWithTypesCacheAndETag(t *testing.T) {
	assets, err := newAssets(fakeBuild())
	if err != nil {
		t.Fatal(err)
	}
	if !assets.Built() || assets.Version() == "" {
		t.Fatalf("Built() = %v, Version() = %q; want a built player with a version", assets.Built(), assets.Version())
	}
	versioned := "?v=" + assets.Version()
	tests := []struct {
		name        string
		method      string
		target      string
		wantStatus  int
		wantType    string
		wantCache   string
		wantBodyHas string
	}{
		{"script by version", http.MethodGet, "/player.js" + versioned, 200, "text/javascript; charset=utf-8", versionedCacheControl, "streamfront"},
		{"script without version", http.MethodGet, "/player.js", 200, "text/javascript; charset=utf-8", unversionedCacheControl, "streamfront"},
		{"script with an old version", http.MethodGet, "/player.js?v=0123456789ab", 200, "text/javascript; charset=utf-8", unversionedCacheControl, "streamfront"},
		{"stylesheet", http.MethodGet, "/player.css" + versioned, 200, "text/css; charset=utf-8", versionedCacheControl, ".sf-player"},
		{"source map", http.MethodGet, "/player.js.map", 200, "application/json; charset=utf-8", unversionedCacheControl, `"version"`},
		{"head", "HEAD", "/player.css", 200, "text/css; charset=utf-8", unversionedCacheControl, ""},
		{"dot-dot stays inside", http.MethodGet, "/../player.css", 200, "text/css; charset=utf-8", unversionedCacheControl, ".sf-player"},
		{"gitkeep is not served", http.MethodGet, "/.gitkeep", 404, "", "", "no file"},
		{"unknown file", http.MethodGet, "/nope.js", 404, "", "", "no file"},
		{"writes refused", "POST", "/player.js", 405, "", "", "read-only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			assets.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %q)", res.StatusCode, tc.wantStatus, body)
			}
			if !strings.Contains(string(body), tc.wantBodyHas) {
				t.Errorf("body %q does not contain %q", body, tc.wantBodyHas)
			}
			if tc.wantStatus != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			if got := res.Header.Get("Cache-Control"); got != tc.wantCache {
				t.Errorf("Cache-Control %q, want %q", got, tc.wantCache)
			}
			if res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
}

func TestAssets_AnswersNotModifiedForItsETag(t *testing.T) {
	assets, err := newAssets(fakeBuild())
	if err != nil {
		t.Fatal(err)
	}
	first := httptest.NewRecorder()
	assets.ServeHTTP(first, httptest.NewRequest(http.MethodGet, "/player.css", nil))
	etag := first.Result().Header.Get("ETag")

	req := httptest.NewRequest(http.MethodGet, "/player.css", nil)
	req.Header.Set("If-None-Match", etag)
	again := httptest.NewRecorder()
	assets.ServeHTTP(again, req)
	if again.Code != http.StatusNotModified {
		t.Fatalf("status %d for If-None-Match %s, want 304", again.Code, etag)
	}
}

func TestAssets_CompressesForClientsThatAcceptGzip(t *testing.T) {
	assets, err := newAssets(fakeBuild())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		acceptEncoding string
		wantGzip       bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	}
	plain := strings.Repeat("console.log('streamfront');\n", 200)
	for _, tc := range tests {
		t.Run(tc.acceptEncoding, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/player.js", nil)
			req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			rec := httptest.NewRecorder()
			assets.ServeHTTP(rec, req)
			res := rec.Result()
			if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", got)
			}
			var body io.Reader = res.Body
			gotGzip := res.Header.Get("Content-Encoding") == "gzip"
			if gotGzip != tc.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip=%v", res.Header.Get("Content-Encoding"), tc.wantGzip)
			}
			if gotGzip {
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			got, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != plain {
				t.Errorf("decoded body differs from the file (%d bytes, want %d)", len(got), len(plain))
			}
		})
	}
}

func TestAssets_NotBuiltAnswers503WithTheBuildCommand(t *testing.T) {
	assets, err := newAssets(fstest.MapFS{".gitkeep": {Data: nil}})
	if err != nil {
		t.Fatal(err)
	}
	if assets.Built() {
		t.Fatal("Built() = true for a dist folder holding only .gitkeep")
	}
	rec := httptest.NewRecorder()
	assets.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/player.js", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "make build") {
		t.Errorf("body %q does not say to run make build", rec.Body.String())
	}
}
