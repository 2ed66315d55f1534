package httprange

import (
	"errors"
	"testing"
)

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in          string
		first, last int64
		size        int64
		ok          bool
	}{
		{"bytes 0-99/1000", 0, 99, 1000, true},
		{"bytes 900-999/1000", 900, 999, 1000, true},
		{"bytes 0-0/1", 0, 0, 1, true},
		{"Bytes 1-2/3", 1, 2, 3, true}, // the unit is case-insensitive
		// The examples of RFC 9110 §14.4.
		{"bytes 42-1233/1234", 42, 1233, 1234, true},
		{"bytes 42-1233/*", 0, 0, 0, false}, // valid, but the length must be known here
		{"bytes 0-9223372036854775806/9223372036854775807", 0, 9223372036854775806, 9223372036854775807, true},
		{"bytes 0-1/9223372036854775808", 0, 0, 0, false},
		{"bytes 0-99/*", 0, 0, 0, false},
		{"bytes 99-0/1000", 0, 0, 0, false},
		{"bytes 0-1000/1000", 0, 0, 0, false},
		{"bytes -1-5/10", 0, 0, 0, false},
		{"bytes +1-5/10", 0, 0, 0, false},
		{"bytes 1 -5/10", 0, 0, 0, false},
		{"bytes  1-5/10", 0, 0, 0, false},
		{"bytes */1000", 0, 0, 0, false},
		{"bytes=0-1/2", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes 0-1/2/3", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		r, size, err := ParseContentRange(tt.in)
		if (err == nil) != tt.ok || r.Start != tt.first || r.End != tt.last || size != tt.size {
			t.Errorf("ParseContentRange(%q) = %v %d %v", tt.in, r, size, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidContentRange) {
			t.Errorf("ParseContentRange(%q) error %v is not ErrInvalidContentRange", tt.in, err)
		}
	}
}

func TestParseUnsatisfiedRange(t *testing.T) {
	tests := []struct {
		in   string
		size int64
		ok   bool
	}{
		{"bytes */1234", 1234, true}, // RFC 9110 §14.4's example
		{"bytes */0", 0, true},
		{"bytes */*", 0, false},
		{"bytes */", 0, false},
		{"bytes 0-1/2", 0, false},
		{"bytes */-1", 0, false},
		{"bytes */99999999999999999999", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		size, err := ParseUnsatisfiedRange(tt.in)
		if (err == nil) != tt.ok || size != tt.size {
			t.Errorf("ParseUnsatisfiedRange(%q) = %d %v", tt.in, size, err)
		}
	}
}

// FuzzParseContentRange checks that what the parser accepts is a range
// within its length whose printed form parses back to the same numbers,
// and that it never panics on hostile input.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/1000", "bytes */1000", "bytes 42-1233/*", "bytes 9-1/10", "Bytes 0-0/1", "bytes 0-1/99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if r, size, err := ParseContentRange(v); err == nil {
			if r.Start < 0 || r.End < r.Start || size <= r.End {
				t.Fatalf("ParseContentRange(%q) = %v/%d, not a range within its length", v, r, size)
			}
			printed := r.ContentRange(size)
			if r2, size2, err := ParseContentRange(printed); err != nil || r2 != r || size2 != size {
				t.Fatalf("ParseContentRange(%q) = %v/%d, but its printed form %q parses as %v/%d, %v", v, r, size, printed, r2, size2, err)
			}
		}
		if size, err := ParseUnsatisfiedRange(v); err == nil {
			if size2, err := ParseUnsatisfiedRange(Unsatisfied(size)); size < 0 || err != nil || size2 != size {
				t.Fatalf("ParseUnsatisfiedRange(%q) = %d, but its printed form parses as %d, %v", v, size, size2, err)
			}
		}
	})
}
