package livehdr

import (
	"strconv"
	"strings"
)

// Kind is the response field with which the origin marks live HLS
// answers, with one of the Kind* values.
const Kind = "Streamfront-Live"

// Values of Kind.
const (
	KindPlaylist = "playlist"
	KindPart     = "part"
	KindSegment  = "segment"
	KindInit     = "init"
)

// Viewers is the request field with which an edge reports its viewers of
// a live stream on its playlist fills: "{edge name}={viewers}" (see
// FormatViewers). Edges never forward a viewer's own value.
const Viewers = "Streamfront-Live-Viewers"

// maxViewers bounds a reported count (nine digits).
const maxViewers = 999_999_999

// FormatViewers is the Viewers value for edge with n viewers.
func FormatViewers(edge string, n int) string {
	return edge + "=" + strconv.Itoa(min(max(n, 0), maxViewers))
}

// ParseViewers reads one Viewers value. The value is untrusted: the edge
// name must be 1–128 visible ASCII characters without "=" or ",", the
// count 1–9 decimal digits.
func ParseViewers(v string) (edge string, viewers int, ok bool) {
	name, num, found := strings.Cut(strings.TrimSpace(v), "=")
	if !found || name == "" || len(name) > 128 || num == "" || len(num) > 9 {
		return "", 0, false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == ',' {
			return "", 0, false
		}
	}
	n := 0
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return "", 0, false
		}
		n = n*10 + int(num[i]-'0')
	}
	return name, n, true
}
