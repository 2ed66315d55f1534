package flight

import "sync"

// Group deduplicates concurrent fills: all requests that miss on one
// key while a fill for it is running join that fill instead of starting
// their own origin fetch. It is the idea of x/sync/singleflight, but a
// joiner gets the fill itself (a growing body it can stream from while the
// fill runs) rather than a finished value, which singleflight cannot give.
//
// The group only tracks membership. The fill must re-check the cache
// before fetching and must store its result in the cache before it calls
// Leave; see the edge's runWholeFill for the race those two rules close.
type Group[F any] struct {
	mu      sync.Mutex
	flights map[string]*F
}

// Join returns the flight running for key and false, or, when none is,
// registers the one made by start and returns it and true. start runs
// under the group's lock: it must only build the value, not run it.
func (g *Group[F]) Join(key string, start func() *F) (*F, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		return f, false
	}
	if g.flights == nil {
		g.flights = make(map[string]*F)
	}
	f := start()
	g.flights[key] = f
	return f, true
}

// Leave removes f from the group if it is still the flight for key; later
// requests for key start a new flight.
func (g *Group[F]) Leave(key string, f *F) {
	g.mu.Lock()
	if g.flights[key] == f {
		delete(g.flights, key)
	}
	g.mu.Unlock()
}

// Running reports whether a flight for key is in the group.
func (g *Group[F]) Running(key string) bool {
	g.mu.Lock()
	_, ok := g.flights[key]
	g.mu.Unlock()
	return ok
}

// Len is how many flights are in the group.
func (g *Group[F]) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.flights)
}
