package steering

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors that decide the status of a failed request. Wrap them
// with context; writeError maps them in one place.
var (
	// errNotFound: nothing is routed at this path.
	errNotFound = errors.New("not found")
	// errMethod: the path exists but not for this method.
	errMethod = errors.New("method not allowed")
	// errEdgesFailed: no edge answered the master playlist usably.
	errEdgesFailed = errors.New("no edge could serve the master playlist")
	// errBadMaster: an edge answered something that is not a master
	// playlist the router can steer.
	errBadMaster = errors.New("the edge's master playlist cannot be steered")
)

// edgeStatusError is a 4xx an edge answered for a master playlist (the
// video does not exist, or a signed token was refused): the router passes
// the status on rather than asking the other edges, which share the origin.
type edgeStatusError struct {
	edge   string
	status int
}

func (e edgeStatusError) Error() string {
	return fmt.Sprintf("edge %s answered %d", e.edge, e.status)
}

// statusFor maps an error to the status and sentence sent to the client.
func statusFor(err error) (int, string) {
	var se edgeStatusError
	switch {
	case errors.As(err, &se) && (se.status == http.StatusNotFound || se.status == http.StatusGone):
		return se.status, "no such video: it may have been deleted, or not be ready yet"
	case errors.As(err, &se):
		return se.status, fmt.Sprintf("the edge refused the master playlist (HTTP %d)", se.status)
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, "nothing here: the router serves /videos/{id}/master.m3u8, /steer/{id}, /videos/{id}/... (redirects), /edges and /healthz"
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, "the router only answers GET and HEAD"
	case errors.Is(err, errBadMaster):
		return http.StatusBadGateway, "the edges' master playlist could not be read; the video may be broken at the origin"
	case errors.Is(err, errEdgesFailed):
		return http.StatusBadGateway, "no edge could be reached for this video; try again in a moment"
	default:
		return http.StatusInternalServerError, "the router failed unexpectedly; try again in a moment"
	}
}

// writeError answers a failed request with JSON {"error": "..."}.
func (rt *Router) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, message := statusFor(err)
	if status >= 500 {
		rt.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusMethodNotAllowed {
		h.Set("Allow", "GET, HEAD, OPTIONS")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(map[string]string{"error": message})
	}
}
