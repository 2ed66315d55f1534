package stack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
)

// Viewers enter at one URL, an edge's: the site's pages, static files and
// player come from its cache, the API passes through it to the origin,
// and the media are delivered by it. An edit purges the video's page.
// (TestStack_UploadPackageDeliverPlay plays the watch page in Chromium at
// the same URL, page_url.)
func TestStack_TheSiteThroughAnEdge(t *testing.T) {
	st := startStack(t)
	site := st.SiteURL
	if site != st.EdgeURLs[0] || site == st.WebURL {
		t.Fatalf("viewers' URL %s: want the first edge %s, not the web process %s", site, st.EdgeURLs[0], st.WebURL)
	}

	// The API through the edge: upload, then follow the progress stream.
	const seconds = 4.0
	v := uploadMultipart(t, site, testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: seconds}), "Through the edge")
	v = waitReady(t, site, v.ID)
	if !strings.HasPrefix(v.PageURL, site+"/watch/") {
		t.Fatalf("page_url %s is not on the viewers' URL %s", v.PageURL, site)
	}

	// twice GETs url twice and returns the second answer's body after
	// checking that the first came from the site and the second from the
	// edge's cache.
	twice := func(t *testing.T, url string) string {
		t.Helper()
		first, _ := get(t, url, nil)
		second, body := get(t, url, nil)
		if first.StatusCode != http.StatusOK || second.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d then %d", url, first.StatusCode, second.StatusCode)
		}
		if x := second.Header.Get("X-Cache"); !strings.HasPrefix(x, "Hit from edge-1") {
			t.Fatalf("second GET %s: X-Cache %q (first %q), want a hit from edge-1", url, x, first.Header.Get("X-Cache"))
		}
		return string(body)
	}

	var page string
	t.Run("pages are hits the second time", func(t *testing.T) {
		library := twice(t, site+"/")
		if !strings.Contains(library, "Through the edge") {
			t.Errorf("the library page does not list the video")
		}
		page = twice(t, v.PageURL)
	})

	t.Run("static files and the player are immutable hits", func(t *testing.T) {
		assets := regexp.MustCompile(`(?:href|src)="(/(?:static|player)/[^"?]+\?v=[0-9a-f]+)"`).FindAllStringSubmatch(page, -1)
		seen := map[string]bool{}
		for _, a := range assets {
			seen[strings.SplitN(a[1], "/", 3)[1]] = true
		}
		if !seen["static"] || !seen["player"] {
			t.Fatalf("the watch page links %v: want fingerprinted /static/ and /player/ files", assets)
		}
		for _, a := range assets {
			url := site + a[1]
			twice(t, url)
			resp, _ := get(t, url, nil)
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("GET %s: Cache-Control %q, want immutable", url, cc)
			}
		}
	})

	t.Run("ffmpeg decodes the HLS and the MP4 through it", func(t *testing.T) {
		for _, u := range []string{strings.Replace(v.HLSURL, st.RouterURL, site, 1), strings.Replace(v.MP4URL, st.RouterURL, site, 1)} {
			if d := testenv.Decode(t, u); d < seconds-0.1 || d > seconds+0.1 {
				t.Errorf("%s decodes to %.3f s, source is %.1f s", u, d, seconds)
			}
		}
	})

	t.Run("an edit purges the watch page and the library", func(t *testing.T) {
		// Cached now, whatever the subtests before did.
		twice(t, v.PageURL)
		twice(t, site+"/")
		patchVideo(t, site, v.ID, `{"title":"Renamed through the edge"}`)
		for _, page := range []string{v.PageURL, site + "/"} {
			resp, body := get(t, page, nil)
			if x := resp.Header.Get("X-Cache"); !strings.HasPrefix(x, "Miss") {
				t.Errorf("%s after the edit: X-Cache %q, want a miss", page, x)
			}
			if !strings.Contains(string(body), "Renamed through the edge") {
				t.Errorf("%s after the edit does not show the new title", page)
			}
		}
	})

	t.Run("an invalidation with an API key reaches the origin's fan-out", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, site+"/api/v1/invalidations",
			strings.NewReader(`{"paths":["/videos/`+v.ID+`/master.m3u8"]}`))
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
		if resp.StatusCode != http.StatusAccepted || out.ID == "" || len(out.Edges) != 2 {
			t.Fatalf("POST /api/v1/invalidations at the viewers' URL: %d %+v, want the origin's 202 for both edges", resp.StatusCode, out)
		}
	})

	t.Run("Chromium uploads on the upload page through it", func(t *testing.T) {
		node := testenv.Require(t, "node")
		testenv.Require(t, "chromium")
		root := testenv.RepoRoot(t)
		clip := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "browser.mp4", Seconds: 2})
		shot := filepath.Join(testenv.ArtifactDir(t), "site-upload.png")
		// The page comes pre-filled with the key (web.show_api_key, as in
		// make run); it uploads by tus, then follows the progress stream.
		cmd := exec.Command(node, filepath.Join(root, "web", "e2e", "upload.mjs"),
			"--url", site+"/upload", "--file", clip, "--screenshot", shot, "--title", "From the browser", "--timeout-ms", "90000")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("the upload page did not reach ready: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		var res struct {
			WatchURL string `json:"watchURL"`
			Errors   []any  `json:"errors"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil || res.WatchURL == "" || len(res.Errors) > 0 {
			t.Fatalf("upload.mjs: %s (%v)", stdout.String(), err)
		}
	})

	t.Run("a private video's page is never a hit", func(t *testing.T) {
		patchVideo(t, site, v.ID, `{"visibility":"private"}`)
		for i := range 2 {
			resp, _ := get(t, v.PageURL, nil)
			if resp.StatusCode != http.StatusOK || strings.HasPrefix(resp.Header.Get("X-Cache"), "Hit") {
				t.Fatalf("GET %d of the private page: %d, X-Cache %q", i+1, resp.StatusCode, resp.Header.Get("X-Cache"))
			}
		}
	})
}
