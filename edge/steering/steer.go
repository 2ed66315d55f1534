package steering

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query parameters of steering requests.
const (
	// rttParamPrefix starts the parameters in which a player reports its
	// own round-trip time to each edge, in milliseconds:
	// rtt.edge-1=12.5&rtt.edge-2=40. The router copies them into
	// RELOAD-URI, so they keep counting on later reloads even when the
	// player does not measure again.
	rttParamPrefix = "rtt."
	// pathwayParam and throughputParam are added by the player itself
	// (HLS Content Steering): the pathway in use and its throughput
	// estimate in bits per second.
	pathwayParam    = "_HLS_pathway"
	throughputParam = "_HLS_throughput"
)

// maxViewerRTT bounds a reported round-trip time; anything above is not a
// measurement worth ranking by.
const maxViewerRTT = 60 * time.Second

// steeringManifest is the Content Steering manifest (VERSION 1).
type steeringManifest struct {
	Version         int      `json:"VERSION"`
	TTL             int      `json:"TTL"`
	ReloadURI       string   `json:"RELOAD-URI,omitempty"`
	PathwayPriority []string `json:"PATHWAY-PRIORITY"`
}

// serveSteering answers GET /steer/{id} with the pathways in the order
// best for this viewer (see orderPathways).
func (rt *Router) serveSteering(w http.ResponseWriter, r *http.Request, id string) error {
	viewer := rt.viewerReport(r.URL.Query())
	order := orderPathways(rt.statuses(), viewer, rt.cfg.SwitchMargin)
	m := steeringManifest{
		Version:         1,
		TTL:             int(rt.cfg.SteeringTTL / time.Second),
		ReloadURI:       "/steer/" + id + rt.rttQuery(viewer.RTT),
		PathwayPriority: order,
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	h := w.Header()
	rt.setCommonHeaders(h)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	// Per viewer and per moment: never from a cache. (A 429 would be the
	// wrong way to shed load: hls.js 1.7 stops steering after one.)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
	rt.log.Debug("steering", "video", id, "priority", order, "viewer_rtt", viewer.RTT,
		"pathway", viewer.Current, "throughput", r.URL.Query().Get(throughputParam))
	return nil
}

// viewerReport reads what the player sent. Only configured edges are
// looked up, so a long query cannot grow the report; unusable values are
// ignored, as if not measured.
func (rt *Router) viewerReport(q url.Values) viewerReport {
	v := viewerReport{RTT: map[string]time.Duration{}}
	for _, e := range rt.cfg.Edges {
		if d, ok := parseViewerRTT(q.Get(rttParamPrefix + e.Name)); ok {
			v.RTT[e.Name] = d
		}
	}
	if cur := q.Get(pathwayParam); rt.hasEdge(cur) {
		v.Current = cur
	}
	return v
}

// parseViewerRTT parses milliseconds (a decimal number). Zero (a
// measurement below the browser's timer resolution) is kept as the
// smallest known value, since 0 means "not measured" to the ranking.
func parseViewerRTT(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	ms, err := strconv.ParseFloat(s, 64)
	// Written so that NaN, which fails every comparison, is refused too.
	if err != nil || !(ms >= 0 && ms*float64(time.Millisecond) <= float64(maxViewerRTT)) {
		return 0, false
	}
	return max(time.Duration(ms*float64(time.Millisecond)), time.Microsecond), true
}

// rttQuery writes the viewer's measurements back as a query (in
// configuration order, so equal reports give equal URIs), or "".
func (rt *Router) rttQuery(rtts map[string]time.Duration) string {
	var b strings.Builder
	for _, e := range rt.cfg.Edges {
		d, ok := rtts[e.Name]
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(rttParamPrefix + e.Name + "=")
		b.WriteString(strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64))
	}
	return b.String()
}
