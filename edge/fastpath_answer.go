package edge

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/streamfront/streamfront/internal/httprange"
	"github.com/streamfront/streamfront/internal/urlsign"
)

// What the fast path answers, and how its answers stay the same as the
// net/http path's.
//
// An answer is a fresh, public, whole memory-tier entry with status 200
// (or its gzip variant), to a request for a path under /videos/ without
// a token parameter and without this edge in Via: exactly the requests
// for which route → serveCacheable → serveKey → serveEntry would call
// writeObject with a bytesSource and X-Cache: Hit. fastAnswerFor makes
// the same decisions as writeObject (304, If-Range, one Range → 206, 416,
// HEAD), through the same helpers (notModifiedBy, ifRangeAllowsValue,
// httprange), and the header lines come from the same header map
// writeObject would fill (setEdgeHeaders on the stored headers), written
// by http.Header.Write as net/http writes it, once per cached
// representation (fastBlocks). What net/http adds on its own is added
// here in the same cases: Date always, Connection: close when the
// connection closes after the answer, Content-Type and Content-Length
// removed from a 304. net/http would also sniff a Content-Type for a body
// without one: such entries are left to it (fastBlocks.servable).

// fastBlocks are the pre-serialised header lines of one cached
// representation, made on its first fast-path hit and kept beside it.
type fastBlocks struct {
	// servable: net/http would not add a sniffed Content-Type (the entry
	// has a Content-Type or a Content-Encoding).
	servable bool
	// common: every header line writeObject sets for a hit, except
	// Content-Type, Content-Length, Content-Range, Age, X-Cache and Date.
	common []byte
	// contentType: the Content-Type line(s); absent from a 304.
	contentType []byte
	// contentLength: the Content-Length line of the whole body.
	contentLength []byte
	// unsatisfied: Content-Range and Content-Length lines of a 416.
	unsatisfied []byte

	// For the access log: the values the net/http path's header map holds.
	contentTypeValue, contentLengthValue, unsatisfiedRange string
}

// fastSlot holds the fastBlocks of a memory item or gzip variant.
type fastSlot struct{ p atomic.Pointer[fastBlocks] }

// fastBlocksFor returns the blocks of m kept in slot, making them on first
// use. Two racing first uses both make them; one result wins.
func (e *Edge) fastBlocksFor(slot *fastSlot, m *entry) *fastBlocks {
	if fb := slot.p.Load(); fb != nil {
		return fb
	}
	slot.p.CompareAndSwap(nil, e.newFastBlocks(m))
	return slot.p.Load()
}

func (e *Edge) newFastBlocks(m *entry) *fastBlocks {
	_, haveType := m.header["Content-Type"]
	fb := &fastBlocks{servable: haveType || m.header.Get("Content-Encoding") != ""}

	// The header map writeObject fills for a 200 hit.
	h := make(http.Header, len(m.header)+8)
	for k, v := range m.header {
		h[k] = v
	}
	h["Accept-Ranges"] = e.hdrs.acceptRanges
	e.setEdgeHeaders(h, xcacheHit, 0)
	delete(h, "Age")     // per request
	delete(h, "X-Cache") // per request (always Hit here, but kept beside Age)
	ct, hasCT := h["Content-Type"]
	delete(h, "Content-Type")

	var b bytes.Buffer
	h.Write(&b)
	fb.common = bytes.Clone(b.Bytes())
	if hasCT {
		b.Reset()
		http.Header{"Content-Type": ct}.Write(&b)
		fb.contentType = bytes.Clone(b.Bytes())
	}
	fb.contentTypeValue = m.header.Get("Content-Type")
	fb.contentLengthValue = strconv.FormatInt(m.size, 10)
	fb.contentLength = []byte("Content-Length: " + fb.contentLengthValue + "\r\n")
	fb.unsatisfiedRange = httprange.Unsatisfied(m.size)
	fb.unsatisfied = []byte("Content-Range: " + fb.unsatisfiedRange + "\r\nContent-Length: 0\r\n")
	return fb
}

// handoverReason says why a connection went to net/http.
type handoverReason uint8

const (
	// handoverTLS: a TLS connection (net/http does the handshake and h2).
	handoverTLS handoverReason = iota
	// handoverRequest: the request is outside the strict subset.
	handoverRequest
	// handoverRoute: not a cacheable GET/HEAD the fast path takes (another
	// path, a token in the query, this edge in Via).
	handoverRoute
	// handoverNotHit: not a fresh public memory hit it can answer (miss,
	// stale, disk, sliced, signed, pass, no Content-Type).
	handoverNotHit
	handoverReasons
)

var handoverLabels = [handoverReasons]string{"tls", "request", "route", "not_hit"}

// fastAnswer is one answer, decided but not yet written.
type fastAnswer struct {
	m      *entry
	fb     *fastBlocks
	status int
	body   []byte // the bytes to send; nil for none
	// disk is the disk tier's copy of the same version, when body is
	// large enough to be sent from it with sendfile; offset is where body
	// starts in the object.
	disk   *diskItem
	offset int64
	// contentRange and length are the Content-Range and Content-Length
	// values of a 206.
	contentRange string
	length       int64
}

// fastAnswerFor decides whether the fast path can answer req at now and
// how, or why not.
func (e *Edge) fastAnswerFor(req *fastRequest, key func() string, now time.Time) (fastAnswer, handoverReason, bool) {
	if !bytes.HasPrefix(req.path, []byte("/videos/")) ||
		bytes.Contains(req.query, []byte(urlsign.QueryParam)) || e.viaHasThisEdge(req) {
		return fastAnswer{}, handoverRoute, false
	}
	k := key()
	it, ok := e.mem.get(k)
	if !ok {
		return fastAnswer{}, handoverNotHit, false
	}
	m, body, slot := it.meta, it.body, &it.fast
	if m.kind != kindWhole || m.status != http.StatusOK || m.signed || m.size != int64(len(body)) || !m.fresh(now) {
		return fastAnswer{}, handoverNotHit, false
	}
	// As serveEntry: the brotli or gzip variant for a request without
	// Range that accepts one.
	if m.compressible && len(req.rangeSpec) == 0 {
		if cd := req.preferredCoding(); cd != codingIdentity {
			v := it.encoded(cd)
			m, body, slot = v.meta, v.body, &v.fast
		}
	}
	fb := e.fastBlocksFor(slot, m)
	if !fb.servable {
		return fastAnswer{}, handoverNotHit, false
	}

	// As writeObject for a status 200 entry of known size.
	a := fastAnswer{m: m, fb: fb, status: http.StatusOK, body: body}
	if notModifiedBy(string(req.ifNoneMatch), string(req.ifModifiedSince), m) {
		a.status, a.body = http.StatusNotModified, nil
		return a, 0, true
	}
	if len(req.rangeSpec) > 0 && !req.isHead && ifRangeAllowsValue(string(req.ifRange), m) {
		ranges, err := httprange.Parse(string(req.rangeSpec), m.size)
		switch {
		case errors.Is(err, httprange.ErrUnsatisfiable):
			a.status, a.body = http.StatusRequestedRangeNotSatisfiable, nil
			return a, 0, true
		case err == nil:
			if ranges = httprange.Coalesce(ranges); len(ranges) == 1 {
				off, n := ranges[0].Start, ranges[0].Length()
				a.status, a.body, a.offset = http.StatusPartialContent, body[off:off+n], off
				a.contentRange, a.length = ranges[0].ContentRange(m.size), n
			}
		}
	}
	if req.isHead {
		a.body = nil
	}
	if m == it.meta { // not a compressed variant, which only memory holds
		a.disk = e.diskCopyFor(k, m, len(a.body))
	}
	return a, 0, true
}

// viaHasThisEdge is isLoop for a fast request.
func (e *Edge) viaHasThisEdge(req *fastRequest) bool {
	for _, v := range req.via[:req.nVia] {
		if viaLineHas(string(v), e.hdrs.via[0]) {
			return true
		}
	}
	return false
}

// preferredCoding is preferredCoding for a fast request.
func (req *fastRequest) preferredCoding() coding {
	var a acceptedCodings
	for _, line := range req.acceptEncoding[:req.nAcceptEnc] {
		a.add(string(line))
	}
	return a.choose()
}

// statusLine is the status line of code, as net/http writes it.
func statusLine(code int) []byte {
	return []byte("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
}

// appendHead appends the status line and header of a to dst. The lines
// that change per request follow the precomputed ones: Age at now on the
// cache's clock, Date at date on the real one (as net/http writes it).
func (fs *fastServer) appendHead(dst []byte, a *fastAnswer, now, date time.Time, closing bool) []byte {
	fb := a.fb
	switch a.status {
	case http.StatusOK:
		dst = append(dst, fs.status200...)
		dst = append(dst, fb.common...)
		dst = append(dst, fb.contentType...)
		dst = append(dst, fb.contentLength...)
	case http.StatusPartialContent:
		dst = append(dst, fs.status206...)
		dst = append(dst, fb.common...)
		dst = append(dst, fb.contentType...)
		dst = append(dst, "Content-Range: "...)
		dst = append(dst, a.contentRange...)
		dst = append(dst, "\r\nContent-Length: "...)
		dst = strconv.AppendInt(dst, a.length, 10)
		dst = append(dst, "\r\n"...)
	case http.StatusNotModified:
		dst = append(dst, fs.status304...)
		dst = append(dst, fb.common...)
	case http.StatusRequestedRangeNotSatisfiable:
		dst = append(dst, fs.status416...)
		dst = append(dst, fb.common...)
		dst = append(dst, fb.contentType...)
		dst = append(dst, fb.unsatisfied...)
	}
	dst = append(dst, "Age: "...)
	if secs := int64(a.m.age(now) / time.Second); secs < precomputedAges {
		dst = append(dst, fs.e.hdrs.ages[max(secs, 0)][0]...)
	} else {
		dst = strconv.AppendInt(dst, secs, 10)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, fs.xcacheHit...)
	dst = append(dst, fs.date.line(date)...)
	if closing {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// accessValues are the header values the net/http path's access log
// reads from its header map (Content-Length, Content-Range), for a.
func (a *fastAnswer) accessValues() (contentLength, contentRange string) {
	switch a.status {
	case http.StatusOK:
		return a.fb.contentLengthValue, ""
	case http.StatusPartialContent:
		return strconv.FormatInt(a.length, 10), a.contentRange
	case http.StatusRequestedRangeNotSatisfiable:
		return "0", a.fb.unsatisfiedRange
	}
	return "", ""
}

// dateCache holds the Date line of the current second.
type dateCache struct{ p atomic.Pointer[dateLine] }

type dateLine struct {
	sec  int64
	line []byte
}

func (d *dateCache) line(now time.Time) []byte {
	sec := now.Unix()
	if l := d.p.Load(); l != nil && l.sec == sec {
		return l.line
	}
	b := make([]byte, 0, len("Date: \r\n")+len(http.TimeFormat))
	b = append(b, "Date: "...)
	b = now.UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	d.p.Store(&dateLine{sec: sec, line: b})
	return b
}

// viaLineHas reports whether one Via line lists hop ("1.1 <name>").
func viaLineHas(line, hop string) bool {
	for h := range strings.SplitSeq(line, ",") {
		if strings.TrimSpace(h) == hop {
			return true
		}
	}
	return false
}
