package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// edgeItemOverhead mirrors the bytes the edge's memory tier charges per
// item beyond its body and key (edge/cache_memory.go, memItemOverhead), so
// the simulated LRU gets exactly the same budget.
const edgeItemOverhead = 512

// measureHitRatio plays one Zipf request stream through a memory-only
// edge and through an LRU simulation with the same byte budget.
func (e *env) measureHitRatio(ctx context.Context) *section {
	cfg := e.cfg
	s := &section{title: fmt.Sprintf("Hit ratio: our edge's memory tier vs a plain LRU (Zipf s=%.1f, catalog 10× the cache)", cfg.ZipfS)}
	n := int(10 * cfg.HitRatioBudget / int64(cfg.HitRatioObjectBytes))
	o, err := startTestOrigin(n, cfg.HitRatioObjectBytes)
	if err != nil {
		s.err = fmt.Errorf("start the test origin: %w", err)
		return s
	}
	defer o.close()
	edge, err := startEdge(ctx, "edge-hitratio", e.dir, e.bin, o.URL, cfg.HitRatioBudget, "", placement{})
	if err != nil {
		s.err = fmt.Errorf("start an edge for the hit-ratio run: %w", err)
		return s
	}
	defer edge.stop()

	// One stream, drawn once, replayed through both. Ranks are scattered
	// over object numbers so popularity has nothing to do with the name.
	z := newZipf(n, cfg.ZipfS, 42)
	perm := z.rng.Perm(n)
	stream := make([]int, cfg.HitRatioRequests)
	for i := range stream {
		stream[i] = perm[z.next()]
	}
	warm := len(stream) / 5

	e.logf("%d requests over %d objects through %s", len(stream), n, edge.Name)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 30 * time.Second}
	start := time.Now()
	edgeHits, lruHits := 0, 0
	sim := newLRU(cfg.HitRatioBudget)
	for i, obj := range stream {
		path := o.path(obj)
		hit, err := edgeRequest(ctx, client, edge.URL+path, edge.Name)
		if err != nil {
			s.err = edge.failed(fmt.Errorf("request %d (%s): %w", i, path, err))
			return s
		}
		lruHit := sim.access(obj, int64(cfg.HitRatioObjectBytes+len(path)+edgeItemOverhead))
		if i >= warm {
			if hit {
				edgeHits++
			}
			if lruHit {
				lruHits++
			}
		}
	}
	took := time.Since(start)
	counted := float64(len(stream) - warm)
	perItem := int64(cfg.HitRatioObjectBytes + len(o.path(n-1)) + edgeItemOverhead)

	t := newTable("cache", "byte budget", "hit ratio", "note")
	t.add("streamfront edge (memory tier, W-TinyLFU), measured from X-Cache", fmtBytes(cfg.HitRatioBudget), fmt.Sprintf("%.1f%%", 100*float64(edgeHits)/counted), "")
	t.add("plain LRU, simulated on the same stream", fmtBytes(cfg.HitRatioBudget), fmt.Sprintf("%.1f%%", 100*float64(lruHits)/counted), "")
	t.add("oracle: always the most popular objects that fit (static)", fmtBytes(cfg.HitRatioBudget), fmt.Sprintf("%.1f%%", 100*z.topShare(int(cfg.HitRatioBudget/perItem))), "upper bound for a stationary stream")
	s.tables = append(s.tables, t)
	s.note("Catalog: %d objects of %s from a Go origin on loopback (about 10× the budget); stream: %d requests drawn from Zipf(s=%.1f), replayed one at a time (%s, %.0f req/s); the first %d requests warm the caches and are not counted. The origin answered %d requests.",
		n, fmtBytes(int64(cfg.HitRatioObjectBytes)), len(stream), cfg.ZipfS, fmtDuration(took.Round(100*time.Millisecond)), float64(len(stream))/took.Seconds(), warm, o.requests.Load())
	s.note("The LRU charges each object what the edge's memory tier charges (body + key + %d bytes), so both hold the same number of objects; the edge runs memory-only (no disk tier), budget %s.",
		edgeItemOverhead, fmtBytes(cfg.HitRatioBudget))
	return s
}

// edgeRequest GETs url and reports whether the edge said it was a hit.
func edgeRequest(ctx context.Context, client *http.Client, url, edgeName string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	x := resp.Header.Get("X-Cache")
	if !strings.HasSuffix(x, " from "+edgeName) {
		return false, fmt.Errorf("unexpected X-Cache %q", x)
	}
	return strings.HasPrefix(x, "Hit "), nil
}
