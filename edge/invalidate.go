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

// ownInvalidation tells whether a POST /api/v1/invalidations is for this
// edge. Where the edge serves a site whose API is passed to an origin (the
// site distribution's /api/**), only a request with the edge's admin token
// is: the others are the API's (an API key asking the origin to purge
// every edge) and go through like any API call.
func (e *Edge) ownInvalidation(r *http.Request) bool {
	if e.requestPolicy(r) != PolicyPass {
		return true
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && e.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(e.cfg.AdminToken)) == 1
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
// f started: an admin invalidation after generation f.gen, or an unsafe
// request's after f.keyGen (invalidate_unsafe.go). The common case, no
// invalidation at all, is two atomic loads.
func (e *Edge) invalidatedSince(f *fill, key string) bool {
	return e.keyInval.since(f.keyGen, key) || e.patternInvalidatedSince(f.gen, key)
}

// patternInvalidatedSince reports whether an admin invalidation covering
// key ran after generation gen.
func (e *Edge) patternInvalidatedSince(gen uint64, key string) bool {
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
