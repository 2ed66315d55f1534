package origin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/streamfront/streamfront/internal/invalidation"
)

// Invalidation fan-out: the origin knows every edge (Config.Edges) and
// asks all of them at once to drop paths from their caches, through each
// edge's own POST /api/v1/invalidations. Each edge applies an
// invalidation before it answers, so when fanOut returns, the paths are
// gone from every edge that answered. An edge that did not answer within
// Config.InvalidationTimeout (down, restarting, partitioned) is retried in
// the background with backoff for Config.InvalidationRetryFor; an edge
// that refuses (a wrong admin token) is not retried. Either is logged.

// maxInvalidationPaths matches the edges' limit per request.
const maxInvalidationPaths = 1000

// Per-edge outcomes of an invalidation.
const (
	invalidationDone     = "done"     // the edge removed the paths
	invalidationRetrying = "retrying" // unreachable or failing: retried in the background
	invalidationFailed   = "failed"   // refused: not retried (see error)
)

// edgeInvalidation is one edge's outcome, as the API reports it.
type edgeInvalidation struct {
	Edge    string `json:"edge"`
	Status  string `json:"status"`
	Removed int    `json:"removed"`
	Error   string `json:"error,omitempty"`
}

// invalidator owns the client and the background retries.
type invalidator struct {
	edges    []string
	token    string
	timeout  time.Duration
	retryFor time.Duration
	log      *slog.Logger
	client   *http.Client

	// Background retries run on goroutines owned here: close cancels ctx
	// and waits for them.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newInvalidator(cfg Config, log *slog.Logger) *invalidator {
	iv := &invalidator{
		token:    cfg.EdgeAdminToken,
		timeout:  cfg.InvalidationTimeout,
		retryFor: cfg.InvalidationRetryFor,
		log:      log,
		client: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: cfg.InvalidationTimeout}).DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     time.Minute,
		}},
	}
	for _, e := range cfg.Edges {
		iv.edges = append(iv.edges, strings.TrimRight(e, "/"))
	}
	iv.ctx, iv.cancel = context.WithCancel(context.Background())
	return iv
}

// fanOut asks every edge to invalidate paths, all at once, and returns
// each edge's outcome once every edge has answered or timed out.
func (iv *invalidator) fanOut(ctx context.Context, paths []string) []edgeInvalidation {
	results := make([]edgeInvalidation, len(iv.edges))
	var wg sync.WaitGroup
	for i, base := range iv.edges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = iv.post(ctx, base, paths)
			switch results[i].Status {
			case invalidationRetrying:
				iv.log.Warn("edge did not take an invalidation; retrying in the background",
					slog.String("edge", base), slog.Any("paths", paths), slog.String("err", results[i].Error))
				iv.retryInBackground(base, paths)
			case invalidationFailed:
				iv.log.Error("edge refused an invalidation", slog.String("edge", base), slog.Any("paths", paths), slog.String("err", results[i].Error))
			}
		}()
	}
	wg.Wait()
	return results
}

// post sends one invalidation to one edge, waiting at most iv.timeout.
func (iv *invalidator) post(ctx context.Context, base string, paths []string) edgeInvalidation {
	res := edgeInvalidation{Edge: base, Status: invalidationRetrying}
	ctx, cancel := context.WithTimeout(ctx, iv.timeout)
	defer cancel()
	body, _ := json.Marshal(struct {
		Paths []string `json:"paths"`
	}{paths})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/invalidations", bytes.NewReader(body))
	if err != nil {
		res.Status, res.Error = invalidationFailed, err.Error()
		return res
	}
	req.Header.Set("Authorization", "Bearer "+iv.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := iv.client.Do(req)
	if err != nil {
		res.Error = fmt.Sprintf("unreachable: %v", err)
		return res
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var parsed struct {
		Removed int    `json:"removed"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(answer, &parsed)
	switch {
	case resp.StatusCode == http.StatusOK:
		res.Status, res.Removed = invalidationDone, parsed.Removed
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		res.Error = fmt.Sprintf("the edge answered %d: %s", resp.StatusCode, parsed.Error)
	case resp.StatusCode == http.StatusUnauthorized:
		res.Status = invalidationFailed
		res.Error = "the edge refused the admin token: set the origin's STREAMFRONT_EDGE_ADMIN_TOKEN to the edges' STREAMFRONT_ADMIN_TOKEN"
	default:
		res.Status = invalidationFailed
		res.Error = fmt.Sprintf("the edge answered %d: %s", resp.StatusCode, parsed.Error)
	}
	return res
}

// retryInBackground retries an invalidation one edge missed until it
// takes it, refuses it, iv.retryFor has passed, or the origin shuts down.
func (iv *invalidator) retryInBackground(base string, paths []string) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if iv.closed {
		iv.log.Error("origin shutting down: an invalidation an edge missed is not retried", slog.String("edge", base), slog.Any("paths", paths))
		return
	}
	iv.wg.Add(1)
	go func() {
		defer iv.wg.Done()
		giveUp := time.Now().Add(iv.retryFor)
		delay := time.Second
		for attempt := 2; ; attempt++ {
			timer := time.NewTimer(delay)
			select {
			case <-iv.ctx.Done():
				timer.Stop()
				iv.log.Error("origin shutting down: gave up an invalidation an edge missed", slog.String("edge", base), slog.Any("paths", paths))
				return
			case <-timer.C:
			}
			res := iv.post(iv.ctx, base, paths)
			switch {
			case res.Status == invalidationDone:
				iv.log.Info("edge took a retried invalidation", slog.String("edge", base), slog.Any("paths", paths),
					slog.Int("attempt", attempt), slog.Int("removed", res.Removed))
				return
			case res.Status == invalidationFailed:
				iv.log.Error("edge refused a retried invalidation", slog.String("edge", base), slog.Any("paths", paths), slog.String("err", res.Error))
				return
			case time.Now().After(giveUp):
				iv.log.Error("gave up an invalidation: the edge stayed unreachable; it may serve the paths until their cache lifetimes end",
					slog.String("edge", base), slog.Any("paths", paths), slog.Int("attempts", attempt), slog.String("err", res.Error))
				return
			}
			delay = min(2*delay, 30*time.Second)
		}
	}()
}

// close stops the background retries and waits for them.
func (iv *invalidator) close() {
	iv.mu.Lock()
	iv.closed = true
	iv.mu.Unlock()
	iv.cancel()
	iv.wg.Wait()
	iv.client.CloseIdleConnections()
}

// invalidationRequest is the body of POST /api/v1/invalidations.
type invalidationRequest struct {
	Paths []string `json:"paths"`
}

// createInvalidation is POST /api/v1/invalidations: it answers 202 with
// every edge's outcome once all have answered or timed out.
func (s *Server) createInvalidation(w http.ResponseWriter, r *http.Request) error {
	var req invalidationRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errorf(http.StatusBadRequest, `The body must be JSON like {"paths":["/videos/ID/*"]}: `+err.Error())
	}
	if len(req.Paths) == 0 || len(req.Paths) > maxInvalidationPaths {
		return errorf(http.StatusBadRequest, fmt.Sprintf("Send between 1 and %d paths.", maxInvalidationPaths))
	}
	for _, p := range req.Paths {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\r\n") {
			return errorf(http.StatusBadRequest, fmt.Sprintf("Path %q must start with / (end it with * for a prefix).", p))
		}
	}
	if len(s.inval.edges) == 0 {
		return errorf(http.StatusConflict, "This origin knows no edges (list them under edges in the deployment file); nothing was invalidated.")
	}
	id, results := s.invalidatePaths(r.Context(), req.Paths, "api")
	return writeJSON(w, http.StatusAccepted, struct {
		ID    string             `json:"id"`
		Paths []string           `json:"paths"`
		Edges []edgeInvalidation `json:"edges"`
	}{id, req.Paths, results})
}

// invalidatePaths drops paths from every edge: on the durable feed first,
// so an edge that is down applies it when it comes back, then by asking
// each edge at once (fanOut), which is what makes it take effect now. It
// waits as fanOut does; the caller's cancellation does not stop it.
func (s *Server) invalidatePaths(ctx context.Context, paths []string, why string) (string, []edgeInvalidation) {
	ctx = context.WithoutCancel(ctx)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	now := time.Now().UTC()
	id := fmt.Sprintf("inv_%d_%s", now.UnixMilli(), hex.EncodeToString(rnd[:]))
	if s.invalFeed != nil {
		if err := s.invalFeed.Publish(ctx, invalidation.Invalidation{ID: id, Paths: paths, At: now, Why: why}); err != nil {
			s.log.Warn("invalidation not on the durable feed: an edge that is down now may miss it", slog.String("id", id), slog.Any("err", err))
		}
	}
	if len(s.inval.edges) == 0 {
		return id, []edgeInvalidation{}
	}
	return id, s.inval.fanOut(ctx, paths)
}

// listInvalidations is GET /api/v1/invalidations: the last 100, newest
// first, with when each edge applied each.
func (s *Server) listInvalidations(w http.ResponseWriter, r *http.Request) error {
	if s.invalFeed == nil {
		return errorf(http.StatusServiceUnavailable, "The invalidation history is starting; try again in a few seconds.")
	}
	recs, err := s.invalFeed.History(r.Context(), 100)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"invalidations": recs})
}

// sitePagesOf are the site's pages that show video id's title, poster or
// visibility: its watch and embed pages, the library (every page and
// search of it: a path covers its query variants), the sitemap and oEmbed
// answers. Edges keep them briefly (s-maxage); this makes a change show
// at once.
func sitePagesOf(id string) []string {
	return []string{"/watch/" + id, "/embed/" + id, "/", "/sitemap.xml", "/oembed"}
}

// invalidateVideo drops everything of video id from every edge (after a
// delete or a visibility change). It waits as fanOut does; the caller's
// cancellation does not stop it.
func (s *Server) invalidateVideo(ctx context.Context, id, why string) {
	// The site's pages too, for edges that serve the site.
	_, results := s.invalidatePaths(ctx, append([]string{"/videos/" + id + "/*"}, sitePagesOf(id)...), why)
	done := 0
	for _, res := range results {
		if res.Status == invalidationDone {
			done++
		}
	}
	s.log.Info("invalidated a video on the edges", slog.String("id", id), slog.String("why", why),
		slog.Int("edges", len(results)), slog.Int("done", done))
}
