package steering

import (
	"net/http"
)

// serveRedirect answers every other GET under /videos/ (progressive MP4
// downloads, thumbnails, a playlist asked of the router directly) with a
// 302 to the same path on the best edge, keeping the query string byte for
// byte: signed tokens ride in it. A plain download cannot be steered
// later, so the choice is the router's alone: health, then the router's
// round-trip time to each edge.
func (rt *Router) serveRedirect(w http.ResponseWriter, r *http.Request) error {
	order := orderPathways(rt.statuses(), viewerReport{}, -1)
	e := rt.edgesByName(order[:1])[0]
	location := e.URL + r.URL.EscapedPath()
	if q := safeQuery(r.URL.RawQuery); q != "" {
		location += "?" + q
	}
	h := w.Header()
	rt.setCommonHeaders(h)
	h.Set("Location", location)
	// Another viewer (or this one, later) may be better served elsewhere.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Steering-Pathway", e.Name)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusFound)
	return nil
}
