package httpcond

import (
	"net/http"
	"strings"
	"time"
)

// Text is a header value as a string or as bytes.
type Text interface{ ~string | ~[]byte }

// StrongMatch reports whether two entity tags match by strong comparison
// (RFC 9110 §8.8.3.2): neither is weak and their opaque tags are the same.
func StrongMatch[T Text](a T, b string) bool {
	return len(a) > 0 && a[0] == '"' && len(b) > 0 && b[0] == '"' && string(a) == b
}

// WeakMatch reports whether two entity tags match by weak comparison
// (RFC 9110 §8.8.3.2): their opaque tags are the same, either or both
// being marked weak.
func WeakMatch[T Text](a T, b string) bool {
	if len(a) >= 2 && a[0] == 'W' && a[1] == '/' {
		a = a[2:]
	}
	b = strings.TrimPrefix(b, "W/")
	return len(a) > 0 && a[0] == '"' && string(a) == b
}

// NoneMatch reports whether an If-None-Match list matches etag, the
// entity tag of a current representation: "*" does, and so does any
// member that matches etag by weak comparison (§13.1.2). A representation
// without an entity tag matches only "*".
func NoneMatch[T Text](list T, etag string) bool {
	for len(list) > 0 {
		var member T
		if i := indexComma(list); i >= 0 {
			member, list = list[:i], list[i+1:]
		} else {
			member, list = list, list[len(list):]
		}
		member = trimOWS(member)
		if len(member) == 1 && member[0] == '*' {
			return true
		}
		if etag != "" && WeakMatch(member, etag) {
			return true
		}
	}
	return false
}

// NotModified reports whether a GET or HEAD of a current representation
// with the given validators is answered 304 Not Modified (RFC 9110
// §13.2.2 steps 3 and 4). ifNoneMatch and ifModifiedSince are the header
// values, empty when absent. If-None-Match decides when present;
// otherwise If-Modified-Since does, when it is a valid date and
// lastModified is known: the representation is not modified if it was
// last modified at or before that date. Dates have one-second precision.
func NotModified[T Text](ifNoneMatch, ifModifiedSince T, etag string, lastModified time.Time) bool {
	if len(ifNoneMatch) > 0 {
		return NoneMatch(ifNoneMatch, etag)
	}
	if len(ifModifiedSince) == 0 || lastModified.IsZero() {
		return false
	}
	since, ok := ParseDate(ifModifiedSince)
	return ok && !lastModified.Truncate(time.Second).After(since)
}

// RangeApplies evaluates If-Range (RFC 9110 §13.1.5) for a request that
// carries a Range: true when the Range is to be honoured (no If-Range, or
// its validator still holds), false when the whole representation is to
// be sent instead.
//
// An entity tag holds only if it matches etag by strong comparison, so a
// weak tag never does. A date holds only if it is exactly lastModified and
// lastModified is a strong validator: at least one second before date, the
// time the representation was served with it (§8.8.2.2), since within
// that second it may have changed twice. Anything else, a malformed value
// included, does not hold.
func RangeApplies[T Text](ifRange T, etag string, lastModified, date time.Time) bool {
	ifRange = trimOWS(ifRange)
	if len(ifRange) == 0 {
		return true
	}
	if ifRange[0] == '"' || (len(ifRange) >= 2 && ifRange[0] == 'W' && ifRange[1] == '/') {
		return StrongMatch(ifRange, etag)
	}
	t, ok := ParseDate(ifRange)
	if !ok || lastModified.IsZero() {
		return false
	}
	lm := lastModified.Truncate(time.Second)
	return lm.Equal(t) && !lm.After(date.Add(-time.Second))
}

// ParseDate parses an HTTP-date (RFC 9110 §5.6.7). The preferred
// IMF-fixdate form is parsed without allocating; the two obsolete forms
// are left to http.ParseTime.
func ParseDate[T Text](v T) (time.Time, bool) {
	if t, ok := parseIMFFixdate(v); ok {
		return t, true
	}
	// A copy, so that v does not escape through time.Parse's error and a
	// caller's string(bytes) conversion can stay on its stack.
	t, err := http.ParseTime(strings.Clone(string(v)))
	return t, err == nil
}

var (
	dayNames   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT" exactly.
func parseIMFFixdate[T Text](v T) (time.Time, bool) {
	if len(v) != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
		v[19] != ':' || v[22] != ':' || string(v[25:]) != " GMT" {
		return time.Time{}, false
	}
	weekday := -1
	for i, d := range dayNames {
		if string(v[:3]) == d {
			weekday = i
		}
	}
	month := 0
	for i, m := range monthNames {
		if string(v[8:11]) == m {
			month = i + 1
		}
	}
	day, ok1 := digits(v[5:7])
	year, ok2 := digits(v[12:16])
	hour, ok3 := digits(v[17:19])
	minute, ok4 := digits(v[20:22])
	sec, ok5 := digits(v[23:25])
	if weekday < 0 || month == 0 || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // time.Date normalises 31 Feb into March
		return time.Time{}, false
	}
	// Like time.Parse, the day name is checked for spelling, not against
	// the date.
	return t, true
}

func digits[T Text](v T) (int, bool) {
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func indexComma[T Text](v T) int {
	for i := 0; i < len(v); i++ {
		if v[i] == ',' {
			return i
		}
	}
	return -1
}

// trimOWS trims optional whitespace (spaces and tabs, RFC 9110 §5.6.3).
func trimOWS[T Text](v T) T {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}
