package httprange

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// MaxRanges is the largest number of range specs accepted in one header.
// A header with more is treated as invalid (and so ignored), which defeats
// "many small ranges" amplification attacks. It is 100.
const MaxRanges = 100

var (
	// ErrInvalid means the header is not a syntactically valid bytes range
	// set. RFC 9110 says a server ignores such a header and sends 200.
	ErrInvalid = errors.New("httprange: invalid Range header")
	// ErrUnsatisfiable means the header is valid but no range overlaps the
	// representation: the answer is 416 with "Content-Range: bytes */size".
	ErrUnsatisfiable = errors.New("httprange: range not satisfiable")
)

// Range is one byte range; both ends are inclusive offsets.
type Range struct {
	Start, End int64
}

// Length is the number of bytes in r.
func (r Range) Length() int64 { return r.End - r.Start + 1 }

// ContentRange formats the Content-Range value of r within size bytes.
func (r Range) ContentRange(size int64) string {
	b := make([]byte, 0, 64)
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.End, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, size, 10)
	return string(b)
}

// Unsatisfied formats the Content-Range value of a 416 answer.
func Unsatisfied(size int64) string {
	return "bytes */" + strconv.FormatInt(size, 10)
}

// Spec is one range spec before it is resolved against a size: either
// First-Last (Last < 0 when open-ended) or a suffix of Suffix bytes.
type Spec struct {
	First, Last int64 // Last is -1 for "First-"
	Suffix      int64 // > -1 only for "-Suffix"; then First and Last are -1
}

// ParseSpecs parses the syntax of a Range header without a size. It is
// what a cache uses to guess which part of an object of unknown size a
// client wants. It returns ErrInvalid for anything that is not a valid
// bytes range set.
func ParseSpecs(header string) ([]Spec, error) {
	unit, set, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, ErrInvalid
	}
	var specs []Spec
	for len(set) > 0 {
		var elem string
		elem, set, _ = strings.Cut(set, ",")
		elem = strings.Trim(elem, " \t")
		if elem == "" {
			// RFC 9110 §5.6.1: recipients accept empty list elements.
			continue
		}
		if len(specs) == MaxRanges {
			return nil, ErrInvalid
		}
		s, err := parseSpec(elem)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	if len(specs) == 0 {
		return nil, ErrInvalid
	}
	return specs, nil
}

func parseSpec(elem string) (Spec, error) {
	first, last, ok := strings.Cut(elem, "-")
	if !ok {
		return Spec{}, ErrInvalid
	}
	if first == "" {
		n, ok := parseDigits(last)
		if !ok {
			return Spec{}, ErrInvalid
		}
		return Spec{First: -1, Last: -1, Suffix: n}, nil
	}
	f, ok := parseDigits(first)
	if !ok {
		return Spec{}, ErrInvalid
	}
	if last == "" {
		return Spec{First: f, Last: -1, Suffix: -1}, nil
	}
	l, ok := parseDigits(last)
	if !ok || l < f {
		// RFC 9110 §14.1.1: last < first makes the range set invalid.
		return Spec{}, ErrInvalid
	}
	return Spec{First: f, Last: l, Suffix: -1}, nil
}

// parseDigits parses 1*DIGIT; values past MaxInt64 saturate, since they are
// still valid syntax (just larger than any representation).
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	return n, true
}

// Resolve turns specs into the satisfiable ranges within size bytes, in
// the order given. It returns ErrUnsatisfiable when none is.
func Resolve(specs []Spec, size int64) ([]Range, error) {
	out := make([]Range, 0, len(specs))
	for _, s := range specs {
		var r Range
		switch {
		case s.Suffix >= 0:
			if s.Suffix == 0 || size <= 0 {
				continue
			}
			r = Range{Start: max(0, size-s.Suffix), End: size - 1}
		default:
			if s.First >= size {
				continue
			}
			r = Range{Start: s.First, End: size - 1}
			if s.Last >= 0 && s.Last < size-1 {
				r.End = s.Last
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, ErrUnsatisfiable
	}
	return out, nil
}

// Parse parses a Range header against a representation of size bytes. It
// returns the satisfiable ranges in request order, ErrInvalid (ignore the
// header, answer 200) or ErrUnsatisfiable (answer 416).
func Parse(header string, size int64) ([]Range, error) {
	specs, err := ParseSpecs(header)
	if err != nil {
		return nil, err
	}
	return Resolve(specs, size)
}

// Coalesce sorts ranges and merges those that overlap or touch, so a
// client asking "0-99,100-199" gets one range. The input is reordered.
func Coalesce(ranges []Range) []Range {
	if len(ranges) < 2 {
		return ranges
	}
	// Insertion sort: the count is bounded by MaxRanges.
	for i := 1; i < len(ranges); i++ {
		for j := i; j > 0 && ranges[j].Start < ranges[j-1].Start; j-- {
			ranges[j], ranges[j-1] = ranges[j-1], ranges[j]
		}
	}
	out := ranges[:1]
	for _, r := range ranges[1:] {
		last := &out[len(out)-1]
		if r.Start <= last.End+1 {
			last.End = max(last.End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}
