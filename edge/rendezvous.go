package edge

// rendezvous chooses, for each key, one node out of a fixed set by highest
// random weight (HRW) hashing: every node gets a score hash(node, key) and
// the best score wins. Every edge with the same node list picks the same
// shield for an object without talking to the others, and removing a node
// moves only the keys that node owned.
type rendezvous struct {
	nodes []string
	seeds []uint64 // hash of each node name, computed once
}

func newRendezvous(nodes []string) *rendezvous {
	r := &rendezvous{nodes: nodes, seeds: make([]uint64, len(nodes))}
	for i, n := range nodes {
		r.seeds[i] = fnv1a(fnvOffset, n)
	}
	return r
}

// pick returns the index of key's node, or -1 when there are none.
func (r *rendezvous) pick(key string) int {
	best, bestScore := -1, uint64(0)
	kh := fnv1a(fnvOffset, key)
	for i, seed := range r.seeds {
		if s := mix64(seed ^ kh); best < 0 || s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv1a is 64-bit FNV-1a: stable across processes and versions, unlike
// hash/maphash, which is seeded per process.
func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix64 is the splitmix64 finalizer; it spreads FNV's weak low bits so
// scores of similar keys are independent.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
