package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minAccessibility is the Lighthouse accessibility score every page must
// reach (issue 10).
const minAccessibility = 95

// TestLighthouse_EveryPageIsAccessible audits every page of the site,
// the dashboard's included (signed in), with Lighthouse in Chromium (light
// colour scheme, Lighthouse's default).
func TestLighthouse_EveryPageIsAccessible(t *testing.T) {
	requirePlayerTooling(t)
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "lighthouse", "package.json")); err != nil {
		t.Fatal("web/e2e/node_modules is not installed, so Lighthouse cannot run: run `make build` (or `cd web/e2e && npm ci`)")
	}
	processing := readyVideo(videoID(3), fixtureTime(9))
	processing.Status, processing.Stage, processing.Percent, processing.HLSURL = statusProcessing, "transcoding", 40, ""
	o := startAdminOrigin(t, testAdminKey, []video{readyVideo(videoID(1), fixtureTime(0)), readyVideo(videoID(2), fixtureTime(5)), processing}, []usageRow{
		{Start: time.Now().UTC().Add(-time.Hour), Video: videoID(1), Edge: "edge-1", usageTotals: usageTotals{BytesOut: 5_000_000, Requests: 40, OriginBytes: 1_000_000}},
	})
	o.lives = []liveStream{onAirStream(videoID(7)), offAirStream(videoID(8))}
	o.withOperations()
	s, err := New(Config{APIURL: o.URL, RouterURL: startFixtureRouter(t), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	site := startSite(t, s)

	// The error page is left out: Lighthouse does not audit a 404.
	public := []string{"/", "/upload", "/watch/" + videoID(1), "/watch/" + videoID(3), "/embed/" + videoID(1),
		"/live/" + videoID(7), "/live/" + videoID(8),
		"/docs/api", "/admin/sign-in"}
	admin := []string{"/admin", "/admin/videos", "/admin/videos/" + videoID(1), "/admin/invalidations", "/admin/edges", "/admin/live", "/admin/queue"}

	// Sign in over HTTP, as a browser would, for the dashboard's pages.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(site+"/admin/sign-in", url.Values{"api_key": {testAdminKey}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(res.Cookies()) != 1 {
		t.Fatalf("sign-in: HTTP %d, no session cookie", res.StatusCode)
	}
	cookie := res.Cookies()[0]

	pages := runLighthouse(t, site, public, "")
	pages = append(pages, runLighthouse(t, site, admin, cookie.Name+"="+cookie.Value)...)
	for _, p := range pages {
		t.Logf("%s: accessibility %d", p.URL, p.Score)
		if p.RuntimeError != "" {
			t.Errorf("%s: Lighthouse could not audit it: %s", p.URL, p.RuntimeError)
		}
		if strings.Contains(p.URL, "/admin/") && p.URL != site+"/admin/sign-in" && strings.Contains(p.FinalURL, "sign-in") {
			t.Errorf("%s: audited the sign-in form instead (the session was not sent)", p.URL)
		}
		if p.Score < minAccessibility {
			t.Errorf("%s: accessibility %d, want at least %d; failing: %+v", p.URL, p.Score, minAccessibility, p.Failing)
		}
	}
}

type lighthousePage struct {
	URL          string `json:"url"`
	FinalURL     string `json:"finalURL"`
	Score        int    `json:"score"`
	RuntimeError string `json:"runtimeError"`
	Failing      []struct {
		ID    string   `json:"id"`
		Nodes []string `json:"nodes"`
	} `json:"failing"`
}

func runLighthouse(t *testing.T, site string, paths []string, cookie string) []lighthousePage {
	t.Helper()
	args := []string{filepath.Join("e2e", "lighthouse.mjs")}
	for _, p := range paths {
		args = append(args, "--url", site+p)
	}
	if cookie != "" {
		args = append(args, "--cookie", cookie)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute) // only a hung browser hits this
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res struct {
		OK     bool             `json:"ok"`
		Reason string           `json:"reason"`
		Pages  []lighthousePage `json:"pages"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("lighthouse.mjs printed no JSON result (%v; exit %v)\nstderr: %s", err, runErr, stderr.String())
	}
	if !res.OK || len(res.Pages) != len(paths) {
		t.Fatalf("lighthouse.mjs: %s (exit %v)\nstderr: %s", res.Reason, runErr, stderr.String())
	}
	return res.Pages
}
