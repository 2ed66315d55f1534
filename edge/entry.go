package edge

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/urlsign"
)

// entryKind tells what a cache entry holds.
type entryKind uint8

const (
	// kindWhole is a complete response: status, headers and body.
	kindWhole entryKind = iota
	// kindSliced is the metadata of a large object whose body lives in
	// separate slice entries (see slice.go). size is the object's length.
	kindSliced
	// kindSlice is one aligned slice of a sliced object: body only.
	kindSlice
	// kindPass marks a key whose answers are not cacheable (no-store,
	// private, too large), so requests skip collapsing and go straight to
	// the origin until it expires: Varnish's "hit-for-pass".
	kindPass
)

// entry is the metadata of one cached item. It is immutable once stored:
// a refresh stores a new entry, so readers never need a lock.
type entry struct {
	key    string
	kind   entryKind
	status int
	// header holds the stored end-to-end origin headers, each value slice
	// clipped so an Add by anyone downstream copies instead of writing
	// into shared memory.
	header http.Header
	// size is the body length (kindWhole, kindSlice) or the object length
	// (kindSliced); -1 while unknown (a streaming fill without
	// Content-Length).
	size int64

	etag         string
	lastModified string
	lastModTime  time.Time

	// date is when the response was received; initialAge is its Age then.
	date       time.Time
	initialAge time.Duration
	// freshFor is the freshness lifetime; swr and sie the stale windows
	// after it (stale-while-revalidate, stale-if-error).
	freshFor time.Duration
	swr, sie time.Duration
	// storable is false for answers that are served but not kept.
	storable bool

	contentLength []string // precomputed Content-Length value
	compressible  bool     // may be sent brotli- or gzip-encoded (compress.go)

	// signed: the origin asked for a viewer token (X-Streamfront-Access:
	// signed); rewrite: how such a body carries a query token to its URIs.
	// Both are derived from the stored headers by setAccess (access.go).
	signed  bool
	rewrite rewriteKind

	// vary: the names of the answer's Vary field (without
	// Accept-Encoding), varyStar for "Vary: *", and varyKey the values the
	// request it answered had for them (vary.go).
	vary     []string
	varyStar bool
	varyKey  string
	// rfc: made under PolicyRFC9111; the stored header then keeps the
	// origin's Date (which the fast path then sends as net/http does).
	rfc bool
	// sharedAuthOK: public, s-maxage or must-revalidate, so an answer to a
	// request with Authorization may be stored (RFC 9111 §3.5).
	sharedAuthOK bool
}

// age is the entry's current age (RFC 9111 §4.2.3, simplified: the edge's
// clock is the only clock).
func (m *entry) age(now time.Time) time.Duration {
	return m.initialAge + now.Sub(m.date)
}

func (m *entry) fresh(now time.Time) bool { return m.age(now) < m.freshFor }

// usableWhileRevalidating reports whether a stale entry may be served while
// a background revalidation runs.
func (m *entry) usableWhileRevalidating(now time.Time) bool {
	return m.age(now) < m.freshFor+m.swr
}

// usableOnError reports whether a stale entry may be served because the
// origin failed.
func (m *entry) usableOnError(now time.Time) bool {
	return m.age(now) < m.freshFor+m.sie
}

// validatorTag names the version of a sliced object; it is part of every
// slice key, so slices of an old version can never mix with a new one.
func (m *entry) validatorTag() string {
	v := m.etag
	if v == "" {
		v = m.lastModified
	}
	return v + "/" + strconv.FormatInt(m.size, 10)
}

// setSize records the body length and the values derived from it.
func (m *entry) setSize(n int64) {
	m.size = n
	if n >= 0 {
		m.contentLength = []string{strconv.FormatInt(n, 10)}
	} else {
		m.contentLength = nil
	}
	m.compressible = compressEligible(m)
}

// droppedHeaders are not kept: hop-by-hop headers and headers the edge
// computes itself. (Set-Cookie is kept for the answer that carries it,
// which is then not stored: see apply.)
var droppedHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Proxy-Connection": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "Content-Range": true, "Accept-Ranges": true,
	"Age":     true,
	"X-Cache": true, "X-Edge": true,
	"Access-Control-Allow-Origin": true, "Access-Control-Expose-Headers": true,
	"Access-Control-Allow-Credentials": true,
}

// storedHeader copies the headers of an origin answer worth keeping:
// not the hop-by-hop ones, nor those its Connection field names.
func storedHeader(src http.Header) http.Header {
	conn := connectionOptions(src)
	dst := make(http.Header, len(src))
	for k, v := range src {
		if droppedHeaders[k] || conn[k] {
			continue
		}
		dst[k] = slices.Clip(slices.Clone(v))
	}
	return dst
}

// keptOn304 are stored fields a 304 does not replace: they describe the
// stored body (its coding, digest and validator) that the 304 selected,
// and a Set-Cookie in a 304 is the requester's alone.
var keptOn304 = map[string]bool{
	"Content-Encoding": true, "Content-Md5": true, "Etag": true, "Set-Cookie": true,
}

// mergeHeader applies the headers of a 304 to a stored entry's headers
// (RFC 9111 §4.3.4) and returns a new map.
func mergeHeader(stored, fresh http.Header) http.Header {
	dst := make(http.Header, len(stored))
	for k, v := range stored {
		dst[k] = v
	}
	conn := connectionOptions(fresh)
	for k, v := range fresh {
		if droppedHeaders[k] || conn[k] || keptOn304[k] {
			continue
		}
		dst[k] = slices.Clip(slices.Clone(v))
	}
	return dst
}

// setAccess derives the access requirement from the stored headers; it
// runs wherever an entry is made (a fill, a 304 refresh, a disk rebuild),
// so the hit path only reads a bool.
func (m *entry) setAccess() {
	m.signed = strings.EqualFold(strings.TrimSpace(m.header.Get(urlsign.AccessHeader)), urlsign.AccessSigned)
	m.rewrite = rewriteNone
	if m.signed && m.kind == kindWhole {
		m.rewrite = rewriteKindOf(m.header.Get("Content-Type"), m.key)
	}
}

// setValidators caches ETag and Last-Modified from the stored headers.
func (m *entry) setValidators() {
	m.etag = m.header.Get("Etag")
	m.lastModified = m.header.Get("Last-Modified")
	if t, err := http.ParseTime(m.lastModified); err == nil {
		m.lastModTime = t
	} else {
		m.lastModTime = time.Time{}
	}
}
