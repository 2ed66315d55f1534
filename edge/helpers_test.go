package edge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testOrigin is a real HTTP origin on loopback that mimics Streamfront's
// origin: playlists, immutable segments, Range-capable MP4s with ETag and
// Last-Modified, JSON 404s. Handlers can be replaced per path.
type testOrigin struct {
	t    testing.TB
	addr string

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	objects  map[string]*testObject
	handlers map[string]http.HandlerFunc
	requests []recordedRequest
}

type recordedRequest struct {
	method, path, rangeHeader, ifNoneMatch string
}

// testObject is one origin file.
type testObject struct {
	body         []byte
	contentType  string
	cacheControl string
	etag         string
	lastModified time.Time
	// ignoreRange makes the origin answer 200 to Range requests.
	ignoreRange bool
}

func newTestOrigin(t testing.TB) *testOrigin {
	t.Helper()
	o := &testOrigin{t: t, objects: map[string]*testObject{}, handlers: map[string]http.HandlerFunc{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.addr = ln.Addr().String()
	o.start(ln)
	t.Cleanup(o.stop)
	return o
}

func (o *testOrigin) URL() string { return "http://" + o.addr }

func (o *testOrigin) start(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(o.serve), ReadHeaderTimeout: 10 * time.Second}
	o.mu.Lock()
	o.srv, o.ln = srv, ln
	o.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// stop takes the origin down: connections are refused from now on.
func (o *testOrigin) stop() {
	o.mu.Lock()
	srv := o.srv
	o.srv = nil
	o.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// restart brings the origin back on the same address.
func (o *testOrigin) restart() {
	o.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", o.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // the port may linger briefly
	}
	if err != nil {
		o.t.Fatalf("origin restart: %v", err)
	}
	o.start(ln)
}

func (o *testOrigin) put(path string, obj *testObject) {
	if obj.contentType == "" {
		obj.contentType = "application/octet-stream"
	}
	if obj.lastModified.IsZero() {
		obj.lastModified = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	o.mu.Lock()
	o.objects[path] = obj
	o.mu.Unlock()
}

func (o *testOrigin) handle(path string, h http.HandlerFunc) {
	o.mu.Lock()
	o.handlers[path] = h
	o.mu.Unlock()
}

func (o *testOrigin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.requests = append(o.requests, recordedRequest{r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get("If-None-Match")})
	h := o.handlers[r.URL.Path]
	obj := o.objects[r.URL.Path]
	o.mu.Unlock()
	switch {
	case h != nil:
		h(w, r)
	case obj != nil:
		w.Header().Set("Content-Type", obj.contentType)
		if obj.cacheControl != "" {
			w.Header().Set("Cache-Control", obj.cacheControl)
		}
		if obj.etag != "" {
			w.Header().Set("ETag", obj.etag)
		}
		if obj.ignoreRange {
			r.Header.Del("Range")
		}
		http.ServeContent(w, r, "", obj.lastModified, bytes.NewReader(obj.body))
	case strings.HasPrefix(r.URL.Path, "/api/"):
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"method":%q,"path":%q,"body":%q}`, r.Method, r.URL.Path, body)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=1")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such video"}`)
	}
}

// count is how many requests for path the origin received.
func (o *testOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.requests {
		if r.path == path {
			n++
		}
	}
	return n
}

func (o *testOrigin) requestsFor(path string) []recordedRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []recordedRequest
	for _, r := range o.requests {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// startEdge builds an Edge for origin and serves it on a loopback port.
func startEdge(t *testing.T, origin string, mutate func(*Config)) (*Edge, string) {
	t.Helper()
	e, base, _ := startEdgeStoppable(t, origin, mutate)
	return e, base
}

// startEdgeStoppable is startEdge plus a stop function that shuts the
// edge down (its port then refuses connections).
func startEdgeStoppable(t *testing.T, origin string, mutate func(*Config)) (*Edge, string, func()) {
	t.Helper()
	cfg := Config{Name: "test-edge", Origin: origin, Logger: slog.New(slog.DiscardHandler), DisableFastPath: fastPathOffInTests}
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return e, "http://" + ln.Addr().String(), stop
}

// fastPathOffInTests runs every loopback edge of the tests without the
// fast path when STREAMFRONT_EDGE_FAST_PATH=off, so the whole suite can be
// run against both serving paths.
var fastPathOffInTests = os.Getenv("STREAMFRONT_EDGE_FAST_PATH") == "off"

// testClient is an HTTP client that does not decompress or follow
// redirects, so tests see exactly what the edge sent.
func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type result struct {
	status int
	header http.Header
	body   []byte
	err    error // reading the body failed
}

// do sends a request and reads the whole answer.
func do(t *testing.T, c *http.Client, method, url string, hdr map[string]string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: body, err: err}
}

func get(t *testing.T, c *http.Client, url string) result {
	t.Helper()
	return do(t, c, http.MethodGet, url, nil)
}

func wantStatus(t *testing.T, r result, status int) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("request failed: %v", r.err)
	}
	if r.status != status {
		t.Fatalf("status %d, want %d (body %.200q)", r.status, status, r.body)
	}
}

func wantXCache(t *testing.T, r result, want string) {
	t.Helper()
	if got := r.header.Get("X-Cache"); got != want+" from test-edge" {
		t.Fatalf("X-Cache %q, want %q", got, want+" from test-edge")
	}
}

// pattern makes a body whose every byte depends on its offset, so a wrong
// range is never mistaken for a right one.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// waitFor polls cond until it holds; it fails the test after a generous
// bound. This waits for background work; it asserts nothing about time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// waitIdle waits until no fill is running, e.g. until a slice whose first
// bytes a client already has is stored whole.
func waitIdle(t *testing.T, e *Edge) {
	t.Helper()
	waitFor(t, "fills to finish", func() bool {
		return e.flights.Len() == 0
	})
}

// testClock is a clock a test moves by hand (Config.Now), so that a TTL
// passes without sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
