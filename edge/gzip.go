package edge

import (
	"bytes"
	"compress/gzip"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Gzip for playlists and other text: the compressed variant of a memory
// hit is made once per cached item and kept beside it, so a hot playlist
// costs one compression, not one per request. Answers still arriving from
// the origin (misses) and ranged requests are sent as they are.
const (
	gzipMinBody = 256     // below this gzip saves nothing
	gzipMaxBody = 4 << 20 // above this it is not text worth holding twice
)

// gzipVariant is the gzip-encoded representation of a memory item.
type gzipVariant struct {
	meta *entry
	body []byte
	fast fastSlot // header lines for the fast path (fastpath_answer.go)
}

// gzipSlot holds an item's gzip variant once made.
type gzipSlot struct{ p atomic.Pointer[gzipVariant] }

// compressibleType reports whether a Content-Type is text that compresses.
func compressibleType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/vnd.apple.mpegurl", mt == "application/x-mpegurl", mt == "audio/mpegurl",
		mt == "application/json", mt == "application/javascript", mt == "application/xml",
		mt == "application/dash+xml", mt == "image/svg+xml":
		return true
	}
	return false
}

// gzipEligible reports whether an entry may be sent gzip-encoded. It is
// evaluated once per entry (entry.gzipOK), not per request.
func gzipEligible(m *entry) bool {
	return m.kind == kindWhole && m.status == http.StatusOK && m.size >= gzipMinBody && m.size <= gzipMaxBody &&
		m.header.Get("Content-Encoding") == "" && compressibleType(m.header.Get("Content-Type"))
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (a q=0 refuses it). It does not allocate.
func acceptsGzip(r *http.Request) bool {
	for _, line := range r.Header["Accept-Encoding"] {
		if accept, named := gzipInAcceptEncoding(line); named {
			return accept
		}
	}
	return false
}

// gzipInAcceptEncoding reads one Accept-Encoding line: named says whether
// it names gzip, accept whether with a q other than 0. The first line that
// names gzip decides.
func gzipInAcceptEncoding(line string) (accept, named bool) {
	for len(line) > 0 {
		var part string
		part, line, _ = strings.Cut(line, ",")
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false, true
			}
		}
		return true, true
	}
	return false, false
}

// gzipped returns it's gzip variant, making it on first use. Two racing
// first uses both compress; one result wins, which is harmless.
func (it *memItem) gzipped() *gzipVariant {
	if v := it.gz.p.Load(); v != nil {
		return v
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(it.body)
	zw.Close()
	m := *it.meta
	m.header = make(http.Header, len(it.meta.header)+1)
	for k, v := range it.meta.header {
		m.header[k] = v
	}
	m.header["Content-Encoding"] = []string{"gzip"}
	if m.etag != "" && !strings.HasPrefix(m.etag, "W/") {
		// Another representation needs another strong validator; a weak
		// one still answers If-None-Match (weak comparison).
		m.etag = "W/" + m.etag
		m.header["Etag"] = []string{m.etag}
	}
	m.setSize(int64(buf.Len()))
	v := &gzipVariant{meta: &m, body: buf.Bytes()}
	it.gz.p.CompareAndSwap(nil, v)
	return it.gz.p.Load()
}

// addVaryAcceptEncoding marks a compressible answer as varying by
// Accept-Encoding, on both its variants, so browser caches keep them
// apart.
func addVaryAcceptEncoding(h http.Header) {
	for _, v := range h.Values("Vary") {
		if strings.Contains(strings.ToLower(v), "accept-encoding") {
			return
		}
	}
	h["Vary"] = slices.Clip(append(slices.Clone(h["Vary"]), "Accept-Encoding"))
}
