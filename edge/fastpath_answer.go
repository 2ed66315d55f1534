package edge

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/streamfront/streamfront/edge/fastpath"
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
// writeObject with a bytesSource and X-Cache: Hit. answerFor makes
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
	// has a Content-Type or a Content-Encoding), and no stored field is
	// one the fast path writes per request (Content-Range, which an
	// answer stored under PolicyRFC9111 may keep).
	servable bool
	// hasDate: common holds the stored Date (PolicyRFC9111 keeps the
	// origin's), which net/http sends instead of its own.
	hasDate bool
	// common: every header line writeObject sets for a hit, except
	// Content-Type, Content-Length, Content-Range, Age, X-Cache and Date.
	common []byte
	// contentType: the Content-Type line(s); absent from a 304.
	contentType []byte
	// contentLength: the Content-Length line of the whole body.
	contentLength []byte
	// unsatisfied: Content-Range and Content-Length lines of a 416.
	unsatisfied []byte

	// mediaDuration is the object's media duration, for usage metering
	// (meter.go); zero when the origin sent none.
	mediaDuration time.Duration

	// For the access log: the values the net/http path's header map holds.
	contentTypeValue, contentLengthValue, unsatisfiedRange string
}

// fastSlot holds the fastBlocks of a memory item or gzip variant.
type fastSlot struct{ p atomic.Pointer[fastBlocks] }

// fastBlocksFor returns the blocks of m kept in slot, making them on first
// use. Two racing first uses both make them; one result wins.
func (h *fastHandler) fastBlocksFor(slot *fastSlot, m *entry) *fastBlocks {
	if fb := slot.p.Load(); fb != nil {
		return fb
	}
	slot.p.CompareAndSwap(nil, h.newFastBlocks(m))
	return slot.p.Load()
}

func (fh *fastHandler) newFastBlocks(m *entry) *fastBlocks {
	e := fh.e
	_, haveType := m.header["Content-Type"]
	_, haveRange := m.header["Content-Range"]
	_, haveDate := m.header["Date"]
	fb := &fastBlocks{servable: (haveType || m.header.Get("Content-Encoding") != "") && !haveRange,
		hasDate: haveDate, mediaDuration: mediaDurationOf(m.header)}

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
	_ = h.Write(&b) // into a bytes.Buffer: cannot fail
	fb.common = bytes.Clone(b.Bytes())
	if hasCT {
		b.Reset()
		_ = http.Header{"Content-Type": ct}.Write(&b)
		fb.contentType = bytes.Clone(b.Bytes())
	}
	fb.contentTypeValue = m.header.Get("Content-Type")
	fb.contentLengthValue = strconv.FormatInt(m.size, 10)
	fb.contentLength = []byte("Content-Length: " + fb.contentLengthValue + "\r\n")
	fb.unsatisfiedRange = httprange.Unsatisfied(m.size)
	fb.unsatisfied = []byte("Content-Range: " + fb.unsatisfiedRange + "\r\nContent-Length: 0\r\n")
	return fb
}

// fastHandler is the edge's side of the fast path (package fastpath):
// it answers fresh public memory hits and counts hand-overs.
type fastHandler struct {
	e *Edge
	// Precomputed lines.
	status200, status206, status304, status416 []byte
	xcacheHit                                  []byte
}

var _ fastpath.Handler = (*fastHandler)(nil)

func newFastHandler(e *Edge) *fastHandler {
	return &fastHandler{
		e:         e,
		status200: statusLine(http.StatusOK), status206: statusLine(http.StatusPartialContent),
		status304: statusLine(http.StatusNotModified), status416: statusLine(http.StatusRequestedRangeNotSatisfiable),
		xcacheHit: []byte("X-Cache: " + e.hdrs.xcache[xcacheHit][0] + "\r\n"),
	}
}

// newFastServer is the fast path of one Serve call, handing what it does
// not answer to handoff.
func (e *Edge) newFastServer(handoff *fastpath.HandoffListener) *fastpath.Server {
	return fastpath.New(fastpath.Config{
		Handler: newFastHandler(e), Handoff: handoff, Logger: e.log,
		ReadHeaderTimeout: e.cfg.ReadHeaderTimeout, WriteTimeout: e.cfg.WriteTimeout, IdleTimeout: e.cfg.IdleTimeout,
	})
}

func (h *fastHandler) NewAnswerer() fastpath.Answerer { return &fastAnswerer{h: h} }

func (h *fastHandler) HandedOver(reason fastpath.HandoverReason) {
	h.e.metrics.handovers[reason].Inc()
}

// fastAnswerer answers the requests of one fast-path connection.
type fastAnswerer struct {
	h   *fastHandler
	cur fastAnswer // the answer being written
	// The previous request's distribution and path, and its cache key,
	// reused when they repeat.
	lastDist          *distribution
	lastPath, lastKey string
}

// Answer answers req when it is a fresh public memory hit (see the top
// of this file).
func (fa *fastAnswerer) Answer(req *fastpath.Request, start time.Time, out *fastpath.Answer) (fastpath.HandoverReason, bool) {
	e := fa.h.e
	now := start // the cache's clock; by default the real one, read once
	if e.ownClock {
		now = e.cfg.Now()
	}
	a, reason, ok := fa.h.answerFor(req, func(d *distribution) string { return fa.cacheKey(d, req) }, now)
	if !ok {
		return reason, false
	}
	fa.cur = a
	out.Head = fa.h.appendHead(out.Head, &fa.cur, now)
	out.Body = a.body
	out.HasDate = a.fb.hasDate
	if a.disk != nil {
		out.File = fastpath.File{Path: a.disk.File.Path, Size: a.disk.File.Size, Offset: a.disk.BodyOffset + a.offset, Open: a.file}
	}
	return 0, true
}

// cacheKey is the cache key of a fast request in distribution d (which
// has no token parameter; see distribution.keyOf). The previous request's
// key string is reused for a query-less path of the same distribution
// that repeats, which spares an allocation per request for a client that
// polls one playlist.
func (fa *fastAnswerer) cacheKey(d *distribution, req *fastpath.Request) string {
	if len(req.Query) > 0 {
		return d.keyOf(string(req.Path), string(req.Query))
	}
	if fa.lastDist != d || fa.lastPath != string(req.Path) {
		fa.lastDist, fa.lastPath = d, string(req.Path)
		fa.lastKey = d.keyPrefix + fa.lastPath
	}
	return fa.lastKey
}

// isRouteOfItsOwn reports whether route answers path itself before the
// cache (health, metrics, the invalidation API): never a cache hit.
func isRouteOfItsOwn(path []byte) bool {
	return string(path) == "/healthz" || string(path) == "/metrics" || string(path) == "/api/v1/invalidations"
}

// Answered counts an answer in the metrics and the access log as the
// accessLog middleware does, and drops a disk copy found corrupt.
func (fa *fastAnswerer) Answered(req *fastpath.Request, out *fastpath.Answer, remote net.Addr, start, end time.Time, sent int64, err error) {
	e, a := fa.h.e, &fa.cur
	if out.FileErr != nil {
		e.disk.Drop(a.disk, fmt.Errorf("%w: %w", errCorrupt, out.FileErr))
	}
	if out.FromFile {
		e.fastSendfiles.Add(1)
	}
	elapsed := end.Sub(start)
	m := e.metrics
	// Bytes first: whoever sees the answer counted sees its bytes too
	// (TestFastPath_StalledReaderIsCut read them in between once, under
	// -race).
	m.bytesServed.Add(float64(sent))
	m.requests[xcacheHit].Inc()
	m.duration[xcacheHit].Observe(elapsed.Seconds())
	m.fastAnswered.Inc()
	if e.meter != nil && (bytes.HasPrefix(req.Path, []byte("/videos/")) || bytes.HasPrefix(req.Path, []byte("/live/"))) {
		e.meterFast(req, a, sent, end)
	}
	e.live.observeFast(req.Path, a.m.header, remote, req.UserAgent)
	if e.cfg.AccessLog != nil {
		method := "GET"
		if req.IsHead {
			method = "HEAD"
		}
		contentLength, contentRange := a.accessValues()
		e.writeAccessLog(&accessRecord{
			start: start, elapsed: elapsed, result: resultLabels[xcacheHit],
			remoteAddr: remote.String(),
			method:     method, host: string(req.Host), path: string(req.Path), rawQuery: string(req.Query),
			referer: string(req.Referer), userAgent: string(req.UserAgent), forwardedFor: string(req.ForwardedFor),
			proto:  "HTTP/1.1",
			status: a.status, bytes: sent,
			contentType: a.fb.contentTypeValue, contentLength: contentLength, contentRange: contentRange,
		})
	}
	fa.cur = fastAnswer{} // let the entry go
}

// fastAnswer is one answer, decided but not yet written.
type fastAnswer struct {
	m      *entry
	fb     *fastBlocks
	status int
	body   []byte // the bytes to send; nil for none
	// disk is the disk tier's copy of the same version, when body is
	// large enough to be sent from it with sendfile, and file that copy
	// kept open (fastpath_files.go); offset is where body starts in the
	// object.
	disk   *diskItem
	file   *os.File
	offset int64
	// contentRange and length are the Content-Range and Content-Length
	// values of a 206.
	contentRange string
	length       int64
}

// answerFor decides whether the fast path can answer req at now and
// how, or why not.
func (h *fastHandler) answerFor(req *fastpath.Request, key func(*distribution) string, now time.Time) (fastAnswer, fastpath.HandoverReason, bool) {
	e := h.e
	if bytes.Contains(req.Query, []byte(urlsign.QueryParam)) || h.viaHasThisEdge(req) || isRouteOfItsOwn(req.Path) {
		return fastAnswer{}, fastpath.HandoverRoute, false
	}
	d, ok := e.dists.forFastHost(req.Host)
	if !ok {
		return fastAnswer{}, fastpath.HandoverRoute, false
	}
	// A memory entry exists only for a key that route cached, so only for
	// a path whose behaviour has a caching policy: the hit itself says the
	// behaviour allows it, without matching patterns per request.
	k := key(d)
	it, ok := e.mem.get(k)
	if !ok {
		return fastAnswer{}, fastpath.HandoverNotHit, false
	}
	m, body, slot := it.meta, it.body, &it.fast
	if m.kind != kindWhole || m.status != http.StatusOK || m.signed || m.size != int64(len(body)) || !m.fresh(now) ||
		len(m.vary) > 0 || m.varyStar {
		// (Entries that vary need the whole request to judge: net/http's
		// path serves them.)
		return fastAnswer{}, fastpath.HandoverNotHit, false
	}
	// As serveEntry: the brotli or gzip variant for a request without
	// Range that accepts one.
	if m.compressible && len(req.Range) == 0 {
		if cd := fastPreferredCoding(req); cd != codingIdentity {
			v := it.encoded(cd)
			m, body, slot = v.meta, v.body, &v.fast
		}
	}
	fb := h.fastBlocksFor(slot, m)
	if !fb.servable {
		return fastAnswer{}, fastpath.HandoverNotHit, false
	}

	// As writeObject for a status 200 entry of known size.
	a := fastAnswer{m: m, fb: fb, status: http.StatusOK, body: body}
	if notModifiedBy(string(req.IfNoneMatch), string(req.IfModifiedSince), m) {
		a.status, a.body = http.StatusNotModified, nil
		return a, 0, true
	}
	if len(req.Range) > 0 && !req.IsHead && ifRangeAllowsValue(string(req.IfRange), m) {
		ranges, err := httprange.Parse(string(req.Range), m.size)
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
	if req.IsHead {
		a.body = nil
	}
	if m == it.meta { // not a compressed variant, which only memory holds
		if a.disk = h.diskCopyFor(k, m, len(a.body)); a.disk != nil {
			if a.file = it.file.get(e.disk, a.disk); a.file == nil {
				a.disk = nil // gone or damaged, and dropped: from memory
			}
		}
	}
	return a, 0, true
}

// viaHasThisEdge is isLoop for a fast request.
func (h *fastHandler) viaHasThisEdge(req *fastpath.Request) bool {
	for _, v := range req.Via() {
		if viaLineHas(string(v), h.e.hdrs.via[0]) {
			return true
		}
	}
	return false
}

// fastPreferredCoding is preferredCoding for a fast request.
func fastPreferredCoding(req *fastpath.Request) coding {
	var a acceptedCodings
	for _, line := range req.AcceptEncoding() {
		a.add(string(line))
	}
	return a.choose()
}

// statusLine is the status line of code, as net/http writes it.
func statusLine(code int) []byte {
	return []byte("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
}

// appendHead appends the status line and header lines of a to dst,
// without what the fast path adds (Date, Connection, the empty line). The
// lines that change per request follow the precomputed ones.
func (fs *fastHandler) appendHead(dst []byte, a *fastAnswer, now time.Time) []byte {
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
	return append(dst, fs.xcacheHit...)
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

// viaLineHas reports whether one Via line lists hop ("1.1 <name>").
func viaLineHas(line, hop string) bool {
	for h := range strings.SplitSeq(line, ",") {
		if strings.TrimSpace(h) == hop {
			return true
		}
	}
	return false
}

// fastSendfileMin is the smallest body offered to the fast path from the
// disk copy. From there up, a head with MSG_MORE and sendfile from the
// kept-open file (fastpath_files.go) cost less CPU than one writev that
// copies the body into the socket: a 100 KiB hit measured 11-13% more
// requests per CPU-second of the edge (two edges loaded at once on one
// CPU, 64 connections each, 7 runs). Much below it the copy saved is
// small beside the second system call the head then needs.
const fastSendfileMin = 64 << 10

// diskCopyFor returns the disk item that holds the same version as the
// memory item's entry m, when a body of n bytes is worth sending from it.
// The memory item and the disk item share their *entry, which only a
// store of the same answer (or a promotion of the disk copy into memory)
// gives them.
func (h *fastHandler) diskCopyFor(key string, m *entry, n int) *diskItem {
	e := h.e
	if e.disk == nil || n < fastSendfileMin {
		return nil
	}
	if di, ok := e.disk.Get(key); ok && di.Meta == m {
		return di
	}
	return nil
}
