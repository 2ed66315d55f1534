package origin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/streamfront/streamfront/internal/httperr"
	"github.com/streamfront/streamfront/origin/catalog"
)

// errorf is a failure answered with status and msg, a sentence a person
// can act on.
func errorf(status int, msg string) error { return httperr.New(status, msg) }

var errNotFound = errorf(http.StatusNotFound, "There is no such video, or it is not ready yet.")

// handlerFunc is a handler that returns its failure; handle maps failures
// to statuses in this one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return s.responder().Handle(h)
}

// responder is the origin's mapping from failure to answer.
func (s *Server) responder() httperr.Responder {
	return httperr.Responder{Map: statusFor, Header: errorHeader, Logger: s.log}
}

// statusFor maps the errors handlers return that are not *httperr.Error.
func statusFor(err error) (int, string, bool) {
	if errors.Is(err, catalog.ErrNotFound) {
		e := errNotFound.(*httperr.Error) //nolint:errorlint // our own sentinel, never wrapped
		return e.Status, e.Message, true
	}
	return 0, "", false
}

// errorHeader lets edges keep a 404 briefly (negative caching), not
// longer: the video may become ready any moment.
func errorHeader(h http.Header, status int) {
	if status == http.StatusNotFound {
		h.Set("Cache-Control", "public, max-age=1")
	}
}

// writeError answers with status and msg outside a handlerFunc.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	errorHeader(w.Header(), status)
	httperr.Write(w, r, status, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
