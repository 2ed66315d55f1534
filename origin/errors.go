package origin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/streamfront/streamfront/origin/catalog"
)

// httpError is an error with the status and the sentence to answer with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, msg string) error { return &httpError{status: status, msg: msg} }

var errNotFound = errorf(http.StatusNotFound, "There is no such video, or it is not ready yet.")

// handlerFunc is a handler that returns its failure; handle maps failures
// to statuses in this one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var he *httpError
		switch {
		case errors.As(err, &he):
		case errors.Is(err, catalog.ErrNotFound):
			he = errNotFound.(*httpError) //nolint:errorlint // errNotFound is our own *httpError, never wrapped
		case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
			return // the client went away; nobody to answer
		default:
			s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
			he = &httpError{status: http.StatusInternalServerError, msg: "Something went wrong on our side; try again in a moment."}
		}
		writeError(w, he.status, he.msg)
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusNotFound {
		// Edges may keep a 404 briefly (negative caching), not longer: the
		// video may become ready any moment.
		h.Set("Cache-Control", "public, max-age=1")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
