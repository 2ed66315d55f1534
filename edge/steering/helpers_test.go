package steering

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testVideoID is the video every test edge serves.
const testVideoID = "0123456789abcdef"

// makeHLS writes dir/master.m3u8: CMAF (fMP4) HLS of a test picture and a
// tone, seconds long, cut in 1 s segments (a keyframe every 25 frames at
// 25 fps), with two video renditions (256x144, 160x90) sharing an audio
// rendition group, as the origin lays out its ladders. Small pictures keep
// encoding and decoding cheap on two cores.
func makeHLS(t *testing.T, dir string, seconds int) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is not on PATH; the router's tests need it (Debian: apt-get install ffmpeg)")
	}
	args := []string{
		"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=256x144:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(seconds),
		"-filter_complex", "[0:v]split=2[big][small0];[small0]scale=160:90[small]",
		"-map", "[big]", "-map", "[small]", "-map", "1:a",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
		"-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
		"-b:v:0", "300k", "-b:v:1", "120k",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2",
		"-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
		"-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
		"-hls_segment_filename", filepath.Join(dir, "v%v", "seg%03d.m4s"),
		"-master_pl_name", "master.m3u8",
		"-var_stream_map", "v:0,agroup:aud,name:144p v:1,agroup:aud,name:90p a:0,agroup:aud,name:audio,default:yes",
		filepath.Join(dir, "v%v", "index.m3u8"),
	}
	cmd := exec.CommandContext(t.Context(), "ffmpeg", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// testEdge is a real HTTP server on loopback standing in for an edge: it
// serves dir under /videos/{testVideoID}/, answers /healthz (503 while
// down is set), waits delay before every answer (a far-away edge), and
// records the paths it was asked for.
type testEdge struct {
	Edge
	srv *httptest.Server

	down         atomic.Bool
	delay        atomic.Int64 // nanoseconds, every answer
	segmentDelay atomic.Int64 // nanoseconds, media segments (init and parts) only
	masterCache  atomic.Value // Cache-Control of master.m3u8 (string)
	afterMaster  atomic.Value // func(), called after each master playlist served

	mu       sync.Mutex
	requests []string
	cookies  []string // Streamfront-Token cookies received
}

func startTestEdge(t *testing.T, name, dir string) *testEdge {
	t.Helper()
	e := &testEdge{}
	e.masterCache.Store("")
	files := http.StripPrefix("/videos/"+testVideoID, http.FileServer(http.Dir(dir)))
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.requests = append(e.requests, r.URL.RequestURI())
		if c, err := r.Cookie("Streamfront-Token"); err == nil {
			e.cookies = append(e.cookies, c.Value)
		}
		e.mu.Unlock()
		if d := time.Duration(e.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		if d := time.Duration(e.segmentDelay.Load()); d > 0 && (strings.HasSuffix(r.URL.Path, ".m4s") || strings.HasSuffix(r.URL.Path, ".mp4")) {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		h := w.Header()
		h.Set("X-Edge", name)
		h.Set("Access-Control-Allow-Origin", "*")
		switch {
		case r.URL.Path == "/healthz":
			h.Set("Cache-Control", "no-store")
			if e.down.Load() {
				http.Error(w, "draining", http.StatusServiceUnavailable)
				return
			}
			io.WriteString(w, "ok\n")
		case strings.HasPrefix(r.URL.Path, "/videos/"+testVideoID+"/"):
			if strings.HasSuffix(r.URL.Path, "/master.m3u8") {
				if cc := e.masterCache.Load().(string); cc != "" {
					h.Set("Cache-Control", cc)
				}
				if token := r.URL.Query().Get("token"); token != "" {
					// As a real edge does for signed videos: the token
					// goes onto every URI of the playlist.
					serveWithToken(w, filepath.Join(dir, "master.m3u8"), token)
					return
				}
			}
			if strings.HasSuffix(r.URL.Path, ".m3u8") {
				h.Set("Content-Type", "application/vnd.apple.mpegurl")
			}
			files.ServeHTTP(w, r)
			if f, ok := e.afterMaster.Load().(func()); ok && strings.HasSuffix(r.URL.Path, "/master.m3u8") {
				f()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(e.srv.Close)
	e.Edge = Edge{Name: name, URL: e.srv.URL}
	return e
}

// serveWithToken serves the playlist at file with "?token=" added to
// every URI line and URI attribute.
func serveWithToken(w http.ResponseWriter, file, token string) {
	body, err := os.ReadFile(file)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	param := "token=" + url.QueryEscape(token)
	var out strings.Builder
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line != "" && !strings.HasPrefix(line, "#"):
			line += "?" + param
		case strings.Contains(line, `URI="`):
			i := strings.Index(line, `URI="`) + len(`URI="`)
			j := i + strings.IndexByte(line[i:], '"')
			line = line[:j] + "?" + param + line[j:]
		}
		out.WriteString(line + "\n")
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	io.WriteString(w, out.String())
}

// receivedCookies returns the Streamfront-Token cookies the edge was sent.
func (e *testEdge) receivedCookies() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.cookies)
}

// requestsMatching returns the recorded request URIs containing substr.
func (e *testEdge) requestsMatching(substr string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, r := range e.requests {
		if strings.Contains(r, substr) {
			out = append(out, r)
		}
	}
	return out
}

// testConfig is a Config that notices changes within a fraction of a
// second, for tests.
func testConfig(edges ...*testEdge) Config {
	cfg := Config{
		HealthCheckInterval:  50 * time.Millisecond,
		HealthCheckTimeout:   2 * time.Second,
		FailAfter:            2,
		RecoverAfter:         2,
		LatencyProbeInterval: 20 * time.Millisecond,
		RTTWeight:            0.5,
		SteeringTTL:          time.Second,
		Logger:               slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, e := range edges {
		cfg.Edges = append(cfg.Edges, e.Edge)
	}
	return cfg
}

// startRouter serves a Router built from cfg on a loopback port until the
// test ends, and returns its base URL.
func startRouter(t *testing.T, cfg Config) (*Router, string) {
	t.Helper()
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("router Serve: %v", err)
		}
	})
	return rt, "http://" + ln.Addr().String()
}

// edgesState is GET /edges.
type edgesState struct {
	Edges []struct {
		Name    string   `json:"name"`
		Up      bool     `json:"up"`
		RTTMs   *float64 `json:"rtt_ms"`
		Samples int64    `json:"samples"`
		Error   string   `json:"error"`
	} `json:"edges"`
	PathwayPriority []string `json:"pathway_priority"`
}

func (s edgesState) String() string {
	var b strings.Builder
	for _, e := range s.Edges {
		rtt := "?"
		if e.RTTMs != nil {
			rtt = fmt.Sprintf("%.2fms", *e.RTTMs)
		}
		fmt.Fprintf(&b, "%s up=%v rtt=%s samples=%d %s; ", e.Name, e.Up, rtt, e.Samples, e.Error)
	}
	return b.String() + fmt.Sprintf("priority %v", s.PathwayPriority)
}

// waitForEdges polls GET /edges until ok accepts it, for at most 15 s.
func waitForEdges(t *testing.T, routerURL, what string, ok func(edgesState) bool) edgesState {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last edgesState
	for {
		last = edgesState{}
		err := getJSON(routerURL+"/edges", &last)
		if err == nil && ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s (last: %v, err %v)", what, last, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// steering is a steering manifest as the tests read it.
type steering struct {
	Version         int      `json:"VERSION"`
	TTL             int      `json:"TTL"`
	ReloadURI       string   `json:"RELOAD-URI"`
	PathwayPriority []string `json:"PATHWAY-PRIORITY"`
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("GET %s: Content-Type %q", url, ct)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}
