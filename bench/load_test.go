package bench

import (
	"slices"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	cases := []struct {
		in   string
		want []int
	}{{"", nil}, {"0", []int{0}}, {"0,2", []int{0, 2}}, {"1-3", []int{1, 2, 3}}, {"0,4-5", []int{0, 4, 5}}, {"3-1", nil}}
	for _, tc := range cases {
		if got := parseCPUList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parseCPUList(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
