package steering

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// masterCache keeps parsed master playlists briefly, so a crowd starting
// one video costs the edges one fetch per freshness lifetime rather than
// one per viewer. Entries are immutable; the cache holds at most max of
// them.
type masterCache struct {
	max int

	mu      sync.Mutex
	entries map[string]cachedMaster
}

// cachedMaster is one cache entry.
type cachedMaster struct {
	playlist *masterPlaylist
	expires  time.Time
}

func newMasterCache(max int) *masterCache {
	return &masterCache{max: max, entries: map[string]cachedMaster{}}
}

// get returns the fresh entry for key.
func (c *masterCache) get(key string, now time.Time) (*masterPlaylist, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return nil, false
	}
	return e.playlist, true
}

// put stores p for ttl. When the cache is full it first drops expired
// entries, then, if still full, the entry closest to expiry: with entries
// living seconds, a scan of a thousand on the rare full insert is cheaper
// than keeping an ordered structure on every one.
func (c *masterCache) put(key string, p *masterPlaylist, ttl time.Duration, now time.Time) {
	if ttl <= 0 || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		soonestKey, soonest := "", time.Time{}
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
				continue
			}
			if soonestKey == "" || e.expires.Before(soonest) {
				soonestKey, soonest = k, e.expires
			}
		}
		if len(c.entries) >= c.max {
			delete(c.entries, soonestKey)
		}
	}
	c.entries[key] = cachedMaster{playlist: p, expires: now.Add(ttl)}
}

// freshness is how long a shared cache may keep a response with header h,
// at most limit (RFC 9111 §4.2.1, reduced to what the router needs):
// s-maxage, else max-age, minus Age; none at all, no-store, no-cache or
// private mean not at all.
func freshness(h http.Header, limit time.Duration) time.Duration {
	var maxAge, sMaxAge time.Duration = -1, -1
	for _, line := range h.Values("Cache-Control") {
		for part := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache", "private":
				return 0
			case "max-age":
				maxAge = parseSeconds(value)
			case "s-maxage":
				sMaxAge = parseSeconds(value)
			}
		}
	}
	lifetime := maxAge
	if sMaxAge >= 0 {
		lifetime = sMaxAge
	}
	if lifetime <= 0 {
		return 0
	}
	if age := parseSeconds(h.Get("Age")); age > 0 {
		lifetime -= age
	}
	return max(0, min(lifetime, limit))
}

// parseSeconds parses a delta-seconds value; -1 when it is not one.
func parseSeconds(s string) time.Duration {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	if n > int64(365*24*time.Hour/time.Second) {
		n = int64(365 * 24 * time.Hour / time.Second)
	}
	return time.Duration(n) * time.Second
}
