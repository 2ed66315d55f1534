package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hangGuard bounds waits that only end if the proxy streams. It is not a
// speed limit: a streaming proxy passes them at once, a buffering one never.
const hangGuard = 2 * time.Minute

// startSite serves s on a loopback listener, as in production.
func startSite(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// gatedBody yields size deterministic bytes, but only the first gateAt
// of them until gate is closed.
type gatedBody struct {
	size, gateAt, sent int64
	gate               <-chan struct{}
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if b.sent >= b.size {
		return 0, io.EOF
	}
	if b.sent >= b.gateAt {
		<-b.gate
	}
	n := int64(len(p))
	if limit := b.size - b.sent; n > limit {
		n = limit
	}
	if b.sent < b.gateAt && b.sent+n > b.gateAt {
		n = b.gateAt - b.sent
	}
	for i := range p[:n] {
		p[i] = byte((b.sent + int64(i)) * 7 % 251)
	}
	b.sent += n
	return int(n), nil
}

func TestProxy_StreamsALargeUploadWithoutBuffering(t *testing.T) {
	const size = 64 << 20 // 64 MiB
	const gateAt = 1 << 20

	// The client sends the first MiB, then holds the rest back until the
	// origin has seen that MiB. A proxy that buffers the body before
	// forwarding it would never pass anything on, and the upload would stall.
	firstMiBArrived := make(chan struct{})
	type received struct {
		n      int64
		sum    [32]byte
		auth   string
		ctype  string
		length int64
	}
	got := make(chan received, 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/videos" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		h := sha256.New()
		n, err := io.CopyN(h, r.Body, gateAt)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		close(firstMiBArrived)
		rest, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := received{n: n + rest, auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type"), length: r.ContentLength}
		copy(rec.sum[:], h.Sum(nil))
		got <- rec
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"new0000000000001","status":"processing"}`))
	}))
	t.Cleanup(origin.Close)
	site := startSite(t, newTestSite(t, origin.URL))

	gate := make(chan struct{})
	body := &gatedBody{size: size, gateAt: gateAt, gate: gate}
	go func() {
		select {
		case <-firstMiBArrived:
		case <-time.After(hangGuard):
			t.Error("the origin got nothing while the client held back the rest of the body: the proxy buffers uploads")
		}
		close(gate)
	}()

	req, err := http.NewRequest(http.MethodPost, site+"/api/v1/videos", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Content-Type", "video/mp4")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(answer), `"new0000000000001"`) {
		t.Fatalf("status %d, body %s", res.StatusCode, answer)
	}

	rec := <-got
	want := sha256.New()
	if _, err := io.Copy(want, &gatedBody{size: size, gateAt: size}); err != nil {
		t.Fatal(err)
	}
	if rec.n != size || !bytes.Equal(rec.sum[:], want.Sum(nil)) {
		t.Errorf("origin got %d bytes (sha256 %x), want %d bytes (sha256 %x)", rec.n, rec.sum, size, want.Sum(nil))
	}
	if rec.auth != "Bearer secret" || rec.ctype != "video/mp4" || rec.length != size {
		t.Errorf("origin got Authorization %q, Content-Type %q, Content-Length %d", rec.auth, rec.ctype, rec.length)
	}
}

func TestProxy_StreamsProgressEventsAsTheyHappen(t *testing.T) {
	// The origin sends one event, then waits until the browser has read it
	// before sending the last: only a proxy that flushes each event lets
	// this finish.
	firstRead := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/videos/abc/events" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, "event: progress\ndata: {\"status\":\"processing\",\"stage\":\"indexing\",\"percent\":42}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-firstRead:
		case <-r.Context().Done():
			return
		case <-time.After(hangGuard):
			t.Error("the first event never reached the browser: the proxy buffers event streams")
		}
		fmt.Fprint(w, "event: progress\ndata: {\"status\":\"ready\",\"percent\":100}\n\n")
	}))
	t.Cleanup(origin.Close)
	site := startSite(t, newTestSite(t, origin.URL))

	res, err := http.Get(site + "/api/v1/videos/abc/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	lines := bufio.NewScanner(res.Body)
	var events []map[string]any
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("event data %q: %v", data, err)
		}
		events = append(events, e)
		if len(events) == 1 {
			close(firstRead)
		}
	}
	if len(events) != 2 || events[0]["stage"] != "indexing" || events[1]["status"] != "ready" {
		t.Errorf("events %v", events)
	}
}

func TestProxy_OriginDownIs502JSON(t *testing.T) {
	origin := httptest.NewServer(http.NotFoundHandler())
	origin.Close() // its port now refuses connections
	site := startSite(t, newTestSite(t, origin.URL))

	res, err := http.Get(site + "/api/v1/videos")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body.Error, "Check that the origin is running") {
		t.Errorf("status %d, error %q", res.StatusCode, body.Error)
	}
}
