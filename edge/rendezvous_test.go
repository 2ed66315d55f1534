package edge

import (
	"fmt"
	"testing"
)

func TestRendezvous_IsDeterministicAndBalanced(t *testing.T) {
	nodes := []string{"http://shield-a:8081", "http://shield-b:8081", "http://shield-c:8081"}
	r1, r2 := newRendezvous(nodes), newRendezvous(append([]string(nil), nodes...))
	counts := make([]int, len(nodes))
	const keys = 30000
	for i := range keys {
		k := fmt.Sprintf("/videos/%d/r/720.mp4", i)
		n := r1.pick(k)
		if n != r2.pick(k) {
			t.Fatalf("two edges disagree on %s", k)
		}
		counts[n]++
	}
	for i, c := range counts {
		if c < keys/3*85/100 || c > keys/3*115/100 {
			t.Fatalf("node %d owns %d of %d keys: unbalanced %v", i, c, keys, counts)
		}
	}
}

func TestRendezvous_RemovingANodeMovesOnlyItsKeys(t *testing.T) {
	all := newRendezvous([]string{"a", "b", "c", "d"})
	without := newRendezvous([]string{"a", "b", "d"}) // "c" removed
	names := []string{"a", "b", "c", "d"}
	namesWithout := []string{"a", "b", "d"}
	for i := range 10000 {
		k := fmt.Sprintf("/videos/%d/seg.m4s", i)
		before, after := names[all.pick(k)], namesWithout[without.pick(k)]
		if before != "c" && before != after {
			t.Fatalf("%s moved from %s to %s though %s stayed", k, before, after, before)
		}
	}
}

func TestRendezvous_NoNodes(t *testing.T) {
	if got := newRendezvous(nil).pick("k"); got != -1 {
		t.Fatalf("pick with no nodes = %d", got)
	}
}
