package catalog

import (
	"testing"
	"time"
)

func TestNewID_SortsNewestFirst(t *testing.T) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	older, newer := NewID(base), NewID(base.Add(time.Millisecond))
	if !(newer < older) {
		t.Fatalf("newer ID %s should sort before older %s", newer, older)
	}
	for _, id := range []string{older, newer} {
		if !ValidID(id) {
			t.Fatalf("NewID made %q, which ValidID refuses", id)
		}
	}
}

func TestValidID_RefusesPathsAndOddShapes(t *testing.T) {
	for _, s := range []string{"", "../../etc/passwd", "0123456789abcdeF", "0123456789abcdefg", "0123456789abcde", "0123456789abcdew", "0123456789abc/ef"} {
		if ValidID(s) {
			t.Errorf("ValidID(%q) = true", s)
		}
	}
}
