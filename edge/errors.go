package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/streamfront/streamfront/internal/httperr"
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
func statusFor(err error) (int, string, bool) {
	var se originStatusError
	switch {
	case errors.Is(err, errAccessDenied):
		return http.StatusForbidden, accessSentence(err), true
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, "The admin token is missing or wrong: send Authorization: Bearer <token>.", true
	case errors.Is(err, errLoop):
		return http.StatusLoopDetected, "This request already passed through this edge: check the Shields configuration for a cycle.", true
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, sentence(err.Error()), true
	case errors.Is(err, errOriginTimeout):
		return http.StatusGatewayTimeout, "The origin did not answer in time; try again in a few seconds.", true
	case errors.Is(err, errOriginUnreachable):
		return http.StatusBadGateway, "The origin is unreachable and this object is not cached; try again in a few seconds.", true
	case errors.As(err, &se):
		return http.StatusBadGateway, fmt.Sprintf("The origin failed (status %d) and this object is not cached; try again later.", se.status), true
	case errors.Is(err, errOriginBadResponse), errors.Is(err, errOriginBody), errors.Is(err, errObjectChanged):
		return http.StatusBadGateway, "The origin sent an unusable response; try again.", true
	case errors.Is(err, errShuttingDown):
		return http.StatusServiceUnavailable, "This edge is shutting down; retry on another edge.", true
	case errors.Is(err, errCorrupt):
		return http.StatusServiceUnavailable, "A damaged cache file was removed; retry the request.", true
	default:
		return http.StatusInternalServerError, "The edge failed to serve this request; try again.", true
	}
}

// sentence capitalises msg and ends it with a full stop, for the wrapped
// error texts that errBadRequest answers with.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	if c := msg[0]; 'a' <= c && c <= 'z' {
		msg = string(c-'a'+'A') + msg[1:]
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// writeError answers a request that failed before any header was sent.
func (e *Edge) writeError(w http.ResponseWriter, r *http.Request, err error) {
	// Headers set for the answer that failed (validators, Content-Range)
	// would describe a body that is not sent.
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	rs := httperr.Responder{Map: statusFor, Logger: e.log, Header: func(h http.Header, _ int) {
		e.setEdgeHeaders(h, xcacheError, 0)
	}}
	rs.Respond(w, r, err)
}
