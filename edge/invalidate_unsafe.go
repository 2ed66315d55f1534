package edge

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Invalidation by unsafe methods (RFC 9111 §4.4). Every successful POST,
// PUT, DELETE or PATCH through the edge drops the cached answer of its
// URI, and of its same-origin Location and Content-Location: one exact
// key each, so no index scan. They are far more frequent than admin
// invalidations (a site's forms, an API's writes), so they are recorded
// apart, in keyInvalidations, and do not crowd the admin log out (a fill
// older than every record of that log stores nothing).

// maxKeyInvalidations is how many recent exact-key invalidations are
// remembered for fills in flight; a fill older than all of them stores
// nothing. At thousands of unsafe requests a second this still covers
// fills of a second or more.
const maxKeyInvalidations = 4096

// keyInvalidations remembers the last exact-key invalidations, numbered
// by their own counter, so a fill that started before one of its key
// does not store what it fetched (see storeIfCurrent).
type keyInvalidations struct {
	gen  atomic.Uint64 // counts them
	mu   sync.Mutex
	last map[string]uint64 // key → number of its last invalidation
	ring []string          // keys in invalidation order, at most maxKeyInvalidations
	head int               // next slot of ring once it is full
}

// record numbers an invalidation of keys; called before they are removed.
func (k *keyInvalidations) record(keys []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.last == nil {
		k.last = make(map[string]uint64)
	}
	for _, key := range keys {
		g := k.gen.Add(1)
		if len(k.ring) < maxKeyInvalidations {
			k.ring = append(k.ring, key)
		} else {
			old := k.ring[k.head]
			if k.last[old] <= g-maxKeyInvalidations {
				delete(k.last, old)
			}
			k.ring[k.head] = key
			k.head = (k.head + 1) % maxKeyInvalidations
		}
		k.last[key] = g
	}
}

// since reports whether key was invalidated after generation gen. The
// common case, none at all since, is one atomic load.
func (k *keyInvalidations) since(gen uint64, key string) bool {
	now := k.gen.Load()
	if now == gen {
		return false
	}
	if now-gen > maxKeyInvalidations {
		return true // records of some later invalidation are gone: assume it matched
	}
	if i := strings.IndexByte(key, sliceKeySep); i >= 0 {
		key = key[:i] // a slice goes with its object
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.last[key] > gen
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
// same origin (RFC 9111 §4.4). Slices of a sliced object are keyed by the
// version they belong to and are unreachable once its entry is gone.
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
		keys = append(keys, e.dists.forRequest(in).keyOf(u.Path, u.RawQuery))
	}
	e.keyInval.record(keys)
	for _, k := range keys {
		e.remove(k)
	}
}
