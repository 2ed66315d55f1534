package steering

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// slowEdgeDelay is what the far edge adds to every answer. It only has to
// dwarf loopback round trips (tens of microseconds); nothing is timed
// against it.
const slowEdgeDelay = 150 * time.Millisecond

func TestRouter_SteersToTheFastEdgeAndFFmpegDecodesTheSteeredMaster(t *testing.T) {
	dir := t.TempDir()
	makeHLS(t, dir, 6)
	slow := startTestEdge(t, "edge-1", dir)
	fast := startTestEdge(t, "edge-2", dir)
	slow.delay.Store(int64(slowEdgeDelay))
	_, router := startRouter(t, testConfig(slow, fast))

	state := waitForEdges(t, router, "both edges measured, the fast one first", func(s edgesState) bool {
		return len(s.Edges) == 2 && s.Edges[0].Samples >= 2 && s.Edges[1].Samples >= 2 &&
			slices.Equal(s.PathwayPriority, []string{"edge-2", "edge-1"})
	})
	t.Logf("router's view: %v", state)

	// The master: steered, the fast edge first, readable by gohlslib.
	masterURL := router + "/videos/" + testVideoID + "/master.m3u8"
	resp, err := http.Get(masterURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("master: %s: %s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("master Content-Type %q", ct)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("master headers: %v", resp.Header)
	}
	want := `#EXT-X-CONTENT-STEERING:SERVER-URI="/steer/` + testVideoID + `",PATHWAY-ID="edge-2"`
	if !bytes.Contains(body, []byte(want)) {
		t.Errorf("master lacks %s:\n%s", want, body)
	}
	var pl playlist.Multivariant
	if err := pl.Unmarshal(body); err != nil {
		t.Fatalf("gohlslib cannot read the steered master: %v\n%s", err, body)
	}
	if len(pl.Variants) != 4 || len(pl.Renditions) != 2 {
		t.Fatalf("gohlslib reads %d variants and %d renditions, want 2 of each per edge:\n%s", len(pl.Variants), len(pl.Renditions), body)
	}
	for i, v := range pl.Variants {
		e := fast
		if i >= 2 {
			e = slow
		}
		if !strings.HasPrefix(v.URI, e.URL+"/videos/"+testVideoID+"/v") {
			t.Errorf("variant %d URI %s, want one on %s", i, v.URI, e.Name)
		}
		if v.Audio != "group_aud@"+e.Name {
			t.Errorf("variant %d audio group %q, want group_aud@%s", i, v.Audio, e.Name)
		}
	}
	for _, r := range pl.Renditions {
		_, name, _ := strings.Cut(r.GroupID, "@")
		if r.URI == nil || !strings.HasPrefix(*r.URI, map[string]string{"edge-1": slow.URL, "edge-2": fast.URL}[name]) {
			t.Errorf("rendition %s URI %v is not on its edge", r.GroupID, r.URI)
		}
	}

	// The steering manifest: by the router's latency, or by the viewer's.
	tests := []struct {
		name       string
		query      string
		wantOrder  []string
		wantReload string
	}{
		{"router latency", "", []string{"edge-2", "edge-1"}, "/steer/" + testVideoID},
		{"what hls.js adds changes nothing", "?_HLS_pathway=edge-2&_HLS_throughput=5000000", []string{"edge-2", "edge-1"}, "/steer/" + testVideoID},
		{"the viewer is nearer the slow edge", "?rtt.edge-1=5&rtt.edge-2=80.5&_HLS_pathway=edge-2",
			[]string{"edge-1", "edge-2"}, "/steer/" + testVideoID + "?rtt.edge-1=5&rtt.edge-2=80.5"},
		{"unknown edges and junk are ignored", "?rtt.edge-9=1&rtt.edge-2=x", []string{"edge-2", "edge-1"}, "/steer/" + testVideoID},
	}
	for _, tc := range tests {
		t.Run("steering/"+tc.name, func(t *testing.T) {
			var m steering
			if err := getJSON(router+"/steer/"+testVideoID+tc.query, &m); err != nil {
				t.Fatal(err)
			}
			if m.Version != 1 || m.TTL != 1 {
				t.Errorf("VERSION %d TTL %d, want 1 and the configured 1", m.Version, m.TTL)
			}
			if !slices.Equal(m.PathwayPriority, tc.wantOrder) {
				t.Errorf("PATHWAY-PRIORITY %v, want %v", m.PathwayPriority, tc.wantOrder)
			}
			if m.ReloadURI != tc.wantReload {
				t.Errorf("RELOAD-URI %q, want %q", m.ReloadURI, tc.wantReload)
			}
		})
	}

	// An independent client plays the steered master to the end.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", masterURL, "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg decoding the steered master: %v\n%s", err, stderr.String())
	}
	for line := range strings.Lines(stderr.String()) {
		// ffmpeg's HLS demuxer tries to reuse the master's keep-alive
		// connection for the first media playlist, finds it is on another
		// host (the edge, not the router), says so at error level and
		// opens a new connection. Any master whose media lives on another
		// host gets this line; it is not a decoding error. Anything else
		// is.
		if !strings.Contains(line, "Cannot reuse HTTP connection for different host") {
			t.Errorf("ffmpeg reported: %s", strings.TrimSpace(line))
		}
	}
	if n := len(fast.requestsMatching(".m4s")); n == 0 {
		t.Error("ffmpeg fetched no segment from the edge listed first")
	}
	t.Logf("ffmpeg fetched %d segments from the fast edge, %d from the slow one",
		len(fast.requestsMatching(".m4s")), len(slow.requestsMatching(".m4s")))
}

func TestRouter_PutsADownEdgeLastAndBackWhenItRecovers(t *testing.T) {
	dir := t.TempDir()
	makeHLS(t, dir, 2)
	a := startTestEdge(t, "edge-1", dir)
	b := startTestEdge(t, "edge-2", dir)
	a.delay.Store(int64(slowEdgeDelay))
	_, router := startRouter(t, testConfig(a, b))
	steerOrder := func(query string) []string {
		var m steering
		if err := getJSON(router+"/steer/"+testVideoID+query, &m); err != nil {
			t.Fatal(err)
		}
		return m.PathwayPriority
	}

	waitForEdges(t, router, "edge-2 (fast) first", func(s edgesState) bool {
		return slices.Equal(s.PathwayPriority, []string{"edge-2", "edge-1"})
	})
	b.down.Store(true)
	state := waitForEdges(t, router, "edge-2 marked down", func(s edgesState) bool { return !s.Edges[1].Up })
	if !strings.Contains(state.Edges[1].Error, "503") {
		t.Errorf("down edge's error %q does not say what failed", state.Edges[1].Error)
	}
	// Whatever the viewer measured: a down edge is last.
	if got := steerOrder("?rtt.edge-1=90&rtt.edge-2=1&_HLS_pathway=edge-2"); !slices.Equal(got, []string{"edge-1", "edge-2"}) {
		t.Errorf("with edge-2 down, PATHWAY-PRIORITY %v, want [edge-1 edge-2]", got)
	}
	// Downloads go to the healthy edge too.
	resp, err := noRedirects.Get(router + "/videos/" + testVideoID + "/r/720p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, a.URL+"/") {
		t.Errorf("with edge-2 down, download redirected to %q", loc)
	}

	b.down.Store(false)
	waitForEdges(t, router, "edge-2 up and first again", func(s edgesState) bool {
		return s.Edges[1].Up && slices.Equal(s.PathwayPriority, []string{"edge-2", "edge-1"})
	})
	if got := steerOrder(""); !slices.Equal(got, []string{"edge-2", "edge-1"}) {
		t.Errorf("after recovery, PATHWAY-PRIORITY %v", got)
	}
}

func TestRouter_FetchesTheMasterFromAnotherEdgeWhenOneIsUnreachable(t *testing.T) {
	dir := t.TempDir()
	makeHLS(t, dir, 2)
	dead := startTestEdge(t, "edge-1", dir)
	alive := startTestEdge(t, "edge-2", dir)
	dead.srv.Close() // connection refused from now on
	cfg := testConfig(dead, alive)
	// Health checks too rare to notice within the test: the master fetch
	// itself has to fall over to the next edge.
	cfg.HealthCheckInterval = time.Hour
	cfg.LatencyProbeInterval = -1
	cfg.FailAfter = 1000
	_, router := startRouter(t, cfg)

	resp, err := http.Get(router + "/videos/" + testVideoID + "/master.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("master with one edge unreachable: %s: %s", resp.Status, body)
	}
	if len(alive.requestsMatching("/master.m3u8")) != 1 {
		t.Errorf("the reachable edge was asked %d times for the master", len(alive.requestsMatching("/master.m3u8")))
	}
	// Both pathways are still listed: the player has its own fallback.
	for _, e := range []*testEdge{dead, alive} {
		if !bytes.Contains(body, []byte(`PATHWAY-ID="`+e.Name+`"`)) {
			t.Errorf("steered master has no pathway %s", e.Name)
		}
	}
}

func TestRouter_CachesTheMasterAsItsCacheControlAllows(t *testing.T) {
	dir := t.TempDir()
	makeHLS(t, dir, 2)
	tests := []struct {
		name         string
		cacheControl string
		concurrent   bool
		wantFetches  int
	}{
		{"max-age, ten viewers at once: one fetch", "public, max-age=60", true, 1},
		{"max-age, ten viewers in turn: one fetch", "public, max-age=60", false, 1},
		{"no-store: one fetch per viewer", "no-store", false, 10},
		{"nothing said: one fetch per viewer", "", false, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startTestEdge(t, "edge-1", dir)
			e.masterCache.Store(tc.cacheControl)
			cfg := testConfig(e)
			cfg.MasterCacheTTL = time.Minute
			_, router := startRouter(t, cfg)
			get := func() {
				resp, err := http.Get(router + "/videos/" + testVideoID + "/master.m3u8")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("master: %s", resp.Status)
				}
			}
			var wg sync.WaitGroup
			for range 10 {
				if tc.concurrent {
					wg.Go(get)
				} else {
					get()
				}
			}
			wg.Wait()
			if got := len(e.requestsMatching("/master.m3u8")); got != tc.wantFetches {
				t.Errorf("edge fetched the master %d times for 10 viewers, want %d", got, tc.wantFetches)
			}
		})
	}
}

func TestRouter_CarriesTheViewersCredentialsOnceAndNeverShares(t *testing.T) {
	dir := t.TempDir()
	makeHLS(t, dir, 2)
	e := startTestEdge(t, "edge-1", dir)
	e.masterCache.Store("public, max-age=60") // cacheable, yet per token
	cfg := testConfig(e)
	cfg.MasterCacheTTL = time.Minute
	_, router := startRouter(t, cfg)

	get := func(query, cookie string) string {
		req, err := http.NewRequest(http.MethodGet, router+"/videos/"+testVideoID+"/master.m3u8"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "Streamfront-Token", Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("master%s: %s: %s", query, resp.Status, body)
		}
		return string(body)
	}
	body := get("?token=tok.A&exp=9", "")
	var pl playlist.Multivariant
	if err := pl.Unmarshal([]byte(body)); err != nil {
		t.Fatal(err)
	}
	uris := []string{}
	for _, v := range pl.Variants {
		uris = append(uris, v.URI)
	}
	for _, r := range pl.Renditions {
		uris = append(uris, *r.URI)
	}
	for _, u := range uris {
		// The edge put the token on; the router adds what is missing.
		if strings.Count(u, "token=tok.A") != 1 || !strings.HasSuffix(u, "?token=tok.A&exp=9") {
			t.Errorf("URI %s does not carry the viewer's query exactly once", u)
		}
	}
	get("?token=tok.B", "")
	get("", "cookie-C")
	get("", "cookie-C") // cached under its own key
	if got := e.requestsMatching("/master.m3u8"); len(got) != 3 {
		t.Errorf("edge master fetches %v, want one per credential", got)
	}
	if got := e.receivedCookies(); !slices.Equal(got, []string{"cookie-C"}) {
		t.Errorf("cookies the edge received: %v", got)
	}
}

func TestRouter_RedirectsEverythingElseUnderVideosKeepingTheQuery(t *testing.T) {
	dir := t.TempDir()
	e := startTestEdge(t, "edge-1", dir)
	_, router := startRouter(t, testConfig(e))
	v := "/videos/" + testVideoID
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantLoc    string
	}{
		{"download with a signed token", "GET", v + "/r/720p.mp4?token=a%2Bb%3D&exp=1700000000&sig=x", 302,
			e.URL + v + "/r/720p.mp4?token=a%2Bb%3D&exp=1700000000&sig=x"},
		{"download without query", "GET", v + "/r/720p.mp4", 302, e.URL + v + "/r/720p.mp4"},
		{"HEAD", "HEAD", v + "/r/720p.mp4?t=1", 302, e.URL + v + "/r/720p.mp4?t=1"},
		{"escaped path kept escaped", "GET", v + "/thumbs/a%20b.jpg", 302, e.URL + v + "/thumbs/a%20b.jpg"},
		{"media playlist asked of the router", "GET", v + "/v144p/index.m3u8", 302, e.URL + v + "/v144p/index.m3u8"},
		{"no file", "GET", v, 404, ""},
		{"dot segments", "GET", v + "/../../healthz", 404, ""},
		{"double slash", "GET", v + "//r/x.mp4", 404, ""},
		{"bad id", "GET", "/videos/a.b/r/x.mp4", 404, ""},
		{"unknown path", "GET", "/api/v1/videos", 404, ""},
		{"writes refused", "POST", v + "/r/720p.mp4", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, router+tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus != 302 {
				if tc.method != "HEAD" {
					var msg map[string]string
					if err := json.Unmarshal(body, &msg); err != nil || msg["error"] == "" {
						t.Errorf("error body %q is not {\"error\": ...}", body)
					}
				}
				return
			}
			if got := resp.Header.Get("Location"); got != tc.wantLoc {
				t.Errorf("Location %q, want %q", got, tc.wantLoc)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestRouter_ReachesEdgesByInternalURLAndSendsViewersToURL(t *testing.T) {
	dir := t.TempDir()
	makeHLS(t, dir, 2)
	e := startTestEdge(t, "edge-1", dir)
	// Viewers reach the edge by a name the router cannot resolve (as
	// "localhost:8081" from inside a container); the router by its own.
	public := "http://edge-1.viewers.invalid:8081"
	cfg := testConfig()
	cfg.Edges = []Edge{{Name: "edge-1", URL: public, InternalURL: e.URL}}
	_, router := startRouter(t, cfg)
	waitForEdges(t, router, "edge measured through its internal URL", func(s edgesState) bool {
		return s.Edges[0].Up && s.Edges[0].Samples >= 2
	})
	resp, err := http.Get(router + "/videos/" + testVideoID + "/master.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("master: %s: %s", resp.Status, body)
	}
	if strings.Contains(string(body), e.URL) || !strings.Contains(string(body), public+"/videos/"+testVideoID+"/v144p/index.m3u8") ||
		!strings.Contains(string(body), `VALUE="`+public+`/healthz"`) {
		t.Errorf("steered master must name only the public URL:\n%s", body)
	}
	resp, err = noRedirects.Get(router + "/videos/" + testVideoID + "/r/a.mp4")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != public+"/videos/"+testVideoID+"/r/a.mp4" {
		t.Errorf("Location %q", loc)
	}
}

func TestRouter_SteersEveryMasterPlaylistOfAVideo(t *testing.T) {
	dir := t.TempDir()
	makeHLS(t, dir, 2)
	master, err := os.ReadFile(filepath.Join(dir, "master.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	// As the origin's MPEG-TS master for old players, by name.
	if err := os.WriteFile(filepath.Join(dir, "master-ts.m3u8"), master, 0o644); err != nil {
		t.Fatal(err)
	}
	e := startTestEdge(t, "edge-1", dir)
	_, router := startRouter(t, testConfig(e))
	v := router + "/videos/" + testVideoID
	for _, tc := range []struct {
		path    string
		steered bool
	}{
		{"/master.m3u8", true},
		{"/master-ts.m3u8", true},
		{"/v144p/index.m3u8", false},
		{"/master-.m3u8", false},
		{"/masterx.m3u8", false},
	} {
		resp, err := noRedirects.Get(v + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		steered := resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte("#EXT-X-CONTENT-STEERING:"))
		if steered != tc.steered || (!tc.steered && resp.StatusCode != http.StatusFound) {
			t.Errorf("%s: %s, steered %v, want steered %v (else a redirect)", tc.path, resp.Status, steered, tc.steered)
		}
	}
}

func TestRouter_PassesOnAMissingVideo(t *testing.T) {
	e := startTestEdge(t, "edge-1", t.TempDir())
	_, router := startRouter(t, testConfig(e))
	resp, err := http.Get(router + "/videos/ffffffffffffffff/master.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "There is no such video") {
		t.Errorf("missing video: %s %s", resp.Status, body)
	}
}

func TestNew_RefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no edges", Config{}, "at least one edge"},
		{"bad name", Config{Edges: []Edge{{Name: "edge 1", URL: "http://a"}}}, "Pathway ID"},
		{"duplicate name", Config{Edges: []Edge{{Name: "e", URL: "http://a"}, {Name: "e", URL: "http://b"}}}, "used twice"},
		{"relative URL", Config{Edges: []Edge{{Name: "e", URL: "/edge"}}}, "absolute http(s) URL"},
		{"URL with query", Config{Edges: []Edge{{Name: "e", URL: "http://a/?x=1"}}}, "without query"},
		{"duplicate URL", Config{Edges: []Edge{{Name: "a", URL: "http://a/"}, {Name: "b", URL: "http://a"}}}, "used twice"},
		{"weight", Config{Edges: []Edge{{Name: "e", URL: "http://a"}}, RTTWeight: 2}, "RTTWeight"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error about %q", err, tc.want)
			}
		})
	}
	rt, err := New(Config{Edges: []Edge{{Name: "edge-1", URL: "http://localhost:8081/"}}, SteeringTTL: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rt.cfg.Addr != ":8083" || rt.cfg.SteeringTTL != 2*time.Second || rt.cfg.Edges[0].URL != "http://localhost:8081" || rt.cfg.FailAfter != 3 {
		t.Errorf("defaults: %+v", rt.cfg)
	}
}
