package edge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is an io.Writer safe for the access log's concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEdge_MetricsCountResultsOnItsOwnRegistry(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/seg1.m4s", &testObject{body: pattern(1234), cacheControl: "max-age=600"})
	e, base := startEdge(t, o.URL(), func(c *Config) { c.Behaviors = []Behavior{{Pattern: "/api/**", Policy: PolicyPass}} })
	c := testClient(t)
	get(t, c, base+"/videos/v1/seg1.m4s")
	waitIdle(t, e)
	get(t, c, base+"/videos/v1/seg1.m4s")
	get(t, c, base+"/videos/v1/seg1.m4s")
	get(t, c, base+"/api/v1/videos")

	r := get(t, c, base+"/metrics")
	wantStatus(t, r, 200)
	text := string(r.body)
	for _, want := range []string{
		`streamfront_edge_requests_total{result="Hit"} 2`,
		`streamfront_edge_requests_total{result="Miss"} 1`,
		`streamfront_edge_requests_total{result="Pass"} 1`,
		`streamfront_edge_origin_fetches_total 1`,
		`streamfront_edge_cache_bytes{tier="memory"}`,
		`streamfront_edge_request_duration_seconds_bucket{result="Hit"`,
		`streamfront_edge_origin_first_byte_seconds_count 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(text, "streamfront_edge_bytes_served_total") {
		t.Error("metrics lack bytes served")
	}
	// Two edges in one process must not collide on a global registry.
	_, base2 := startEdge(t, o.URL(), nil)
	wantStatus(t, get(t, c, base2+"/metrics"), 200)
}

func TestEdge_AccessLogUsesCloudFrontFieldNames(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/r/720.mp4", &testObject{body: pattern(3 * testSlice), etag: `"v"`, cacheControl: "max-age=600"})
	var log syncBuffer
	e, base := startEdge(t, o.URL(), func(c *Config) { c.AccessLog = &log; c.SliceSize = testSlice })
	c := testClient(t)
	do(t, c, "GET", base+"/videos/v1/r/720.mp4?x=1", map[string]string{"Range": "bytes=10-19", "User-Agent": "probe"})
	waitIdle(t, e)
	do(t, c, "GET", base+"/videos/v1/r/720.mp4?x=1", map[string]string{"Range": "bytes=10-19"})

	sc := bufio.NewScanner(strings.NewReader(log.String()))
	var lines []map[string]any
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("access log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, rec)
	}
	if len(lines) != 2 {
		t.Fatalf("%d access log lines, want 2", len(lines))
	}
	first := lines[0]
	want := map[string]any{
		"x-edge-location": "test-edge", "cs-method": "GET", "cs-uri-stem": "/videos/v1/r/720.mp4",
		"cs-uri-query": "x=1", "sc-status": float64(206), "sc-bytes": float64(10), "x-edge-result-type": "Miss",
		"cs(User-Agent)": "probe", "sc-range-start": "10", "sc-range-end": "19", "c-ip": "127.0.0.1",
	}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("field %s = %v, want %v", k, first[k], v)
		}
	}
	for _, k := range []string{"date", "time", "time-taken", "cs(Host)", "sc-content-type"} {
		if _, ok := first[k]; !ok {
			t.Errorf("field %s missing", k)
		}
	}
	if lines[1]["x-edge-result-type"] != "Hit" {
		t.Errorf("second request logged as %v", lines[1]["x-edge-result-type"])
	}
}
