package bench

import "testing"

func TestLRU_EvictsLeastRecentlyUsedWithinBudget(t *testing.T) {
	c := newLRU(30)
	steps := []struct {
		key  int
		hit  bool
		used int64
	}{
		{1, false, 10}, {2, false, 20}, {3, false, 30},
		{1, true, 30},  // 1 becomes the most recent
		{4, false, 30}, // evicts 2, the least recent
		{2, false, 30}, // evicts 3
		{1, true, 30},
		{3, false, 30}, // evicts 4
	}
	for i, s := range steps {
		if hit := c.access(s.key, 10); hit != s.hit || c.used != s.used {
			t.Fatalf("step %d (key %d): hit %v used %d; want hit %v used %d", i, s.key, hit, c.used, s.hit, s.used)
		}
	}
	if c.access(9, 31) || c.used != 30 {
		t.Error("an item over the budget was admitted")
	}
}

func TestZipf_SkewsTowardsLowRanks(t *testing.T) {
	z := newZipf(1000, 0.9, 1)
	counts := make([]int, 1000)
	for range 100000 {
		counts[z.next()]++
	}
	if counts[0] <= counts[9] || counts[9] <= counts[999] {
		t.Errorf("counts not decreasing with rank: rank0 %d rank9 %d rank999 %d", counts[0], counts[9], counts[999])
	}
	if got := z.topShare(1000); got < 0.999999 {
		t.Errorf("topShare(n) = %v, want 1", got)
	}
}
