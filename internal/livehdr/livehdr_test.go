package livehdr

import "testing"

func TestParseViewers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		edge string
		n    int
		ok   bool
	}{
		{"edge-1=12", "edge-1", 12, true},
		{" edge-1=0 ", "edge-1", 0, true},
		{"e=999999999", "e", 999999999, true},
		{"e=1000000000", "", 0, false},
		{"e=-1", "", 0, false},
		{"e=+1", "", 0, false},
		{"e=1.5", "", 0, false},
		{"=3", "", 0, false},
		{"e=", "", 0, false},
		{"e", "", 0, false},
		{"a b=3", "", 0, false},
		{"a,b=3", "", 0, false},
		{"é=3", "", 0, false},
		{"a=b=3", "", 0, false},
	} {
		edge, n, ok := ParseViewers(tc.in)
		if edge != tc.edge || n != tc.n || ok != tc.ok {
			t.Errorf("ParseViewers(%q) = %q, %d, %v; want %q, %d, %v", tc.in, edge, n, ok, tc.edge, tc.n, tc.ok)
		}
	}
}

func TestFormatViewers_RoundTrips(t *testing.T) {
	for _, n := range []int{0, 1, 500, 999_999_999} {
		edge, got, ok := ParseViewers(FormatViewers("edge-a", n))
		if !ok || edge != "edge-a" || got != n {
			t.Errorf("round trip of %d: %q %d %v", n, edge, got, ok)
		}
	}
	if _, got, _ := ParseViewers(FormatViewers("e", -5)); got != 0 {
		t.Errorf("negative count formatted as %d", got)
	}
}

// FuzzParseViewers: any accepted value formats back to itself (trimmed),
// within the bounds the doc promises.
func FuzzParseViewers(f *testing.F) {
	for _, s := range []string{"edge-1=12", "e=0", "=", "a=b=c", " x=999999999 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		edge, n, ok := ParseViewers(v)
		if !ok {
			return
		}
		if n < 0 || n > maxViewers || len(edge) == 0 || len(edge) > 128 {
			t.Fatalf("ParseViewers(%q) = %q, %d out of bounds", v, edge, n)
		}
		e2, n2, ok2 := ParseViewers(FormatViewers(edge, n))
		if !ok2 || e2 != edge || n2 != n {
			t.Fatalf("ParseViewers(%q) = %q, %d does not round-trip", v, edge, n)
		}
	})
}
