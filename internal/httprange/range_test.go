package httprange

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		header string
		size   int64
		want   []Range
		err    error
	}{
		{"single closed", "bytes=0-99", 1000, []Range{{0, 99}}, nil},
		{"open ended", "bytes=100-", 1000, []Range{{100, 999}}, nil},
		{"suffix", "bytes=-500", 1000, []Range{{500, 999}}, nil},
		{"suffix larger than size", "bytes=-5000", 1000, []Range{{0, 999}}, nil},
		{"last past end is clamped", "bytes=900-5000", 1000, []Range{{900, 999}}, nil},
		{"single byte", "bytes=0-0", 1, []Range{{0, 0}}, nil},
		{"last byte", "bytes=999-999", 1000, []Range{{999, 999}}, nil},
		{"unit is case-insensitive", "Bytes=1-2", 10, []Range{{1, 2}}, nil},
		{"whitespace around elements", "bytes= 1-2 ,\t4-5", 10, []Range{{1, 2}, {4, 5}}, nil},
		{"empty list elements", "bytes=,1-2,,", 10, []Range{{1, 2}}, nil},
		{"multi keeps order", "bytes=5-6,0-1", 10, []Range{{5, 6}, {0, 1}}, nil},
		{"unsatisfiable ranges are dropped", "bytes=0-1,50-60", 10, []Range{{0, 1}}, nil},
		{"huge last saturates", "bytes=0-99999999999999999999999", 10, []Range{{0, 9}}, nil},

		{"start at size", "bytes=1000-", 1000, nil, ErrUnsatisfiable},
		{"start past size", "bytes=2000-3000", 1000, nil, ErrUnsatisfiable},
		{"zero suffix", "bytes=-0", 1000, nil, ErrUnsatisfiable},
		{"empty representation", "bytes=0-", 0, nil, ErrUnsatisfiable},
		{"suffix of empty", "bytes=-10", 0, nil, ErrUnsatisfiable},
		{"huge first", "bytes=99999999999999999999-", 10, nil, ErrUnsatisfiable},

		{"empty", "", 10, nil, ErrInvalid},
		{"no equals", "bytes", 10, nil, ErrInvalid},
		{"other unit", "items=0-1", 10, nil, ErrInvalid},
		{"no ranges", "bytes=", 10, nil, ErrInvalid},
		{"only commas", "bytes=,,", 10, nil, ErrInvalid},
		{"no dash", "bytes=5", 10, nil, ErrInvalid},
		{"lone dash", "bytes=-", 10, nil, ErrInvalid},
		{"last before first", "bytes=5-4", 10, nil, ErrInvalid},
		{"negative", "bytes=-1-5", 10, nil, ErrInvalid},
		{"letters", "bytes=a-b", 10, nil, ErrInvalid},
		{"plus sign", "bytes=+1-2", 10, nil, ErrInvalid},
		{"inner space", "bytes=1 -2", 10, nil, ErrInvalid},
		{"one bad spoils all", "bytes=0-1,x", 10, nil, ErrInvalid},
		{"too many ranges", "bytes=" + strings.Repeat("0-0,", MaxRanges+1), 10, nil, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.header, tt.size)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Parse(%q, %d) error = %v, want %v", tt.header, tt.size, err, tt.err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Parse(%q, %d) = %v, want %v", tt.header, tt.size, got, tt.want)
			}
		})
	}
}

func TestCoalesce(t *testing.T) {
	tests := []struct {
		in, want []Range
	}{
		{nil, nil},
		{[]Range{{0, 9}}, []Range{{0, 9}}},
		{[]Range{{10, 19}, {0, 9}}, []Range{{0, 19}}},
		{[]Range{{0, 9}, {5, 7}}, []Range{{0, 9}}},
		{[]Range{{0, 4}, {6, 9}}, []Range{{0, 4}, {6, 9}}},
		{[]Range{{20, 30}, {0, 4}, {3, 10}}, []Range{{0, 10}, {20, 30}}},
	}
	for _, tt := range tests {
		if got := Coalesce(slices.Clone(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("Coalesce(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestContentRange(t *testing.T) {
	if got := (Range{100, 199}).ContentRange(1000); got != "bytes 100-199/1000" {
		t.Fatalf("ContentRange = %q", got)
	}
	if got := Unsatisfied(1000); got != "bytes */1000" {
		t.Fatalf("Unsatisfied = %q", got)
	}
}

// FuzzParse checks the invariants a server relies on when it slices a body
// with the parsed ranges: every range lies inside the representation,
// starts before it ends, and re-parsing the canonical form gives the same
// ranges back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-500", "bytes=100-", "bytes=0-1,5-9", "bytes=", "x", "bytes=9-1", "bytes= ,0-"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -size
			if size < 0 {
				size = 0
			}
		}
		got, err := Parse(header, size)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsatisfiable) {
				t.Fatalf("unexpected error kind %v", err)
			}
			if got != nil {
				t.Fatalf("ranges %v returned with error %v", got, err)
			}
			return
		}
		if len(got) == 0 || len(got) > MaxRanges {
			t.Fatalf("got %d ranges", len(got))
		}
		var canon []string
		for _, r := range got {
			if r.Start < 0 || r.Start > r.End || r.End >= size {
				t.Fatalf("range %+v outside [0,%d)", r, size)
			}
			if r.Length() <= 0 || r.Length() > size {
				t.Fatalf("range %+v has length %d for size %d", r, r.Length(), size)
			}
			canon = append(canon, fmt.Sprintf("%d-%d", r.Start, r.End))
		}
		again, err := Parse("bytes="+strings.Join(canon, ","), size)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("canonical form re-parsed to %v, %v; want %v", again, err, got)
		}
		merged := Coalesce(slices.Clone(got))
		for i := 1; i < len(merged); i++ {
			if merged[i].Start <= merged[i-1].End+1 {
				t.Fatalf("coalesced ranges still touch: %v", merged)
			}
		}
	})
}
