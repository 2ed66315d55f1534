package origin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/usage"
)

// An edge's meter reports through the queue; the origin folds the reports
// into S3 and answers /api/v1/usage (JSON with an estimate, and CSV) and a
// video's usage object.
func TestUsage_FromAnEdgesMeterToTheAPI(t *testing.T) {
	b := startBackend(t)
	o := startOriginOn(t, b, 0)
	ctx := context.Background()
	q, err := queue.Open(ctx, queue.Config{URL: b.NATS, Name: "edge-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	kind, err := q.Kind(ctx, usage.QueueKind)
	if err != nil {
		t.Fatal(err)
	}
	m, err := usage.New(usage.Config{Edge: "edge-test", Sink: &usage.QueueSink{Kind: kind}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	const video = "0123456789abcdef"
	for i := range 10 {
		result := usage.ResultHit
		if i == 0 {
			result = usage.ResultMiss
		}
		m.Add(usage.Event{Video: video, Kind: usage.KindSegment, Result: result, BytesOut: 1 << 20, Delivered: 4 * time.Second, At: now})
	}
	m.Add(usage.Event{Video: video, Kind: usage.KindPlaylist, Result: usage.ResultMiss, BytesOut: 1000, OriginBytes: 1000, At: now})
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.Close(cctx); err != nil {
		t.Fatal(err)
	}

	from, to := now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339)
	type answer struct {
		Rows []struct {
			Video    string `json:"video"`
			Kind     string `json:"kind"`
			Requests int64  `json:"requests"`
		} `json:"rows"`
		Totals struct {
			BytesOut         int64   `json:"bytes_out"`
			Requests         int64   `json:"requests"`
			DeliveredSeconds float64 `json:"delivered_seconds"`
			HitRatio         float64 `json:"hit_ratio"`
		} `json:"totals"`
		Estimate struct {
			Currency   string `json:"currency"`
			PayAsYouGo struct {
				Total float64 `json:"total"`
			} `json:"pay_as_you_go"`
		} `json:"estimate"`
	}
	get := func(query string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, o.URL+"/api/v1/usage?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	// The consumer moves reports to S3 as they come: wait until they are in.
	var a answer
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get("from=" + from + "&to=" + to + "&group_by=kind")
		if code != http.StatusOK {
			t.Fatalf("usage: %d %s", code, body)
		}
		a = answer{}
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		if a.Totals.Requests == 11 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a.Totals.Requests != 11 || a.Totals.BytesOut != 10<<20+1000 || a.Totals.DeliveredSeconds != 40 {
		t.Errorf("totals %+v: want 11 requests, 10 MiB + 1000 bytes, 40 s delivered", a.Totals)
	}
	if a.Totals.HitRatio < 0.81 || a.Totals.HitRatio > 0.82 {
		t.Errorf("hit ratio %.3f, want 9/11", a.Totals.HitRatio)
	}
	if len(a.Rows) != 2 || a.Estimate.Currency != "USD" || a.Estimate.PayAsYouGo.Total <= 0 {
		t.Errorf("rows %+v, estimate %+v", a.Rows, a.Estimate)
	}
	code, csv := get("from=" + from + "&to=" + to + "&group_by=video&format=csv")
	if code != http.StatusOK || !strings.Contains(string(csv), video) {
		t.Errorf("CSV: %d %s", code, csv)
	}
	for _, bad := range []string{"to=" + to, "from=" + from + "&to=" + to + "&group_by=colour", "from=yesterday&to=" + to} {
		if code, body := get(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", bad, code, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, o.URL+"/api/v1/usage?from="+from+"&to="+to, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("usage without the key: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
}
