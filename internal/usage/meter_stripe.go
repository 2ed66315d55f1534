package usage

import (
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
)

// meterKey is what a Meter sums by within one edge.
type meterKey struct {
	hour   int64 // Unix hours
	video  string
	kind   Kind
	result Result
}

// stripe is one of a Meter's independent maps. Add picks a stripe at
// random, so goroutines on different cores rarely take the same lock even
// when they all count the same hot video; one key may live in several
// stripes and Flush sums them. Random beats a hash of the key here: a hash
// sends every request for a popular video to one lock.
type stripe struct {
	mu     sync.Mutex
	counts map[meterKey]*Counts
	// Keep stripes on separate cache lines so one core's lock does not
	// invalidate its neighbour's.
	_ [64]byte
}

func (m *Meter) stripeFor() *stripe {
	// math/rand/v2's top-level functions use the runtime's per-thread
	// generator: no lock, no allocation.
	return &m.stripes[rand.Uint32()&m.mask]
}

func (s *stripe) add(k meterKey, c Counts, maxKeys int, overflowed *atomic.Int64) {
	s.mu.Lock()
	p := s.counts[k]
	if p == nil {
		p = s.insert(k, maxKeys, overflowed)
	}
	p.Requests += c.Requests
	p.BytesOut += c.BytesOut
	p.OriginBytes += c.OriginBytes
	p.DeliveredNanos += c.DeliveredNanos
	s.mu.Unlock()
}

// insert adds a key seen for the first time in this interval (the only
// allocation on Add's path). Called with s.mu held.
func (s *stripe) insert(k meterKey, maxKeys int, overflowed *atomic.Int64) *Counts {
	if len(s.counts) >= maxKeys && k.video != "" {
		overflowed.Add(1)
		k.video = ""
		if p := s.counts[k]; p != nil {
			return p
		}
	}
	// The caller's string may alias a request buffer that will be reused.
	k.video = strings.Clone(k.video)
	p := new(Counts)
	s.counts[k] = p
	return p
}

// drained is one key's counts taken out of a stripe.
type drained struct {
	k meterKey
	c Counts
}

// drain appends the stripe's counts to buf and zeroes them. A key that saw
// nothing during the whole interval is deleted, so keys of past hours and
// gone videos leave memory, while busy keys keep their entry and Add stays
// allocation-free. Only copying happens under the lock (Adds that pick
// this stripe wait for it); merging is the caller's, after.
func (s *stripe) drain(buf []drained) []drained {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, p := range s.counts {
		if p.isZero() {
			delete(s.counts, k)
			continue
		}
		buf = append(buf, drained{k, *p})
		*p = Counts{}
	}
	return buf
}
