package edge

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxInvalidationPaths bounds one invalidation request; a bigger batch is
// refused rather than scanning the index for a very long time.
const maxInvalidationPaths = 1000

// invalidationRequest is the body of POST /api/v1/invalidations.
type invalidationRequest struct {
	// Paths are exact paths ("/videos/abc/master.m3u8") or prefixes ending
	// in "*" ("/videos/abc/*"). A path covers its slices too.
	Paths []string `json:"paths"`
}

// serveInvalidation removes matching entries from both tiers. It needs
// "Authorization: Bearer <Config.AdminToken>".
func (e *Edge) serveInvalidation(w http.ResponseWriter, r *http.Request) error {
	if e.cfg.AdminToken == "" {
		return fmt.Errorf("%w: invalidation is disabled on this edge (no admin token configured)", errUnauthorized)
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(e.cfg.AdminToken)) != 1 {
		return errUnauthorized
	}
	var req invalidationRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return fmt.Errorf(`%w: the body must be JSON like {"paths":["/videos/abc/*"]}: %v`, errBadRequest, err)
	}
	if len(req.Paths) == 0 || len(req.Paths) > maxInvalidationPaths {
		return fmt.Errorf("%w: send between 1 and %d paths", errBadRequest, maxInvalidationPaths)
	}
	for _, p := range req.Paths {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("%w: path %q must start with /", errBadRequest, p)
		}
	}
	n := e.invalidate(req.Paths)
	e.metrics.invalidated.Add(float64(n))
	e.log.Info("invalidated", "paths", req.Paths, "entries", n)

	h := w.Header()
	e.setEdgeHeaders(h, xcacheMiss, 0)
	h["Cache-Control"] = e.hdrs.noStore
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(struct {
		Paths   []string `json:"paths"`
		Removed int      `json:"removed"`
	}{req.Paths, n})
}

// maxInvalidationLog is how many recent invalidations are remembered for
// fills in flight; a fill older than all of them stores nothing.
const maxInvalidationLog = 64

// invalidationRecord is one invalidation, numbered by Edge.invalGen.
type invalidationRecord struct {
	gen      uint64
	patterns []string
}

func matchesAny(key string, patterns []string) bool {
	for _, p := range patterns {
		if keyMatches(key, p) {
			return true
		}
	}
	return false
}

// invalidatedSince reports whether an invalidation covering key ran after
// generation gen. The common case, no invalidation at all, is one atomic
// load.
func (e *Edge) invalidatedSince(gen uint64, key string) bool {
	if e.invalGen.Load() == gen {
		return false
	}
	e.invalMu.Lock()
	defer e.invalMu.Unlock()
	if len(e.invalLog) == 0 || e.invalLog[0].gen > gen+1 {
		return true // records of some later invalidation are gone: assume it matched
	}
	for _, rec := range e.invalLog {
		if rec.gen > gen && matchesAny(key, rec.patterns) {
			return true
		}
	}
	return false
}

// invalidate removes every entry whose key matches one of patterns from
// both tiers and returns how many keys it removed. Fills in flight still
// answer the clients waiting on them, but store nothing under a matching
// key: the invalidation is recorded before the removal, see
// storeIfCurrent.
func (e *Edge) invalidate(patterns []string) int {
	e.recordInvalidation(patterns)
	matches := func(key string) bool { return matchesAny(key, patterns) }
	var keys []string
	for k := range e.mem.c.Keys() {
		if matches(k) {
			keys = append(keys, k)
		}
	}
	if e.disk != nil {
		for k := range e.disk.Keys() {
			if matches(k) {
				keys = append(keys, k)
			}
		}
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			e.remove(k)
		}
	}
	return len(seen)
}

// unsafeMethod reports whether a method is not safe (RFC 9110 §9.2.1):
// the request may change what the origin holds.
func unsafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// invalidateAfterUnsafe drops what the cache holds for the target URI of
// an unsafe request that succeeded (a non-error status), and for the
// URIs its Location and Content-Location name when they are on this
// same origin (RFC 9111 §4.4). It costs no index scan: each URI is one
// key (its slices, if any, are keyed by the version they belong to and
// are not reachable once the object's entry is gone).
func (e *Edge) invalidateAfterUnsafe(in *http.Request, resp *http.Response) {
	if !unsafeMethod(in.Method) || resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return
	}
	keys := []string{e.cacheKey(in)}
	for _, field := range []string{"Location", "Content-Location"} {
		v := resp.Header.Get(field)
		if v == "" {
			continue
		}
		u, err := in.URL.Parse(v)
		if err != nil || (u.Host != "" && !strings.EqualFold(u.Host, in.Host)) || !strings.HasPrefix(u.Path, "/") {
			continue // another origin's URI, or none we can read
		}
		keys = append(keys, e.keyOf(u.Path, u.RawQuery))
	}
	e.invalidateKeys(keys)
}

// invalidateKeys removes exact keys from both tiers, recorded like an
// invalidation so fills in flight do not store them again
// (storeIfCurrent).
func (e *Edge) invalidateKeys(keys []string) {
	e.recordInvalidation(keys)
	for _, k := range keys {
		e.remove(k)
	}
}

// recordInvalidation numbers an invalidation and remembers its patterns
// for fills in flight, before anything is removed (see storeIfCurrent).
func (e *Edge) recordInvalidation(patterns []string) {
	e.invalMu.Lock()
	defer e.invalMu.Unlock()
	gen := e.invalGen.Add(1)
	e.invalLog = append(e.invalLog, invalidationRecord{gen: gen, patterns: patterns})
	if len(e.invalLog) > maxInvalidationLog {
		e.invalLog = append(e.invalLog[:0], e.invalLog[len(e.invalLog)-maxInvalidationLog:]...)
	}
}
