package edge

import (
	"net/http"
	"strconv"
	"time"
)

// xcache is the cache outcome reported in X-Cache.
type xcache uint8

const (
	xcacheHit xcache = iota
	xcacheMiss
	xcacheRefreshHit
	xcacheStale
	xcacheCount
)

// xcacheError is what an edge-made error reports: the request missed and
// could not be filled. It keeps X-Cache within the documented values.
const xcacheError = xcacheMiss

func (x xcache) String() string {
	return [...]string{"Hit", "Miss", "RefreshHit", "Stale"}[x]
}

// precomputedAges is how many Age values are formatted once at start, so
// the hit path does not format numbers for young entries.
const precomputedAges = 1024

// edgeHeaders holds header values that are the same on every response,
// built once so the hit path only assigns map slots. Each slice is never
// mutated after construction.
type edgeHeaders struct {
	xcache                [xcacheCount][]string
	xedge, via            []string
	allowOrigin, expose   []string
	acceptRanges, noStore []string
	privateNoStore        []string
	ages                  [precomputedAges][]string
	viaSuffix             string
}

func newEdgeHeaders(cfg Config) *edgeHeaders {
	h := &edgeHeaders{
		xedge:          []string{cfg.Name},
		via:            []string{"1.1 " + cfg.Name},
		viaSuffix:      ", 1.1 " + cfg.Name,
		allowOrigin:    []string{cfg.CORSOrigin},
		expose:         []string{"Content-Length, Content-Range, X-Cache, X-Edge, Age, ETag, Last-Modified, Accept-Ranges"},
		acceptRanges:   []string{"bytes"},
		noStore:        []string{"no-store"},
		privateNoStore: []string{"private, no-store"},
	}
	for x := range xcacheCount {
		h.xcache[x] = []string{x.String() + " from " + cfg.Name}
	}
	for i := range h.ages {
		h.ages[i] = []string{strconv.Itoa(i)}
	}
	return h
}

// setEdgeHeaders sets Age, X-Cache, X-Edge, Via and CORS on a response.
func (e *Edge) setEdgeHeaders(h http.Header, x xcache, age time.Duration) {
	hv := e.hdrs
	secs := int64(age / time.Second)
	if secs < 0 {
		secs = 0
	}
	if secs < precomputedAges {
		h["Age"] = hv.ages[secs]
	} else {
		h["Age"] = []string{strconv.FormatInt(secs, 10)}
	}
	h["X-Cache"] = hv.xcache[x]
	h["X-Edge"] = hv.xedge
	if v, ok := h["Via"]; ok && len(v) > 0 {
		// An upstream (shield) already added itself: append, as RFC 9110 §7.6.3 asks.
		h["Via"] = []string{v[len(v)-1] + hv.viaSuffix}
	} else {
		h["Via"] = hv.via
	}
	h["Access-Control-Allow-Origin"] = hv.allowOrigin
	h["Access-Control-Expose-Headers"] = hv.expose
}
