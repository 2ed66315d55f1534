package edge

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// cached is one lookup result: the entry and where its body is. mem is
// set for a memory hit, disk for a disk hit (the file is not opened yet).
type cached struct {
	meta *entry
	mem  *memItem
	disk *diskItem
}

// passMarkerTTL is how long a key known to be uncacheable skips the cache.
const passMarkerTTL = 10 * time.Second

// diskMinFreshness: answers fresher than this for less time (live-ish
// playlists with max-age=2) stay in memory only; writing them to disk on
// every refresh would cost I/O for nothing.
const diskMinFreshness = time.Minute

// lookup finds key in the memory tier, then in the disk tier's index. It
// does no I/O.
func (e *Edge) lookup(key string) (cached, bool) {
	if it, ok := e.mem.get(key); ok {
		return cached{meta: it.meta, mem: it}, true
	}
	if e.diskTrusted() {
		if it, ok := e.disk.Get(key); ok {
			return cached{meta: it.Meta, disk: it}, true
		}
	}
	return cached{}, false
}

// contains reports whether key is cached in either tier.
func (e *Edge) contains(key string) bool {
	_, ok := e.lookup(key)
	return ok
}

// newEntry builds the entry of an origin answer received at now.
func (e *Edge) newEntry(key string, kind entryKind, status int, h http.Header, now time.Time) *entry {
	m := &entry{key: key, kind: kind, status: status, header: storedHeader(h), date: now}
	m.setValidators()
	m.setAccess()
	e.ttlFor(key).apply(m, h)
	if cr, ok := h["Content-Range"]; ok && (status == http.StatusPartialContent || m.rfc) {
		// The range a 206 holds (served, not stored), or whatever the
		// origin said of a whole answer under PolicyRFC9111, which keeps
		// every end-to-end field (§3.1).
		m.header["Content-Range"] = slices.Clone(cr)
	}
	if !m.rfc {
		// The video policy answers with the edge's own Date, as it always
		// has (the fast path writes it per answer).
		delete(m.header, "Date")
	}
	m.setSize(-1)
	return m
}

// withCodingVary returns m, or a copy of it whose header adds
// "Vary: Accept-Encoding" when the edge may send it compressed: only then
// does its answer depend on that header. The copy has its own header map,
// so answers already streaming from m's are not disturbed.
func withCodingVary(m *entry) *entry {
	if !m.compressible || m.varyStar {
		return m
	}
	for _, v := range m.header["Vary"] {
		if strings.Contains(strings.ToLower(v), "accept-encoding") {
			return m
		}
	}
	c := *m
	c.header = make(http.Header, len(m.header)+1)
	maps.Copy(c.header, m.header)
	addVaryAcceptEncoding(c.header)
	return &c
}

// storeMemory keeps a complete answer in the memory tier.
func (e *Edge) storeMemory(m *entry, body []byte) {
	if !m.storable {
		return
	}
	e.mem.set(&memItem{meta: m, body: body})
}

// storeDisk writes a complete answer to the disk tier, when there is one
// and the answer lives long enough to be worth it.
func (e *Edge) storeDisk(m *entry, body []byte) {
	if e.disk == nil || !m.storable || (m.kind == kindWhole && m.freshFor+m.sie < diskMinFreshness) {
		return
	}
	if err := e.disk.Write(m.key, m, body); err != nil {
		e.log.Warn("disk tier write failed; serving from memory only", "key", m.key, "err", err)
	}
}

// store keeps a complete answer in both tiers.
func (e *Edge) store(m *entry, body []byte) {
	e.storeMemory(m, body)
	e.storeDisk(m, body)
}

// storeRefreshed applies a 304 to a stored copy: new headers and
// freshness, same body, in whichever tiers held it.
func (e *Edge) storeRefreshed(prev cached, h http.Header, now time.Time) cached {
	m := &entry{
		key: prev.meta.key, kind: prev.meta.kind, status: prev.meta.status,
		header: mergeHeader(prev.meta.header, h), date: now,
	}
	m.setValidators()
	m.setAccess()
	e.ttlFor(m.key).apply(m, m.header)
	if prev.mem != nil {
		capLivePlaylist(m, m.key, prev.mem.body) // a 304 keeps the one-part limit (live.go)
	}
	m.initialAge = parseAge(h)
	if m.rfc {
		m.initialAge = correctedInitialAge(h, now)
	} else {
		delete(m.header, "Date")
	}
	m.vary, m.varyStar, m.varyKey = prev.meta.vary, prev.meta.varyStar, prev.meta.varyKey
	m.setSize(prev.meta.size)
	m.storable = true
	out := cached{meta: m}
	if prev.mem != nil {
		out.mem = &memItem{meta: m, body: prev.mem.body}
		e.mem.set(out.mem)
	}
	if prev.disk != nil {
		out.disk = e.disk.UpdateMeta(prev.disk, m)
	}
	return out
}

// storePass remembers for a while that key is not cacheable.
func (e *Edge) storePass(key string, now time.Time) {
	e.mem.set(&memItem{meta: &entry{key: key, kind: kindPass, date: now, freshFor: passMarkerTTL, storable: true}})
}

// remove drops key from both tiers.
func (e *Edge) remove(key string) {
	e.mem.remove(key)
	if e.disk != nil {
		e.disk.Remove(key)
	}
}

// cacheKey is the cache key of a request: its path and query, without
// the token parameter of signed URLs (every viewer's token opens the same
// object).
func (e *Edge) cacheKey(r *http.Request) string {
	return e.dists.forRequest(r).keyOf(r.URL.Path, r.URL.RawQuery)
}

// keyMatches reports whether a cache key belongs to a path pattern: an
// exact path, or a prefix ending in "*". Slice keys start with their
// object's key, so they match with it.
func keyMatches(key, pattern string) bool {
	key = keyPath(key) // a path is purged in every distribution
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(key, prefix)
	}
	if !strings.HasPrefix(key, pattern) {
		return false
	}
	rest := key[len(pattern):]
	return rest == "" || rest[0] == '?' || rest[0] == sliceKeySep
}
