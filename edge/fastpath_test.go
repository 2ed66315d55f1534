package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/streamfront/streamfront/edge/fastpath"
)

// rawConn is a client connection that sends bytes as they are and reads
// answers with http.ReadResponse, so tests control every byte on the wire.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, base string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

// answer is one response as read off the wire.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// read reads one response to a request of method; ok is false when the
// connection ended instead.
func (rc *rawConn) read(method string) (answer, bool) {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		return answer{}, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("reading a body: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, true
}

// closed waits (boundedly) for the server to close the connection.
func (rc *rawConn) closed() bool {
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := rc.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}

// fastCounts is the fast path's tally on e: requests answered and
// connections handed over, by reason.
type fastCounts struct {
	answered  float64
	handovers [fastpath.HandoverReasons]float64
}

func countsOf(e *Edge) fastCounts {
	c := fastCounts{answered: counterValue(e.metrics.fastAnswered)}
	for i := range c.handovers {
		c.handovers[i] = counterValue(e.metrics.handovers[i])
	}
	return c
}

func (c fastCounts) minus(d fastCounts) fastCounts {
	c.answered -= d.answered
	for i := range c.handovers {
		c.handovers[i] -= d.handovers[i]
	}
	return c
}

// fastPathPair is one origin with two edges of the same name in front
// of it: fast with the fast path, plain without.
type fastPathPair struct {
	origin      *testOrigin
	fast, plain *Edge
	fastBase    string
	plainBase   string
}

func newFastPathPair(t *testing.T, mutate func(*Config)) *fastPathPair {
	t.Helper()
	p := &fastPathPair{origin: newTestOrigin(t)}
	p.fast, p.fastBase = startEdge(t, p.origin.URL(), func(c *Config) {
		if mutate != nil {
			mutate(c)
		}
		c.DisableFastPath = false
	})
	p.plain, p.plainBase = startEdge(t, p.origin.URL(), func(c *Config) {
		if mutate != nil {
			mutate(c)
		}
		c.DisableFastPath = true
	})
	return p
}

// warm fetches paths through both edges, so both cache them.
func (p *fastPathPair) warm(t *testing.T, paths ...string) {
	t.Helper()
	c := testClient(t)
	for _, base := range []string{p.fastBase, p.plainBase} {
		for _, path := range paths {
			wantStatus(t, get(t, c, base+path), http.StatusOK)
		}
	}
}

const hitPath = "/videos/v1/master.m3u8"

// TestFastPath_Decisions sends raw requests, including request smuggling
// shapes, to an edge with the fast path and to one without: the answers
// must be the same, and the fast path must answer or hand over as the
// table says.
func TestFastPath_Decisions(t *testing.T) {
	p := newFastPathPair(t, nil)
	playlist := pattern(600)
	p.origin.put(hitPath, &testObject{body: playlist, contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=600", etag: `"pl"`})
	p.origin.put("/videos/v1/seg.m4s", &testObject{body: pattern(4000), contentType: "video/mp4", cacheControl: "public, max-age=600"})
	p.warm(t, hitPath, "/videos/v1/seg.m4s")

	const hit = "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"
	tests := []struct {
		name    string
		raw     string
		methods []string // the requests' methods, one per answer expected
		fast    int      // answers from the fast path
		reason  string   // why it handed the connection over ("" if not)
		closes  bool     // the server closes the connection after the answers
	}{
		{"hit", hit, []string{"GET"}, 1, "", false},
		{"HEAD hit", "HEAD " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"HEAD"}, 1, "", false},
		{"three hits pipelined", hit + hit + "GET /videos/v1/seg.m4s HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET", "GET", "GET"}, 3, "", false},
		{"hit, Connection: close", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n", []string{"GET"}, 1, "", true},
		{"Via of another edge", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nVia: 1.1 shield-9\r\n\r\n", []string{"GET"}, 1, "", false},

		{"miss (404)", "GET /videos/nope/a.m3u8 HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET"}, 0, "not_hit", false},
		{"health check", "GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET"}, 0, "route", false},
		{"token in the query", "GET " + hitPath + "?token=abc HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET"}, 0, "route", false},
		{"loop through this edge", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nVia: 1.1 test-edge\r\n\r\n", []string{"GET"}, 0, "route", false},
		{"OPTIONS", "OPTIONS " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"OPTIONS"}, 0, "request", false},

		{"duplicate Content-Length", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", []string{"GET"}, 0, "request", false},
		{"conflicting Content-Length", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello", []string{"GET"}, 0, "request", true},
		{"Content-Length and Transfer-Encoding", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hit, []string{"GET", "GET"}, 0, "request", false},
		{"obs-fold", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nX-A: b\r\n c\r\n\r\n", []string{"GET"}, 0, "request", false},
		{"bare LF", "GET " + hitPath + " HTTP/1.1\nHost: edge\n\n", []string{"GET"}, 0, "request", false},
		{"absolute-form", "GET http://edge" + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET"}, 0, "request", false},
		{"HTTP/1.0", "GET " + hitPath + " HTTP/1.0\r\nHost: edge\r\n\r\n", []string{"GET"}, 0, "request", true},
		{"two Hosts", "GET " + hitPath + " HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []string{"GET"}, 0, "request", true},
		{"no Host", "GET " + hitPath + " HTTP/1.1\r\n\r\n", []string{"GET"}, 0, "request", true},
		{"NUL in a header", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nX-A: a\x00b\r\n\r\n", []string{"GET"}, 0, "request", true},
		{"Expect: 100-continue", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nExpect: 100-continue\r\n\r\n", []string{"GET"}, 0, "request", false},
		{"h2c upgrade", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", []string{"GET"}, 0, "request", false},
		{"percent-escaped path", "GET /videos/v1/%6Daster.m3u8 HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET"}, 0, "request", false},
		{"head over the limit", "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nX-Big: " + strings.Repeat("b", fastpath.MaxHead) + "\r\n\r\n", []string{"GET"}, 0, "request", false},

		{"hit, then a miss pipelined", hit + "GET /videos/nope/b.m3u8 HTTP/1.1\r\nHost: edge\r\n\r\n" + hit, []string{"GET", "GET", "GET"}, 1, "not_hit", false},
		{"hit, then a POST pipelined", hit + "POST /api/v1/echo HTTP/1.1\r\nHost: edge\r\nContent-Length: 5\r\n\r\nhello" + hit, []string{"GET", "POST", "GET"}, 1, "request", false},
		{"hit, then a smuggling attempt", hit + "GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET", "GET", "GET"}, 1, "request", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2][]answer
			var closed [2]bool
			before := countsOf(p.fast)
			for i, base := range []string{p.fastBase, p.plainBase} {
				rc := dialRaw(t, base)
				rc.send(tt.raw)
				for _, m := range tt.methods {
					a, ok := rc.read(m)
					if !ok {
						break
					}
					got[i] = append(got[i], a)
				}
				if tt.closes {
					closed[i] = rc.closed()
				}
			}
			if len(got[0]) != len(got[1]) {
				t.Fatalf("%d answers with the fast path, %d without", len(got[0]), len(got[1]))
			}
			for j := range got[0] {
				f, n := got[0][j], got[1][j]
				if f.status != n.status || !bytes.Equal(f.body, n.body) || f.header.Get("X-Cache") != n.header.Get("X-Cache") {
					t.Fatalf("answer %d: fast path %d %q (%d bytes), net/http %d %q (%d bytes)", j,
						f.status, f.header.Get("X-Cache"), len(f.body), n.status, n.header.Get("X-Cache"), len(n.body))
				}
			}
			if closed[0] != closed[1] {
				t.Fatalf("connection closed: fast path %v, net/http %v", closed[0], closed[1])
			}
			if tt.closes && !closed[0] {
				t.Fatal("the connection stayed open")
			}
			// An answer is counted once written, which may be a moment
			// after the client has it.
			waitFor(t, "the fast path's answers to be counted", func() bool {
				return int(countsOf(p.fast).minus(before).answered) >= tt.fast
			})
			d := countsOf(p.fast).minus(before)
			if int(d.answered) != tt.fast {
				t.Fatalf("fast path answered %v requests, want %d", d.answered, tt.fast)
			}
			for r := range fastpath.HandoverReasons {
				want := 0.0
				if r.String() == tt.reason {
					want = 1
				}
				if d.handovers[r] != want {
					t.Fatalf("handovers for %s: %v, want %v", r, d.handovers[r], want)
				}
			}
		})
	}
}

// TestFastPath_HitThenPostOnOneConnection: a connection the fast path has
// served is handed over at its first POST, body and all, and net/http
// serves the rest of it.
func TestFastPath_HitThenPostOnOneConnection(t *testing.T) {
	p := newFastPathPair(t, nil)
	p.origin.put(hitPath, &testObject{body: pattern(600), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=600"})
	p.warm(t, hitPath)
	rc := dialRaw(t, p.fastBase)
	for range 3 {
		rc.send("GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n")
		if a, ok := rc.read("GET"); !ok || a.status != http.StatusOK {
			t.Fatalf("hit: %+v %v", a.status, ok)
		}
	}
	rc.send("POST /api/v1/echo HTTP/1.1\r\nHost: edge\r\nContent-Length: 11\r\n\r\nhello world")
	a, ok := rc.read("POST")
	if !ok || a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"body":"hello world"`)) {
		t.Fatalf("POST after hits: %d %s", a.status, a.body)
	}
	rc.send("GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n")
	if a, ok := rc.read("GET"); !ok || a.header.Get("X-Cache") != "Hit from test-edge" {
		t.Fatalf("hit after the POST (net/http now): %d %q", a.status, a.header.Get("X-Cache"))
	}
	waitFor(t, "the answers to be counted", func() bool { return countsOf(p.fast).answered >= 3 })
	if d := countsOf(p.fast); d.answered != 3 || d.handovers[fastpath.HandoverRequest] != 1 {
		t.Fatalf("answered %v, handed over %v; want 3 and 1", d.answered, d.handovers[fastpath.HandoverRequest])
	}
}

// TestFastPath_SlowlorisIsCut: a head that trickles in is cut after
// ReadHeaderTimeout, however many bytes keep coming; so is a connection
// that never sends a request.
func TestFastPath_SlowlorisIsCut(t *testing.T) {
	o := newTestOrigin(t)
	_, base := startEdge(t, o.URL(), func(c *Config) { c.ReadHeaderTimeout = 200 * time.Millisecond * timeoutScale })

	silent := dialRaw(t, base)
	if !silent.closed() {
		t.Fatal("a connection that sent nothing was not closed")
	}

	rc := dialRaw(t, base)
	rc.send("GET /videos/v1/master.m3u8 HTTP/1.1\r\nHost: edge\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := io.WriteString(rc.c, "X-A: b\r\n"); err != nil {
			return // cut
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("a head trickling in for 10 s was not cut")
}

// TestFastPath_KeepAliveOutlastsWriteTimeout: the deadline set for an
// answer (WriteTimeout) does not close a keep-alive connection early; the
// idle time is IdleTimeout, and after it the connection closes.
func TestFastPath_KeepAliveOutlastsWriteTimeout(t *testing.T) {
	p := newFastPathPair(t, func(c *Config) {
		c.WriteTimeout = 50 * time.Millisecond * timeoutScale
		c.IdleTimeout = 5 * time.Second * timeoutScale
	})
	p.origin.put(hitPath, &testObject{body: pattern(600), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=600"})
	p.warm(t, hitPath)
	rc := dialRaw(t, p.fastBase)
	for range 2 {
		rc.send("GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n")
		if _, ok := rc.read("GET"); !ok {
			t.Fatal("the keep-alive connection was closed before IdleTimeout")
		}
		time.Sleep(300 * time.Millisecond * timeoutScale) // well past WriteTimeout
	}
	waitFor(t, "the answers to be counted", func() bool { return countsOf(p.fast).answered >= 2 })
	if d := countsOf(p.fast); d.answered != 2 {
		t.Fatalf("fast path answered %v, want 2", d.answered)
	}

	short := newFastPathPair(t, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond * timeoutScale })
	short.origin.put(hitPath, &testObject{body: pattern(600), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=600"})
	short.warm(t, hitPath)
	rc = dialRaw(t, short.fastBase)
	rc.send("GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n")
	if _, ok := rc.read("GET"); !ok {
		t.Fatal("no answer")
	}
	if !rc.closed() {
		t.Fatal("an idle connection outlived IdleTimeout")
	}
}

// TestFastPath_StalledReaderIsCut: a client that stops reading a large
// hit is cut after WriteTimeout, and the answer is still counted.
func TestFastPath_StalledReaderIsCut(t *testing.T) {
	p := newFastPathPair(t, func(c *Config) { c.WriteTimeout = 300 * time.Millisecond * timeoutScale })
	p.origin.put("/videos/v1/big.m4s", &testObject{body: pattern(16 << 20), contentType: "video/mp4", cacheControl: "public, max-age=600"})
	p.warm(t, "/videos/v1/big.m4s")
	c, err := net.Dial("tcp", strings.TrimPrefix(p.fastBase, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	before := counterValue(p.fast.metrics.bytesServed)
	io.WriteString(c, "GET /videos/v1/big.m4s HTTP/1.1\r\nHost: edge\r\n\r\n")
	waitFor(t, "the stalled answer to be given up", func() bool {
		return counterValue(p.fast.metrics.fastAnswered) == 1
	})
	if sent := counterValue(p.fast.metrics.bytesServed) - before; sent <= 0 || sent >= 16<<20 {
		t.Fatalf("bytes served %v: want part of the body", sent)
	}
}

// TestFastPath_ShutdownClosesIdleAndFinishesAnswers: when Serve's context
// ends, idle fast-path connections are closed at once, an answer being
// written is finished, and Serve returns without waiting for
// ShutdownTimeout.
func TestFastPath_ShutdownClosesIdleAndFinishesAnswers(t *testing.T) {
	o := newTestOrigin(t)
	big := pattern(32 << 20)
	o.put("/videos/v1/big.mp4v", &testObject{body: big, contentType: "video/mp4", cacheControl: "public, max-age=600"})
	o.put(hitPath, &testObject{body: pattern(600), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=600"})
	e, base, stop := startEdgeStoppable(t, o.URL(), func(c *Config) {
		c.ShutdownTimeout = time.Minute
		c.MaxObjectBytes = 64 << 20
		c.MemoryBytes = 256 << 20
		c.DisableFastPath = false
	})
	c := testClient(t)
	wantStatus(t, get(t, c, base+"/videos/v1/big.mp4v"), http.StatusOK)
	wantStatus(t, get(t, c, base+hitPath), http.StatusOK)

	idle := dialRaw(t, base)
	idle.send("GET " + hitPath + " HTTP/1.1\r\nHost: edge\r\n\r\n")
	if _, ok := idle.read("GET"); !ok {
		t.Fatal("no answer on the idle connection")
	}
	busy, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_ = busy.(*net.TCPConn).SetReadBuffer(16 << 10)
	io.WriteString(busy, "GET /videos/v1/big.mp4v HTTP/1.1\r\nHost: edge\r\n\r\n")
	br := bufio.NewReader(busy)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	if !idle.closed() {
		t.Fatal("the idle connection was not closed at shutdown")
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, big) {
		t.Fatalf("the answer in flight at shutdown: %d of %d bytes, %v", len(body), len(big), err)
	}
	select {
	case <-stopped:
	case <-time.After(20 * time.Second): // ShutdownTimeout is a minute
		t.Fatal("Serve did not return once its connections were done")
	}
	if d := countsOf(e); d.answered != 2 {
		t.Fatalf("fast path answered %v, want 2", d.answered)
	}
}

// TestFastPath_TLSGoesToNetHTTP: a TLS listener's connections are handed
// over before a byte is read, and net/http serves them as before.
func TestFastPath_TLSGoesToNetHTTP(t *testing.T) {
	o := newTestOrigin(t)
	o.put(hitPath, &testObject{body: pattern(600), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=600"})
	certSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	certSrv.StartTLS()
	certs, client := certSrv.TLS.Certificates, certSrv.Client()
	certSrv.Close()

	e, err := New(Config{Name: "test-edge", Origin: o.URL(), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, tls.NewListener(ln, &tls.Config{Certificates: certs})) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	for range 2 {
		resp, err := client.Get("https://" + addr + hitPath)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if d := countsOf(e); d.answered != 0 || d.handovers[fastpath.HandoverTLS] < 1 {
		t.Fatalf("answered %v, TLS handovers %v", d.answered, d.handovers[fastpath.HandoverTLS])
	}
}

// TestFastPath_KeptDiskCopy: the fast path sends a 100 KiB hit from its
// disk copy, opened once and kept open beside the memory item for later
// answers; a copy cut short after that still gives whole answers (the
// rest from memory) and is dropped; and the file is closed when the item
// leaves the memory tier.
func TestFastPath_KeptDiskCopy(t *testing.T) {
	o := newTestOrigin(t)
	const path = "/videos/v1/k.m4s"
	body := pattern(100 << 10)
	o.put(path, &testObject{body: body, contentType: "video/mp4", cacheControl: "public, max-age=31536000, immutable"})
	e, base := startEdge(t, o.URL(), func(c *Config) { c.CacheDir = t.TempDir(); c.DisableFastPath = false })
	wantStatus(t, get(t, testClient(t), base+path), http.StatusOK)
	waitIdle(t, e)
	di, ok := e.disk.Get(path)
	if !ok {
		t.Fatalf("%s is not on disk", path)
	}
	answers := 0
	hit := func() {
		t.Helper()
		rc := dialRaw(t, base)
		for range 2 { // two answers on one connection
			rc.send("GET " + path + " HTTP/1.1\r\nHost: edge\r\n\r\n")
			a, ok := rc.read("GET")
			if !ok || a.status != http.StatusOK || a.header.Get("X-Cache") != "Hit from test-edge" || !bytes.Equal(a.body, body) {
				t.Fatalf("%d %q, %d bytes", a.status, a.header.Get("X-Cache"), len(a.body))
			}
			answers++
		}
		waitFor(t, "the answers to be counted", func() bool { return counterValue(e.metrics.fastAnswered) == float64(answers) })
	}
	hit()
	if n := e.fastSendfiles.Load(); n != 2 {
		t.Fatalf("%d of 2 answers sent from the disk copy", n)
	}
	it, _ := e.mem.get(path)
	kept := it.file.cur.Load()
	if kept == nil || kept.file != di.File {
		t.Fatal("the disk copy was not kept open")
	}

	if err := os.Truncate(di.File.Path, di.BodyOffset+1000); err != nil {
		t.Fatal(err)
	}
	hit()
	waitFor(t, "the damaged disk copy to leave the index", func() bool {
		_, ok := e.disk.Get(path)
		return !ok
	})

	e.mem.remove(path)
	waitFor(t, "the kept file to be closed", func() bool { return it.file.cur.Load() == nil })
	if _, err := kept.f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("the kept file is still open (Stat: %v)", err)
	}
}

// TestFastPath_DiskCopyGoneOrDamaged: a large hit whose disk copy was
// removed or has the wrong length is written from memory, whole and
// right, and the damaged file is dropped.
func TestFastPath_DiskCopyGoneOrDamaged(t *testing.T) {
	o := newTestOrigin(t)
	bodies := map[string][]byte{"/videos/v1/a.m4s": pattern(1 << 20), "/videos/v1/b.m4s": pattern(1<<20 + 7)}
	for path, body := range bodies {
		o.put(path, &testObject{body: body, contentType: "video/mp4", cacheControl: "public, max-age=31536000, immutable"})
	}
	e, base := startEdge(t, o.URL(), func(c *Config) { c.CacheDir = t.TempDir(); c.DisableFastPath = false })
	c := testClient(t)
	for path := range bodies {
		wantStatus(t, get(t, c, base+path), http.StatusOK)
	}
	waitIdle(t, e)
	fileOf := func(path string) string {
		di, ok := e.disk.Get(path)
		if !ok {
			t.Fatalf("%s is not on disk", path)
		}
		return di.File.Path
	}
	if err := os.Truncate(fileOf("/videos/v1/a.m4s"), 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(fileOf("/videos/v1/b.m4s")); err != nil {
		t.Fatal(err)
	}
	for path, body := range bodies {
		rc := dialRaw(t, base)
		rc.send("GET " + path + " HTTP/1.1\r\nHost: edge\r\n\r\n")
		a, ok := rc.read("GET")
		if !ok || a.status != http.StatusOK || a.header.Get("X-Cache") != "Hit from test-edge" || !bytes.Equal(a.body, body) {
			t.Fatalf("%s: %d %q, %d bytes", path, a.status, a.header.Get("X-Cache"), len(a.body))
		}
	}
	// The drop is done when the answer is counted, which may be just after
	// the client has read it.
	waitFor(t, "the damaged disk copy to leave the index", func() bool {
		_, ok := e.disk.Get("/videos/v1/a.m4s")
		return !ok
	})
	if n := e.fastSendfiles.Load(); n != 0 {
		t.Fatalf("%d answers sent from a damaged or missing file", n)
	}
	waitFor(t, "the answers to be counted", func() bool { return counterValue(e.metrics.fastAnswered) == 2 })
}
