package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Sentinel errors that decide the status of a failed request. Wrap them
// with context; writeError maps them in one place.
var (
	// errOriginUnreachable: the origin (or shield) could not be connected to.
	errOriginUnreachable = errors.New("origin unreachable")
	// errOriginTimeout: the origin did not answer, or stalled, in time.
	errOriginTimeout = errors.New("origin timed out")
	// errOriginBadResponse: the origin answered something the edge cannot
	// use (a broken Content-Range, a 206 for the wrong bytes).
	errOriginBadResponse = errors.New("origin sent an unusable response")
	// errOriginBody: the origin's body broke or ended early.
	errOriginBody = errors.New("origin body incomplete")
	// errObjectChanged: a sliced object changed at the origin while being
	// served, so its slices no longer fit together.
	errObjectChanged = errors.New("object changed at the origin during the request")
	// errUnauthorized: missing or wrong admin token.
	errUnauthorized = errors.New("unauthorized")
	// errLoop: the request already passed through this edge.
	errLoop = errors.New("request loop")
	// errBadRequest: the client sent something unusable.
	errBadRequest = errors.New("bad request")
)

// originStatusError is a 5xx the origin answered during a revalidation,
// kept as an error so the stale copy can be served instead.
type originStatusError struct{ status int }

func (e originStatusError) Error() string { return fmt.Sprintf("origin answered %d", e.status) }

// classifyTransportError turns a round-trip failure into one of the
// sentinels above.
func classifyTransportError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", errOriginTimeout, err)
	case errors.Is(err, context.Canceled):
		return err
	default:
		return fmt.Errorf("%w: %w", errOriginUnreachable, err)
	}
}

// statusFor maps an error to the status and sentence sent to the client.
func statusFor(err error) (int, string) {
	var se originStatusError
	switch {
	case errors.Is(err, errAccessDenied):
		return http.StatusForbidden, accessSentence(err)
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, "missing or wrong admin token: send Authorization: Bearer <token>"
	case errors.Is(err, errLoop):
		return http.StatusLoopDetected, "this request already passed through this edge: check the Shields configuration for a cycle"
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, errOriginTimeout):
		return http.StatusGatewayTimeout, "the origin did not answer in time; try again in a few seconds"
	case errors.Is(err, errOriginUnreachable):
		return http.StatusBadGateway, "the origin is unreachable and this object is not cached; try again in a few seconds"
	case errors.As(err, &se):
		return http.StatusBadGateway, fmt.Sprintf("the origin failed (status %d) and this object is not cached; try again later", se.status)
	case errors.Is(err, errOriginBadResponse), errors.Is(err, errOriginBody), errors.Is(err, errObjectChanged):
		return http.StatusBadGateway, "the origin sent an unusable response; try again"
	case errors.Is(err, errShuttingDown):
		return http.StatusServiceUnavailable, "this edge is shutting down; retry on another edge"
	case errors.Is(err, errCorrupt):
		return http.StatusServiceUnavailable, "a damaged cache file was removed; retry the request"
	default:
		return http.StatusInternalServerError, "the edge failed to serve this request; try again"
	}
}

// writeError answers a request that failed before any header was sent.
func (e *Edge) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusFor(err)
	if status >= 500 {
		e.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	e.setEdgeHeaders(h, xcacheError, 0)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		json.NewEncoder(w).Encode(struct {
			Error string `json:"error"`
		}{msg})
	}
}
