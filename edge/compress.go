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

	"github.com/andybalholm/brotli"
)

// Brotli and gzip for playlists and other text: the compressed variant of
// a memory hit is made once per cached item and coding and kept beside
// it, so a hot playlist costs one compression, not one per request.
// Answers still arriving from the origin (misses) and ranged requests are
// sent as they are.
const (
	compressMinBody = 256     // below this compression saves nothing
	compressMaxBody = 4 << 20 // above this it is not text worth holding twice
	// brotliLevel trades size for the one-off cost. Measured on a 100 KiB
	// VOD playlist: level 6 takes about 3.5 ms and gives 4.8 KB (gzip's
	// default: 2 ms, 11.9 KB); 9 gives 4.1 KB in 10-19 ms; 11 takes 150 ms.
	brotliLevel = 6
)

// coding is a content coding the edge can send.
type coding uint8

const (
	codingIdentity coding = iota
	codingGzip
	codingBrotli
	nCodings
)

func (c coding) String() string {
	switch c {
	case codingGzip:
		return "gzip"
	case codingBrotli:
		return "br"
	}
	return "identity"
}

// encodedVariant is a compressed representation of a memory item.
type encodedVariant struct {
	meta *entry
	body []byte
	fast fastSlot // header lines for the fast path (fastpath_answer.go)
}

// encodedSlots holds an item's compressed variants once made, by coding.
type encodedSlots [nCodings]atomic.Pointer[encodedVariant]

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

// compressEligible reports whether an entry may be sent compressed. It is
// evaluated once per entry (entry.compressible), not per request.
func compressEligible(m *entry) bool {
	return m.kind == kindWhole && m.status == http.StatusOK && m.size >= compressMinBody && m.size <= compressMaxBody &&
		m.header.Get("Content-Encoding") == "" && compressibleType(m.header.Get("Content-Type"))
}

// acceptedCodings reads Accept-Encoding lines (RFC 9110 §12.5.3). For each
// coding the first line naming it decides; "*" stands for codings not
// named; q=0 refuses. It does not allocate.
type acceptedCodings struct {
	q     [nCodings]float64
	named [nCodings]bool
	star  float64
	hasSt bool
}

func (a *acceptedCodings) add(line string) {
	for len(line) > 0 {
		var part string
		part, line, _ = strings.Cut(line, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		var c coding
		switch {
		case strings.EqualFold(name, "gzip"):
			c = codingGzip
		case strings.EqualFold(name, "br"):
			c = codingBrotli
		case name == "*":
			if !a.hasSt {
				a.star, a.hasSt = q, true
			}
			continue
		default:
			continue
		}
		if !a.named[c] {
			a.q[c], a.named[c] = q, true
		}
	}
}

// choose picks brotli when it is accepted at least as much as gzip, then
// gzip, else identity.
func (a *acceptedCodings) choose() coding {
	q := func(c coding) float64 {
		switch {
		case a.named[c]:
			return a.q[c]
		case a.hasSt:
			return a.star
		}
		return 0
	}
	br, gz := q(codingBrotli), q(codingGzip)
	switch {
	case br > 0 && br >= gz:
		return codingBrotli
	case gz > 0:
		return codingGzip
	}
	return codingIdentity
}

// preferredCoding is the coding to send a compressible answer to r in.
func preferredCoding(r *http.Request) coding {
	var a acceptedCodings
	for _, line := range r.Header["Accept-Encoding"] {
		a.add(line)
	}
	return a.choose()
}

// encoded returns it's variant in coding c (gzip or brotli), making it on
// first use. Two racing first uses both compress; one result wins, which
// is harmless.
func (it *memItem) encoded(c coding) *encodedVariant {
	slot := &it.enc[c]
	if v := slot.Load(); v != nil {
		return v
	}
	var buf bytes.Buffer
	buf.Grow(len(it.body) / 4)
	switch c {
	case codingBrotli:
		zw := brotli.NewWriterLevel(&buf, brotliLevel)
		_, _ = zw.Write(it.body) // into memory: cannot fail
		_ = zw.Close()
	default:
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		_, _ = zw.Write(it.body) // into memory: cannot fail
		_ = zw.Close()
	}
	m := *it.meta
	m.header = make(http.Header, len(it.meta.header)+1)
	for k, v := range it.meta.header {
		m.header[k] = v
	}
	m.header["Content-Encoding"] = []string{c.String()}
	if m.etag != "" && !strings.HasPrefix(m.etag, "W/") {
		// Another representation needs another strong validator; a weak
		// one still answers If-None-Match (weak comparison).
		m.etag = "W/" + m.etag
		m.header["Etag"] = []string{m.etag}
	}
	m.setSize(int64(buf.Len()))
	v := &encodedVariant{meta: &m, body: buf.Bytes()}
	slot.CompareAndSwap(nil, v)
	return slot.Load()
}

// addVaryAcceptEncoding marks a compressible answer as varying by
// Accept-Encoding, on every variant, so browser caches keep them apart.
func addVaryAcceptEncoding(h http.Header) {
	for _, v := range h.Values("Vary") {
		if strings.Contains(strings.ToLower(v), "accept-encoding") {
			return
		}
	}
	h["Vary"] = slices.Clip(append(slices.Clone(h["Vary"]), "Accept-Encoding"))
}
