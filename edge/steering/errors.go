package steering

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/streamfront/streamfront/internal/httperr"
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
func statusFor(err error) (int, string, bool) {
	var se edgeStatusError
	switch {
	case errors.As(err, &se) && (se.status == http.StatusNotFound || se.status == http.StatusGone):
		return se.status, "There is no such video: it may have been deleted, or not be ready yet.", true
	case errors.As(err, &se):
		return se.status, fmt.Sprintf("The edge refused the master playlist (HTTP %d).", se.status), true
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, "Nothing is here: the router serves /videos/{id}/master.m3u8, /steer/{id}, /videos/{id}/... (redirects), /edges and /healthz.", true
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, "The router only answers GET and HEAD.", true
	case errors.Is(err, errBadMaster):
		return http.StatusBadGateway, "The edges' master playlist could not be read; the video may be broken at the origin.", true
	case errors.Is(err, errEdgesFailed):
		return http.StatusBadGateway, "No edge could be reached for this video; try again in a moment.", true
	default:
		return http.StatusInternalServerError, "The router failed unexpectedly; try again in a moment.", true
	}
}

// writeError answers a failed request with JSON {"error": "..."}.
func (rt *Router) writeError(w http.ResponseWriter, r *http.Request, err error) {
	rs := httperr.Responder{Map: statusFor, Logger: rt.log, Header: func(h http.Header, status int) {
		if status == http.StatusMethodNotAllowed {
			h.Set("Allow", "GET, HEAD, OPTIONS")
		}
	}}
	rs.Respond(w, r, err)
}
