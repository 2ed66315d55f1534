package live

import (
	"net/http"
	"sync"
	"time"

	"github.com/streamfront/streamfront/internal/livehdr"
)

// Viewers are counted by the edges, not here: behind edges that collapse
// requests, the origin sees one request per part per edge whatever the
// audience. Each edge estimates the distinct players that asked it for a
// stream's playlists in the last seconds and reports that number on its
// playlist fills (livehdr.Viewers: "{edge}={n}"); the manager keeps the
// latest report of each edge and sums those still recent. An edge whose
// viewers all left stops asking, so its report ages out.

const (
	// viewerReportTTL is how long an edge's report counts: edges with
	// viewers fill a playlist at least every few seconds.
	viewerReportTTL = 15 * time.Second
	// maxReportingEdges bounds the reports kept per stream.
	maxReportingEdges = 1024
)

// viewerReports are the edges' latest viewer counts, by stream and edge.
type viewerReports struct {
	mu      sync.Mutex
	streams map[string]map[string]viewerReport
}

type viewerReport struct {
	n  int
	at time.Time
}

// note keeps the reports a request for stream id carries.
func (v *viewerReports) note(id string, h http.Header, now time.Time) {
	values := h[livehdr.Viewers]
	if len(values) == 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.streams == nil {
		v.streams = make(map[string]map[string]viewerReport)
	}
	for _, value := range values {
		edge, n, ok := livehdr.ParseViewers(value)
		if !ok {
			continue
		}
		edges := v.streams[id]
		if edges == nil {
			edges = make(map[string]viewerReport)
			v.streams[id] = edges
		}
		if _, known := edges[edge]; !known && len(edges) >= maxReportingEdges {
			v.pruneLocked(id, now)
			if len(edges) >= maxReportingEdges {
				continue
			}
		}
		edges[edge] = viewerReport{n: n, at: now}
	}
}

// count is the sum of the recent reports for stream id.
func (v *viewerReports) count(id string, now time.Time) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pruneLocked(id, now)
	n := 0
	for _, r := range v.streams[id] {
		n += r.n
	}
	return n
}

func (v *viewerReports) pruneLocked(id string, now time.Time) {
	edges := v.streams[id]
	for edge, r := range edges {
		if now.Sub(r.at) > viewerReportTTL {
			delete(edges, edge)
		}
	}
	if len(edges) == 0 {
		delete(v.streams, id)
	}
}
