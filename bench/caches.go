package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
)

// cacheServer is one of the caches compared: our edge, nginx or Varnish,
// each a separate process (group) treated alike.
type cacheServer struct {
	name string
	URL  string
	proc *process
	// hit reports whether a response's headers say it was a cache hit, and
	// the header that says so, for error messages.
	hit func(h map[string][]string) (bool, string)
}

func first(h map[string][]string, key string) string {
	if v := h[http.CanonicalHeaderKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// caches are the servers side by side in front of one origin.
type caches struct {
	all []*cacheServer // ours first, ours with usage metering last
}

// meteredName is the name of our edge with usage metering on; the first
// of caches.all is the same edge with metering off.
const meteredName = "streamfront edge, metered"

func (c *caches) stop() {
	for _, s := range c.all {
		s.proc.stop()
	}
}

// startCaches starts our edge, nginx and Varnish in front of originURL,
// each placed as pl says; nginx gets one worker per CPU of cpuCount. With
// a natsURL, our edge runs a second time with usage metering on,
// reporting through it every 10 s, to measure what metering costs.
func startCaches(ctx context.Context, dir, bin, originURL, natsURL string, edgeMemory int64, pl placement, cpuCount int) (_ *caches, err error) {
	u, err := url.Parse(originURL)
	if err != nil {
		return nil, err
	}
	originPort, _ := strconv.Atoi(u.Port())
	c := &caches{}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	ourEdge := func(name, label string, env ...string) error {
		e, err := startEdge(ctx, name, dir, bin, originURL, edgeMemory, filepath.Join(dir, name+"-cache"), pl, env...)
		if err != nil {
			return fmt.Errorf("start our edge: %w", err)
		}
		c.all = append(c.all, &cacheServer{
			name: label, URL: e.URL, proc: e.process,
			hit: func(h map[string][]string) (bool, string) {
				v := first(h, "X-Cache")
				return v == "Hit from "+name, "X-Cache: " + v
			},
		})
		return nil
	}
	if err := ourEdge("edge-bench", "streamfront edge", "STREAMFRONT_USAGE=false"); err != nil {
		return nil, err
	}
	n, err := startNginx(ctx, dir, u.Host, pl, cpuCount)
	if err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	c.all = append(c.all, n)
	v, err := startVarnish(ctx, dir, originPort, pl)
	if err != nil {
		return nil, fmt.Errorf("start Varnish: %w", err)
	}
	c.all = append(c.all, v)
	if natsURL != "" {
		if err := ourEdge("edge-bench-metered", meteredName, "STREAMFRONT_USAGE=true", "STREAMFRONT_NATS_URL="+natsURL, "STREAMFRONT_USAGE_INTERVAL=10s"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// warmAndVerify requests path from s until it answers a hit, and checks
// that the hit's bytes are the origin's.
func (s *cacheServer) warmAndVerify(ctx context.Context, path string, want []byte) error {
	var last string
	for range 3 {
		body, h, err := httpGet(ctx, s.URL+path, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		hit, why := s.hit(h)
		last = why
		if !hit {
			continue
		}
		if !bytes.Equal(body, want) {
			return fmt.Errorf("%s: the cache hit for %s is %d bytes (sha256 %x), the origin's %d bytes (sha256 %x)",
				s.name, path, len(body), sha256.Sum256(body), len(want), sha256.Sum256(want))
		}
		return nil
	}
	return fmt.Errorf("%s: %s was not a cache hit after 3 requests (last %s)", s.name, path, last)
}
