package edge

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// hopByHop are the hop-by-hop fields (RFC 9110 §7.6.1): they describe one
// connection, so a proxy neither forwards nor stores them.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// fillOwnRequestFields are request fields a fill sets itself instead of
// taking them from the viewer: the conditionals and Range it derives from
// the stored copy and slice plan (a viewer's If-None-Match must not turn
// the fill of an empty cache into a 304 with nothing to store), the
// coding it always fetches (identity: compression is the edge's job),
// the loop marker and the upstream signature.
var fillOwnRequestFields = map[string]bool{
	"If-None-Match": true, "If-Modified-Since": true, "If-Match": true,
	"If-Unmodified-Since": true, "If-Range": true, "Range": true,
	"Accept-Encoding": true, "Via": true, "Host": true, "Content-Length": true,
}

// connectionOptions are the field names a message's Connection header
// lists (RFC 9110 §7.6.1): they are hop-by-hop for this message too.
func connectionOptions(h http.Header) map[string]bool {
	lines := h["Connection"]
	if len(lines) == 0 {
		return nil
	}
	named := make(map[string]bool)
	for _, line := range lines {
		for opt := range strings.SplitSeq(line, ",") {
			if opt = strings.TrimSpace(opt); opt != "" {
				named[textproto.CanonicalMIMEHeaderKey(opt)] = true
			}
		}
	}
	return named
}

// fillRequestHeader is what a fill forwards of the header of the viewer
// request that started it: its end-to-end fields, without the ones the fill sets
// itself. The origin may then answer by them (Vary, Authorization,
// cookies); requests that join the fill get that answer only where the
// cache key allows it (see vary.go and serveKey).
func fillRequestHeader(req http.Header) http.Header {
	conn := connectionOptions(req)
	dst := make(http.Header, len(req))
	for k, v := range req {
		if hopByHop[k] || conn[k] || fillOwnRequestFields[k] {
			continue
		}
		dst[k] = slices.Clone(v)
	}
	return dst
}

// forwardTo copies the forwarded viewer fields into an upstream request's
// header, before the fill's own fields are set.
func forwardTo(dst, fwd http.Header) {
	for k, v := range fwd {
		dst[k] = v
	}
}
