package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// take returns the lines written so far and forgets them.
func (s *syncBuffer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(s.b.String()), "\n")
	s.b.Reset()
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines
}

// TestFastPath_SameAnswersAsNetHTTP sends the same requests for the same
// cached objects to an edge with the fast path and to one without, and
// requires the same status, body and header (Date and Age excepted; both
// must be there), the same access log line (times excepted) and the same
// metrics, with every answer of the first edge coming from the fast path.
//
// With a disk tier, bodies of fastSendfileMin or more (the 100 KiB part
// and the 1 MiB segment, whole or ranged) go out from the disk copy with
// sendfile (fastpath/sendfile.go); the answers must not change.
//
// With a second distribution, the requests (Host edge.example, and the
// loopback address the warming client sends) are all that distribution's.
func TestFastPath_SameAnswersAsNetHTTP(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testSameAnswers(t, false, false) })
	t.Run("memory and disk", func(t *testing.T) { testSameAnswers(t, true, false) })
	t.Run("second distribution", func(t *testing.T) { testSameAnswers(t, false, true) })
}

func testSameAnswers(t *testing.T, disk, secondDist bool) {
	var fastLog, plainLog syncBuffer
	p := &fastPathPair{origin: newTestOrigin(t)}
	cacheDir := func(c *Config) {
		if disk {
			c.CacheDir = t.TempDir()
		}
		if secondDist {
			c.Origin = ""
			c.Distributions = []Distribution{
				{Name: "other", Origins: []Origin{{Name: "o", URL: "http://127.0.0.1:9"}}},
				{Name: "media", Hosts: []string{"edge.example", "127.0.0.1"},
					Origins:   []Origin{{Name: "o", URL: p.origin.URL()}},
					Behaviors: []Behavior{{Pattern: "/api/**", Policy: PolicyPass}}},
			}
		}
	}
	lastMod := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	p.fast, p.fastBase = startEdge(t, p.origin.URL(), func(c *Config) { c.AccessLog = &fastLog; c.DisableFastPath = false; cacheDir(c) })
	p.plain, p.plainBase = startEdge(t, p.origin.URL(), func(c *Config) { c.AccessLog = &plainLog; c.DisableFastPath = true; cacheDir(c) })

	objects := map[string]*testObject{
		"/videos/eq/master.m3u8": {body: pattern(700), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=600", etag: `"pl1"`},
		"/videos/eq/seg.m4s":     {body: pattern(1<<20 + 1234), contentType: "video/mp4", cacheControl: "public, max-age=31536000, immutable", etag: `"seg1"`},
		"/videos/eq/part.m4s":    {body: pattern(100<<10 + 17), contentType: "video/mp4", cacheControl: "public, max-age=31536000, immutable", etag: `"part1"`},
		"/videos/eq/thumbs.vtt":  {body: pattern(300), contentType: "text/vtt", cacheControl: "public, max-age=600", etag: `W/"w1"`},
		"/videos/eq/empty.bin":   {body: nil, contentType: "application/octet-stream", cacheControl: "public, max-age=600"},
	}
	for path, obj := range objects {
		p.origin.put(path, obj)
	}
	// An answer that came through a shield (Via to extend), with a
	// repeated header and no validators.
	p.origin.handle("/videos/eq/shielded.m3u8", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/vnd.apple.mpegurl")
		h.Set("Cache-Control", "public, max-age=600")
		h.Set("Via", "1.1 shield-7")
		h["Link"] = []string{"</a.m4s>; rel=preload", "</b.m4s>; rel=preload"}
		h.Set("X-Origin-Note", "from the shield")
		w.Write(pattern(500))
	})
	// Cached by RFC 9111 (the origin's Date kept), outside /videos/.
	p.origin.put("/static/app.js", &testObject{body: pattern(3000), contentType: "text/javascript", cacheControl: "public, max-age=600", lastModified: lastMod})
	paths := append(slices.Sorted(maps.Keys(objects)), "/videos/eq/shielded.m3u8", "/static/app.js")
	// warm fills both edges, then waits for the lines the fills log (a
	// line is written once its answer is, a moment after the client has
	// it) and throws them away.
	warm := func(paths ...string) {
		p.warm(t, paths...)
		var fl, nl int
		waitFor(t, "the fills to be logged", func() bool {
			fl, nl = fl+len(fastLog.take()), nl+len(plainLog.take())
			return fl >= len(paths) && nl >= len(paths)
		})
		// A response (and its log line) can end a moment before its fill
		// has stored the object: wait for the fills themselves.
		waitIdle(t, p.fast)
		waitIdle(t, p.plain)
	}
	warm(paths...)

	lm := lastMod.Format(http.TimeFormat)
	variants := []struct {
		name   string
		method string
		header map[string]string
	}{
		{"GET", "GET", nil},
		{"HEAD", "HEAD", nil},
		{"range", "GET", map[string]string{"Range": "bytes=0-99"}},
		{"open range", "GET", map[string]string{"Range": "bytes=100-"}},
		{"suffix range", "GET", map[string]string{"Range": "bytes=-500"}},
		{"ranges that coalesce", "GET", map[string]string{"Range": "bytes=0-9,5-20"}},
		{"two ranges (200)", "GET", map[string]string{"Range": "bytes=0-9,100-109"}},
		{"unsatisfiable range (416)", "GET", map[string]string{"Range": "bytes=99999999-"}},
		{"invalid range", "GET", map[string]string{"Range": "bytes=x-y"}},
		{"HEAD with range", "HEAD", map[string]string{"Range": "bytes=0-99"}},
		{"If-None-Match match (304)", "GET", map[string]string{"If-None-Match": `"pl1", "seg1", W/"w1"`}},
		{"If-None-Match other", "GET", map[string]string{"If-None-Match": `"nope"`}},
		{"If-None-Match star", "GET", map[string]string{"If-None-Match": "*"}},
		{"If-None-Match weak", "HEAD", map[string]string{"If-None-Match": `W/"pl1", W/"seg1"`}},
		{"If-Modified-Since same", "GET", map[string]string{"If-Modified-Since": lm}},
		{"If-Modified-Since earlier", "GET", map[string]string{"If-Modified-Since": lastMod.Add(-time.Hour).Format(http.TimeFormat)}},
		{"If-Range match", "GET", map[string]string{"Range": "bytes=10-19", "If-Range": `"seg1"`}},
		{"If-Range mismatch", "GET", map[string]string{"Range": "bytes=10-19", "If-Range": `"old"`}},
		{"If-Range date", "GET", map[string]string{"Range": "bytes=10-19", "If-Range": lm}},
		{"If-Range weak", "GET", map[string]string{"Range": "bytes=10-19", "If-Range": `W/"w1"`}},
		{"br", "GET", map[string]string{"Accept-Encoding": "gzip, deflate, br"}},
		{"gzip", "GET", map[string]string{"Accept-Encoding": "gzip, deflate"}},
		{"gzip HEAD", "HEAD", map[string]string{"Accept-Encoding": "gzip"}},
		{"gzip refused", "GET", map[string]string{"Accept-Encoding": "gzip;q=0, br"}},
		{"br refused", "GET", map[string]string{"Accept-Encoding": "br;q=0, gzip"}},
		{"both refused", "GET", map[string]string{"Accept-Encoding": "br;q=0, gzip;q=0, *;q=0"}},
		{"gzip with range", "GET", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-99"}},
		{"gzip 304", "GET", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `W/"pl1"`}},
		{"Connection: close", "GET", map[string]string{"Connection": "close"}},
		{"viewer headers", "GET", map[string]string{"User-Agent": "hls.js/1.7", "Referer": "https://site.example/watch/v1", "X-Forwarded-For": "203.0.113.9", "Cookie": "a=b"}},
		{"query", "GET", nil}, // with "?v=1", see below
	}
	for _, path := range paths {
		for _, v := range variants {
			target := path
			if v.name == "query" {
				target += "?v=1"
				// Cache the query variant on both edges first.
				warm(target)
			}
			t.Run(path+"/"+v.name, func(t *testing.T) {
				var raw strings.Builder
				fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: edge.example\r\n", v.method, target)
				for _, k := range slices.Sorted(maps.Keys(v.header)) {
					fmt.Fprintf(&raw, "%s: %s\r\n", k, v.header[k])
				}
				raw.WriteString("\r\n")

				before := countsOf(p.fast)
				var got [2]answer
				for i, base := range []string{p.fastBase, p.plainBase} {
					rc := dialRaw(t, base)
					rc.send(raw.String())
					a, ok := rc.read(v.method)
					if !ok {
						t.Fatalf("no answer from %s", base)
					}
					got[i] = a
				}
				// Both paths count and log an answer once it is written,
				// which may be a moment after the client has it.
				var fl, nl []string
				waitFor(t, "both answers to be logged", func() bool {
					fl, nl = append(fl, fastLog.take()...), append(nl, plainLog.take()...)
					return len(fl) >= 1 && len(nl) >= 1
				})
				if d := countsOf(p.fast).minus(before); d.answered != 1 {
					t.Fatalf("the fast path did not answer (%+v)", d)
				}
				f, n := got[0], got[1]
				if f.status != n.status {
					t.Fatalf("status: fast path %d, net/http %d", f.status, n.status)
				}
				if !bytes.Equal(f.body, n.body) {
					t.Fatalf("body: fast path %d bytes, net/http %d bytes", len(f.body), len(n.body))
				}
				for _, h := range []http.Header{f.header, n.header} {
					if _, err := http.ParseTime(h.Get("Date")); err != nil || h.Get("Age") == "" {
						t.Fatalf("Date %q, Age %q", h.Get("Date"), h.Get("Age"))
					}
					delete(h, "Date")
					delete(h, "Age")
				}
				if !equalHeaders(f.header, n.header) {
					t.Fatalf("header differs:\nfast path: %v\nnet/http:  %v", f.header, n.header)
				}
				if len(fl) != 1 || len(nl) != 1 {
					t.Fatalf("access log lines: %d with the fast path, %d without", len(fl), len(nl))
				}
				if a, b := comparableLogLine(t, fl[0]), comparableLogLine(t, nl[0]); a != b {
					t.Fatalf("access log differs:\nfast path: %s\nnet/http:  %s", a, b)
				}
			})
		}
	}

	if sendfiles := p.fast.fastSendfiles.Load(); disk != (sendfiles > 0) {
		t.Errorf("%d answers sent from the disk copy", sendfiles)
	}

	// The metrics counted the same requests and bytes.
	for _, m := range []struct {
		name string
		f, n float64
	}{
		{"hits", counterValue(p.fast.metrics.requests[xcacheHit]), counterValue(p.plain.metrics.requests[xcacheHit])},
		{"misses", counterValue(p.fast.metrics.requests[xcacheMiss]), counterValue(p.plain.metrics.requests[xcacheMiss])},
		{"bytes", counterValue(p.fast.metrics.bytesServed), counterValue(p.plain.metrics.bytesServed)},
	} {
		if m.f != m.n {
			t.Errorf("%s: %v with the fast path, %v without", m.name, m.f, m.n)
		}
	}
}

func equalHeaders(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}

// comparableLogLine is an access log line without the fields that differ
// between two requests made a moment apart on two connections.
func comparableLogLine(t *testing.T, line string) string {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("access log line %q: %v", line, err)
	}
	for _, k := range []string{"date", "time", "time-taken", "c-port"} {
		if _, ok := rec[k]; !ok {
			t.Fatalf("access log line without %s: %s", k, line)
		}
		delete(rec, k)
	}
	out, _ := json.Marshal(rec)
	return string(out)
}
