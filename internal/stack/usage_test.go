package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/store"
)

// received is what the clients of one edge got: requests made and body
// bytes read.
type received struct{ requests, bytes int64 }

// usageRow is one row of GET /api/v1/usage?group_by=edge.
type usageRow struct {
	Edge        string `json:"edge"`
	Requests    int64  `json:"requests"`
	BytesOut    int64  `json:"bytes_out"`
	OriginBytes int64  `json:"origin_bytes"`
	// DeliveredSeconds is the media time sent (segments, MP4 ranges' share).
	DeliveredSeconds float64 `json:"delivered_seconds"`
}

// Every edge meters what it sends: through both edges of a deployment, a
// mix of playlist and segment hits and misses (fast path and net/http),
// MP4 ranges from slices, a thumbnail, a HEAD and a 404 come out of
// GET /api/v1/usage as exactly the requests and body bytes the clients
// received, per video and edge; still exactly after a graceful restart of
// an edge; and reports delivered again change nothing.
func TestStack_UsageEqualsWhatClientsReceived(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	d := stack.Local(t.TempDir(), apiKey)
	d.Edge.Usage.Interval = config.Duration(500 * time.Millisecond) // the test waits less
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("stack shut down with error: %v", err)
		}
	})
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "metered.mp4", Seconds: 8})
	v := uploadMultipart(t, st.WebURL, src, "Metered")
	v = waitReady(t, st.WebURL, v.ID)

	// The client takes bytes as sent (no transparent gzip), and opens a
	// connection per request: a connection's first miss hands it to
	// net/http for good, and the hits should meet the fast path.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true}}
	got := map[string]*received{"edge-1": {}, "edge-2": {}}
	fetch := func(edgeIdx int, method, path, rangeHeader string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, st.EdgeURLs[edgeIdx]+"/videos/"+v.ID+"/"+path, nil)
		if rangeHeader != "" {
			req.Header.Set("Range", rangeHeader)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		r := got[fmt.Sprintf("edge-%d", edgeIdx+1)]
		r.requests++
		r.bytes += n
		return resp.StatusCode, resp.Header.Get("X-Cache")
	}
	mix := func(edgeIdx int) {
		t.Helper()
		for range 2 { // a miss, then a hit (the fast path for whole memory hits)
			for _, p := range []string{"master.m3u8", "hls/src/video.m3u8", "hls/src/video/0.m4s", "hls/src/video/1.m4s"} {
				if code, _ := fetch(edgeIdx, http.MethodGet, p, ""); code != http.StatusOK {
					t.Fatalf("GET %s: %d", p, code)
				}
			}
		}
		for _, rg := range []string{"bytes=0-999", "bytes=100000-299999", "bytes=-5000"} {
			if code, _ := fetch(edgeIdx, http.MethodGet, "r/src.mp4", rg); code != http.StatusPartialContent {
				t.Fatalf("GET r/src.mp4 %s: %d", rg, code)
			}
		}
		fetch(edgeIdx, http.MethodGet, "r/src.mp4", "")
		fetch(edgeIdx, http.MethodHead, "hls/src/video/1.m4s", "")
		fetch(edgeIdx, http.MethodGet, "thumbs/poster.jpg", "") // 200 or 404, as the worker is at it
		if code, _ := fetch(edgeIdx, http.MethodGet, "hls/src/video/99999.m4s", ""); code != http.StatusNotFound {
			t.Fatalf("a segment past the end: %d, want 404", code)
		}
	}
	mix(0)
	mix(1)
	mix(1)
	// Both serving paths were metered: the memory hits went out on the
	// fast path, the rest through net/http.
	if _, m := get(t, st.EdgeURLs[1]+"/metrics", nil); !regexp.MustCompile(`(?m)^streamfront_edge_fastpath_requests_total [1-9]`).Match(m) {
		t.Fatal("edge-2 answered nothing on its fast path")
	}
	waitUsage(t, st, v.ID, got)

	t.Run("after a graceful restart of an edge", func(t *testing.T) {
		if err := st.RestartEdge(0); err != nil {
			t.Fatal(err)
		}
		mix(0) // now from its disk tier, memory empty
		waitUsage(t, st, v.ID, got)
	})

	t.Run("reports delivered again change nothing", func(t *testing.T) {
		// Every stored report goes through the queue once more under a new
		// message ID, so JetStream's duplicate window does not catch it and
		// the origin's ledger has to.
		s3, err := store.New(store.Config{Endpoint: st.S3.Endpoint(), Bucket: d.S3.Bucket, Region: d.S3.Region,
			AccessKey: st.S3.AccessKey(), SecretKey: st.S3.SecretKey(), PathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		keys, _, err := s3.ListPage(ctx, "usage/raw/", "", "", 1000)
		if err != nil || len(keys) == 0 {
			t.Fatalf("raw reports: %v %v", keys, err)
		}
		q, err := queue.Open(ctx, queue.Config{URL: st.NATS.URL(), Name: "replay"})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		kind, err := q.Kind(ctx, usage.QueueKind)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			body, _, err := s3.Get(ctx, k, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kind.Publish(ctx, "replay-"+k, body); err != nil {
				t.Fatal(err)
			}
		}
		// The consumer has taken them all when the queue is empty.
		deadline := time.Now().Add(30 * time.Second)
		for {
			waiting, inFlight, err := kind.Depth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if waiting+inFlight == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replayed reports still queued: %d waiting, %d in flight", waiting, inFlight)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if rows := queryUsage(t, st, v.ID); !sameAsReceived(rows, got) {
			t.Errorf("after replay: %+v, clients received %s", rows, describe(got))
		}
	})
}

// waitUsage waits (at most 30 s) until the usage API answers, for video,
// what the clients received through each edge, then checks fills were
// counted.
func waitUsage(t *testing.T, st *stack.Stack, video string, want map[string]*received) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows := queryUsage(t, st, video)
		if sameAsReceived(rows, want) {
			t.Logf("usage API: %+v; clients received %s", rows, describe(want))
			for _, r := range rows {
				if r.OriginBytes <= 0 {
					t.Errorf("%s: no bytes fetched upstream counted (fills)", r.Edge)
				}
				if r.DeliveredSeconds <= 0 {
					t.Errorf("%s: no delivered media time counted (the origin's X-Streamfront-Media-Duration)", r.Edge)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage API says %+v; clients received %s", rows, describe(want))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// queryUsage is GET /api/v1/usage for one video, by edge, summed over the
// hours around now.
func queryUsage(t *testing.T, st *stack.Stack, video string) map[string]usageRow {
	t.Helper()
	now := time.Now().UTC()
	q := url.Values{"from": {now.Add(-2 * time.Hour).Format(time.RFC3339)}, "to": {now.Add(2 * time.Hour).Format(time.RFC3339)},
		"group_by": {"edge"}, "video": {video}}
	req, _ := http.NewRequest(http.MethodGet, st.OriginURL+"/api/v1/usage?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("usage: %s %s", resp.Status, body)
	}
	var a struct {
		Rows []usageRow `json:"rows"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	sum := map[string]usageRow{}
	for _, r := range a.Rows {
		s := sum[r.Edge]
		s.Edge = r.Edge
		s.Requests += r.Requests
		s.BytesOut += r.BytesOut
		s.OriginBytes += r.OriginBytes
		s.DeliveredSeconds += r.DeliveredSeconds
		sum[r.Edge] = s
	}
	return sum
}

func sameAsReceived(rows map[string]usageRow, want map[string]*received) bool {
	if len(rows) != len(want) {
		return false
	}
	for edge, w := range want {
		r := rows[edge]
		if r.Requests != w.requests || r.BytesOut != w.bytes {
			return false
		}
	}
	return true
}

func describe(m map[string]*received) string {
	var b strings.Builder
	for edge, r := range m {
		fmt.Fprintf(&b, "%s: %d requests, %d bytes; ", edge, r.requests, r.bytes)
	}
	return b.String()
}
