package httpcond

import (
	"net/http"
	"testing"
	"time"
)

// The table of RFC 9110 §8.8.3.2.
func TestMatch_RFC9110ComparisonTable(t *testing.T) {
	tests := []struct {
		a, b           string
		strong, weakly bool
	}{
		{`W/"1"`, `W/"1"`, false, true},
		{`W/"1"`, `W/"2"`, false, false},
		{`W/"1"`, `"1"`, false, true},
		{`"1"`, `"1"`, true, true},
		// Not in the table: malformed tags match nothing.
		{`1`, `1`, false, false},
		{``, ``, false, false},
		{`W/`, `W/`, false, false},
	}
	for _, tt := range tests {
		if got := StrongMatch(tt.a, tt.b); got != tt.strong {
			t.Errorf("StrongMatch(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.strong)
		}
		if got := StrongMatch([]byte(tt.b), tt.a); got != tt.strong {
			t.Errorf("StrongMatch(%s, %s) = %v, want %v (bytes, swapped)", tt.b, tt.a, got, tt.strong)
		}
		if got := WeakMatch(tt.a, tt.b); got != tt.weakly {
			t.Errorf("WeakMatch(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.weakly)
		}
		if got := WeakMatch([]byte(tt.b), tt.a); got != tt.weakly {
			t.Errorf("WeakMatch(%s, %s) = %v, want %v (bytes, swapped)", tt.b, tt.a, got, tt.weakly)
		}
	}
}

// The If-None-Match examples of RFC 9110 §13.1.2, against "xyzzy".
func TestNoneMatch_RFC9110Examples(t *testing.T) {
	tests := []struct {
		list, etag string
		want       bool
	}{
		{`"xyzzy"`, `"xyzzy"`, true},
		{`W/"xyzzy"`, `"xyzzy"`, true},
		{`"xyzzy", "r2d2xxxx", "c3piozzzz"`, `"xyzzy"`, true},
		{`W/"xyzzy", W/"r2d2xxxx", W/"c3piozzzz"`, `"xyzzy"`, true},
		{`*`, `"xyzzy"`, true},
		{`"r2d2xxxx", "c3piozzzz"`, `"xyzzy"`, false},
		{`W/"xyzzy"`, `W/"xyzzy"`, true},
		{`"xyzzy"`, `W/"xyzzy"`, true},
		{"\t\"a\" ,\"xyzzy\"\t", `"xyzzy"`, true},
		{`*`, ``, true}, // a representation exists, if without a tag
		{`"xyzzy"`, ``, false},
		{`,,`, `"xyzzy"`, false},
		{`xyzzy`, `xyzzy`, false},
	}
	for _, tt := range tests {
		if got := NoneMatch(tt.list, tt.etag); got != tt.want {
			t.Errorf("NoneMatch(%s, %s) = %v, want %v", tt.list, tt.etag, got, tt.want)
		}
		if got := NoneMatch([]byte(tt.list), tt.etag); got != tt.want {
			t.Errorf("NoneMatch([]byte(%s), %s) = %v, want %v", tt.list, tt.etag, got, tt.want)
		}
	}
}

// RFC 9110 §13.1.3's example date, and §13.2.2's precedence.
func TestNotModified(t *testing.T) {
	lm := time.Date(1994, 10, 29, 19, 43, 31, 0, time.UTC)
	const date = "Sat, 29 Oct 1994 19:43:31 GMT"
	tests := []struct {
		name          string
		inm, ims, tag string
		lastModified  time.Time
		want          bool
	}{
		{"modified at the date", "", date, `"x"`, lm, true},
		{"modified before the date", "", date, `"x"`, lm.Add(-time.Hour), true},
		{"modified after the date", "", date, `"x"`, lm.Add(time.Second), false},
		{"sub-second precision does not count", "", date, `"x"`, lm.Add(500 * time.Millisecond), true},
		{"obsolete rfc850 date", "", "Saturday, 29-Oct-94 19:43:31 GMT", `"x"`, lm, true},
		{"obsolete asctime date", "", "Sat Oct 29 19:43:31 1994", `"x"`, lm, true},
		{"invalid date is ignored", "", "yesterday", `"x"`, lm, false},
		{"no Last-Modified", "", date, `"x"`, time.Time{}, false},
		{"If-None-Match wins over a matching date", `"other"`, date, `"x"`, lm, false},
		{"If-None-Match wins over a failing date", `W/"x"`, date, `"x"`, lm.Add(time.Hour), true},
		{"no conditions", "", "", `"x"`, lm, false},
	}
	for _, tt := range tests {
		if got := NotModified(tt.inm, tt.ims, tt.tag, tt.lastModified); got != tt.want {
			t.Errorf("%s: NotModified = %v, want %v", tt.name, got, tt.want)
		}
		if got := NotModified([]byte(tt.inm), []byte(tt.ims), tt.tag, tt.lastModified); got != tt.want {
			t.Errorf("%s: NotModified(bytes) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// RFC 9110 §13.1.5's examples, "xyzzy" and Sat, 29 Oct 1994 19:43:31 GMT.
func TestRangeApplies(t *testing.T) {
	lm := time.Date(1994, 10, 29, 19, 43, 31, 0, time.UTC)
	served := lm.Add(time.Hour)
	const date = "Sat, 29 Oct 1994 19:43:31 GMT"
	tests := []struct {
		name         string
		ifRange, tag string
		lastModified time.Time
		date         time.Time
		want         bool
	}{
		{"no If-Range", "", `"xyzzy"`, lm, served, true},
		{"same strong tag", `"xyzzy"`, `"xyzzy"`, lm, served, true},
		{"other tag", `"r2d2"`, `"xyzzy"`, lm, served, false},
		{"weak tag never holds", `W/"xyzzy"`, `W/"xyzzy"`, lm, served, false},
		{"strong tag against a weak one", `"xyzzy"`, `W/"xyzzy"`, lm, served, false},
		{"tag without an ETag", `"xyzzy"`, ``, lm, served, false},
		{"exactly Last-Modified", date, `"xyzzy"`, lm, served, true},
		{"exactly Last-Modified, one second before Date", date, `"xyzzy"`, lm, lm.Add(time.Second), true},
		{"Last-Modified too close to Date is weak", date, `"xyzzy"`, lm, lm.Add(999 * time.Millisecond), false},
		{"older date", "Sat, 29 Oct 1994 19:43:30 GMT", `"xyzzy"`, lm, served, false},
		{"newer date", "Sat, 29 Oct 1994 19:43:32 GMT", `"xyzzy"`, lm, served, false},
		{"date without Last-Modified", date, `"xyzzy"`, time.Time{}, served, false},
		{"malformed", "soon", `"xyzzy"`, lm, served, false},
	}
	for _, tt := range tests {
		if got := RangeApplies(tt.ifRange, tt.tag, tt.lastModified, tt.date); got != tt.want {
			t.Errorf("%s: RangeApplies = %v, want %v", tt.name, got, tt.want)
		}
		if got := RangeApplies([]byte(tt.ifRange), tt.tag, tt.lastModified, tt.date); got != tt.want {
			t.Errorf("%s: RangeApplies(bytes) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseDate_DoesNotAllocateForIMFFixdate(t *testing.T) {
	b := []byte("Sun, 06 Nov 1994 08:49:37 GMT")
	inm := []byte(`W/"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"`)
	lm := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	allocs := testing.AllocsPerRun(100, func() {
		if !NotModified(nil, b, `"x"`, lm) || !NotModified(inm, b, `"0123456789abcdef0123456789abcdef"`, lm) ||
			!RangeApplies(b, `"x"`, lm, lm.Add(time.Hour)) {
			t.Fatal("wrong answer")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per evaluation, want 0", allocs)
	}
}

// FuzzParseDate holds the allocation-free IMF-fixdate parser to
// http.ParseTime's answers.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Mon, 31 Feb 2000 00:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseDate(s)
		want, err := http.ParseTime(s)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Fatalf("ParseDate(%q) = %v, %v; http.ParseTime = %v, %v", s, got, ok, want, err)
		}
	})
}
