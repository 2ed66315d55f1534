package usagestore

import "slices"

// seqSet records which reports an hour's object has folded: per stream
// ("{edge}/{run}") the seqs as sorted, disjoint, inclusive ranges. A run's
// seqs are consecutive, so an hour of one edge is one or two ranges rather
// than 360 IDs.
type seqSet map[string][][2]uint64

func (s seqSet) has(id rawID) bool {
	rs := s[id.stream()]
	_, found := slices.BinarySearchFunc(rs, id.seq, func(r [2]uint64, seq uint64) int {
		switch {
		case r[1] < seq:
			return -1
		case r[0] > seq:
			return 1
		}
		return 0
	})
	return found
}

func (s seqSet) add(id rawID) {
	k := id.stream()
	rs := s[k]
	rs = append(rs, [2]uint64{id.seq, id.seq})
	slices.SortFunc(rs, func(a, b [2]uint64) int {
		switch {
		case a[0] < b[0]:
			return -1
		case a[0] > b[0]:
			return 1
		}
		return 0
	})
	merged := rs[:1]
	for _, r := range rs[1:] {
		last := &merged[len(merged)-1]
		if r[0] <= last[1]+1 {
			last[1] = max(last[1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	s[k] = merged
}
