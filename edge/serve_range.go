package edge

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/streamfront/streamfront/internal/httpcond"
	"github.com/streamfront/streamfront/internal/httprange"
)

// writeObject answers GET or HEAD from an entry and a body source:
// conditional requests (304), If-Range, a single Range (206), an
// unsatisfiable Range (416) and HEAD.
//
// Multi-range policy: ranges are coalesced; if one range remains it is a
// 206, otherwise the whole representation is sent as a 200, which RFC 9110
// §14.2 allows ("a server MAY ignore the Range header"). Players only ever
// send single ranges, and this avoids multipart/byteranges bodies.
//
// A Range on a body of still unknown length (a fill whose origin sent no
// Content-Length) is ignored the same way.
func (e *Edge) writeObject(w http.ResponseWriter, r *http.Request, m *entry, src bodySource, x xcache) error {
	h := w.Header()
	for k, v := range m.header {
		h[k] = v
	}
	size := m.size
	off, n := int64(0), size
	status := m.status
	if status == http.StatusOK {
		if size >= 0 {
			h["Accept-Ranges"] = e.hdrs.acceptRanges
		}
		if notModified(r, m) {
			e.setEdgeHeaders(h, x, m.age(e.cfg.Now()))
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		if rh := r.Header.Get("Range"); rh != "" && size >= 0 && r.Method == http.MethodGet && ifRangeAllows(r, m) {
			ranges, err := httprange.Parse(rh, size)
			switch {
			case errors.Is(err, httprange.ErrUnsatisfiable):
				e.setEdgeHeaders(h, x, m.age(e.cfg.Now()))
				h.Set("Content-Range", httprange.Unsatisfied(size))
				h["Content-Length"] = []string{"0"}
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return nil
			case err == nil:
				if ranges = httprange.Coalesce(ranges); len(ranges) == 1 {
					off, n = ranges[0].Start, ranges[0].Length()
					status = http.StatusPartialContent
					h["Content-Range"] = []string{ranges[0].ContentRange(size)}
				}
			}
		}
	}
	if x == xcacheHit {
		if cr, ok := src.(interface{ cachedRange(off, n int64) bool }); ok && !cr.cachedRange(off, n) {
			x = xcacheMiss
		}
	}
	if ss, ok := src.(*slicedSource); ok && r.Method == http.MethodGet && n != 0 && status != http.StatusNotModified {
		if err := ss.prepare(r.Context(), off); err != nil {
			return err
		}
	}
	e.setEdgeHeaders(h, x, m.age(e.cfg.Now()))
	switch {
	case n < 0:
	case status == http.StatusPartialContent || r.Method == http.MethodHead && n != size:
		h["Content-Length"] = []string{strconv.FormatInt(n, 10)}
	default:
		h["Content-Length"] = m.contentLength
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead || n == 0 {
		return nil
	}
	if b, ok := src.(bytesSource); ok && n <= bodyWriteChunk {
		// The hit path for playlists and small segments: one write, within
		// the deadline the server set for this request.
		_, err := w.Write(b[off : off+n])
		return err
	}
	// Fills and files may stall or be large: push the deadline per write.
	return src.copyTo(r.Context(), e.newBodyWriter(w, true), off, n)
}

// notModified evaluates If-None-Match, or failing that If-Modified-Since
// (RFC 9110 §13.2.2), for GET and HEAD.
func notModified(r *http.Request, m *entry) bool {
	return notModifiedBy(r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"), m)
}

// notModifiedBy is notModified on the two header values (empty when
// missing); the fast path calls it directly.
func notModifiedBy(inm, ims string, m *entry) bool {
	return httpcond.NotModified(inm, ims, m.etag, m.lastModTime)
}

// ifRangeAllows evaluates If-Range (RFC 9110 §13.1.5): the Range applies
// only if the validator matches strongly (a tag, or a date that is exactly
// a strong Last-Modified); otherwise the whole representation is sent.
func ifRangeAllows(r *http.Request, m *entry) bool {
	return ifRangeAllowsValue(r.Header.Get("If-Range"), m)
}

// ifRangeAllowsValue is ifRangeAllows on the header value (empty when
// missing). m.date, when the origin's answer came, is the moment that
// decides whether Last-Modified was a strong validator.
func ifRangeAllowsValue(v string, m *entry) bool {
	return httpcond.RangeApplies(v, m.etag, m.lastModTime, m.date)
}
