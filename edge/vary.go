package edge

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// Vary (RFC 9111 §4.1). The edge keeps one variant per cache key: the
// stored entry remembers the names its Vary lists and the values the
// request it answered had for them (entry.varyKey), and a later request
// is a hit only when its values are the same. Another variant replaces it
// when filled (§4.1 allows a cache to keep fewer variants). "Vary: *"
// never matches.
//
// Accept-Encoding is left out of the comparison: the edge always fetches
// the identity coding and negotiates compression itself (compress.go), so
// the stored identity answer is right for every Accept-Encoding; this is
// the normalised form of that header in the key. Origin is left out too:
// the edge answers CORS itself (Access-Control-Allow-Origin is its own,
// Config.CORSOrigin), so what an origin's "Vary: Origin" guards is not in
// the stored answer; keying on it would split every video between
// players that send Origin and those that do not.

// varyNames reads the field names of the Vary lines of h, canonical and
// sorted, without Accept-Encoding and Origin; star reports "*".
func varyNames(h http.Header) (names []string, star bool) {
	for _, line := range h["Vary"] {
		for f := range strings.SplitSeq(line, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
			case f == "*":
				star = true
			default:
				f = textproto.CanonicalMIMEHeaderKey(f)
				if f != "Accept-Encoding" && f != "Origin" && !slices.Contains(names, f) {
					names = append(names, f)
				}
			}
		}
	}
	slices.Sort(names)
	return names, star
}

// varyKeyOf is the part of the cache key that names select from a
// request's header: each name's values, combined as RFC 9111 §4.1 says
// (lines joined by commas, whitespace around them trimmed), with a
// separator no field value contains. A missing field and an empty one
// differ.
func varyKeyOf(names []string, h http.Header) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	for _, name := range names {
		vals, ok := h[name]
		if !ok {
			b.WriteString("\x01")
			continue
		}
		b.WriteString("\x02")
		for i, v := range vals {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(strings.TrimSpace(v))
		}
		b.WriteString("\x00")
	}
	return b.String()
}

// setVary records m's Vary names and the values of req (the request
// header the answer was fetched with) for them.
func (m *entry) setVary(req http.Header) {
	m.vary, m.varyStar = varyNames(m.header)
	m.varyKey = varyKeyOf(m.vary, req)
}

// varyMatches reports whether m may answer a request with header h.
func (m *entry) varyMatches(h http.Header) bool {
	if m.varyStar {
		return false
	}
	return len(m.vary) == 0 || varyKeyOf(m.vary, h) == m.varyKey
}
