package steering

import (
	"cmp"
	"slices"
	"time"
)

// viewerReport is what a player told the router about itself in a
// steering request.
type viewerReport struct {
	// RTT is the viewer's own round-trip time to each edge it measured, by
	// edge name. Edges it could not reach in time are absent.
	RTT map[string]time.Duration
	// Current is the pathway the player is using (_HLS_pathway), "" if
	// unknown.
	Current string
}

// orderPathways returns every edge's name, best first:
//
//  1. Edges that are up before edges that are down. Down edges stay in the
//     list, last, so a player whose own requests still work keeps a
//     fallback when the router's view is wrong (a partition between the
//     router and one edge).
//  2. Among up edges, those the viewer measured, by the viewer's RTT:
//     latency from the viewer is what the viewer waits for. When the
//     viewer measured some edges but not others, the unmeasured ones did
//     not answer in the viewer's time budget, so they follow.
//  3. Then by the router's RTT to the edge (unknown last), then by
//     configuration order.
//  4. Stickiness: the viewer's current pathway stays first when it is up
//     and within margin of the best by the same measure, so nearly equal
//     edges do not swap on every reload. margin < 0 turns this off.
//
// Down edges keep configuration order among themselves.
func orderPathways(edges []edgeStatus, viewer viewerReport, margin time.Duration) []string {
	rs := make([]rankedEdge, len(edges))
	for i, e := range edges {
		rs[i] = rankedEdge{edgeStatus: e, viewerRTT: viewer.RTT[e.Name]}
	}
	slices.SortStableFunc(rs, compareRanked)

	if margin >= 0 && viewer.Current != "" && len(rs) > 1 && rs[0].Name != viewer.Current {
		for i := 1; i < len(rs); i++ {
			if rs[i].Name != viewer.Current {
				continue
			}
			if cur := rs[i]; cur.Up && cur.within(rs[0], margin) {
				// Move the current pathway to the front, keeping the rest
				// in order.
				copy(rs[1:i+1], rs[:i])
				rs[0] = cur
			}
			break
		}
	}

	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	return names
}

// rankedEdge is an edge with what the viewer measured of it.
type rankedEdge struct {
	edgeStatus
	viewerRTT time.Duration // 0 when the viewer did not measure it
}

// compareRanked is the order of orderPathways, rules 1 to 3.
func compareRanked(a, b rankedEdge) int {
	if a.Up != b.Up {
		if a.Up {
			return -1
		}
		return 1
	}
	if !a.Up {
		return cmp.Compare(a.Index, b.Index)
	}
	if c := knownFirst(a.viewerRTT, b.viewerRTT); c != 0 {
		return c
	}
	if c := knownFirst(a.RTT, b.RTT); c != 0 {
		return c
	}
	return cmp.Compare(a.Index, b.Index)
}

// knownFirst orders known durations before unknown (0) ones, then
// ascending.
func knownFirst(a, b time.Duration) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	}
	return cmp.Compare(a, b)
}

// within reports whether e is no more than margin slower than best, by the
// measure that ranked best: the viewer's RTT when the viewer measured
// best, else the router's. An edge missing that measure is not within.
func (e rankedEdge) within(best rankedEdge, margin time.Duration) bool {
	if best.viewerRTT > 0 {
		return e.viewerRTT > 0 && e.viewerRTT <= best.viewerRTT+margin
	}
	if e.viewerRTT > 0 {
		return false // cannot happen after sorting; be explicit anyway
	}
	if best.RTT > 0 {
		return e.RTT > 0 && e.RTT <= best.RTT+margin
	}
	return true // neither measured: equal as far as anyone knows
}
