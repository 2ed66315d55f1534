package httprange

import (
	"errors"
	"strings"
)

// ErrInvalidContentRange means a Content-Range value is not one this
// package accepts: malformed, for another unit, a range that does not fit
// its complete length, or a complete length that is unknown ("*").
var ErrInvalidContentRange = errors.New("httprange: invalid Content-Range")

// ParseContentRange parses the Content-Range of a 206 answer, "bytes
// first-last/complete" (RFC 9110 §14.4), where the complete length must
// be known. It returns the range and the complete length, or
// ErrInvalidContentRange; the value is untrusted (it comes from an
// upstream), so every number is checked, overflow included.
func ParseContentRange(v string) (r Range, size int64, err error) {
	rest, ok := cutUnit(v)
	if !ok {
		return Range{}, 0, ErrInvalidContentRange
	}
	span, complete, ok := strings.Cut(rest, "/")
	if !ok {
		return Range{}, 0, ErrInvalidContentRange
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return Range{}, 0, ErrInvalidContentRange
	}
	first, ok1 := parseLength(a)
	last, ok2 := parseLength(b)
	size, ok3 := parseLength(complete)
	if !ok1 || !ok2 || !ok3 || last < first || size <= last {
		return Range{}, 0, ErrInvalidContentRange
	}
	return Range{Start: first, End: last}, size, nil
}

// ParseUnsatisfiedRange parses the Content-Range of a 416 answer, "bytes
// */complete", and returns the complete length, or ErrInvalidContentRange.
func ParseUnsatisfiedRange(v string) (size int64, err error) {
	rest, ok := cutUnit(v)
	if !ok {
		return 0, ErrInvalidContentRange
	}
	complete, ok := strings.CutPrefix(rest, "*/")
	if !ok {
		return 0, ErrInvalidContentRange
	}
	if size, ok = parseLength(complete); !ok {
		return 0, ErrInvalidContentRange
	}
	return size, nil
}

// cutUnit removes "bytes " (the unit is case-insensitive, §14.1).
func cutUnit(v string) (string, bool) {
	if len(v) < 6 || !strings.EqualFold(v[:5], "bytes") || v[5] != ' ' {
		return "", false
	}
	return v[6:], true
}

// parseLength parses 1*DIGIT into an int64, refusing values that overflow
// (unlike parseDigits: an upstream's length must be exact).
func parseLength(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
