package web

import (
	"context"
	"errors"
	"net/http"
)

// pageError is an error a handler returns to answer with a status and a
// sentence for the reader.
type pageError struct {
	Status  int
	Message string
	Err     error // logged, never shown
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *pageError) Unwrap() error { return e.Err }

// handlerFunc is a page handler: it writes a whole answer or returns an
// error, and handle turns the error into an error page.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h to http.HandlerFunc. The mapping from failure to status
// and sentence lives here and nowhere else.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			return // the reader left; nobody is there to answer
		}
		pe := pageErrorFor(err)
		if pe.Status >= 500 {
			s.logger.Error("web: page failed", "method", r.Method, "path", r.URL.Path, "status", pe.Status, "err", err)
		}
		s.renderError(w, r, pe)
	}
}

// pageErrorFor maps an error to what the reader sees.
func pageErrorFor(err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	if errors.Is(err, errLiveNotFound) {
		return &pageError{Status: http.StatusNotFound, Message: "This live stream does not exist, or it was deleted.", Err: err}
	}
	if errors.Is(err, errVideoNotFound) {
		return &pageError{Status: http.StatusNotFound, Message: "This video does not exist, or it was deleted.", Err: err}
	}
	var apiErr *apiError
	if errors.As(err, &apiErr) {
		if apiErr.Status == http.StatusBadRequest {
			// The API's sentence says what was wrong with the request.
			return &pageError{Status: http.StatusBadRequest, Message: apiErr.Err.Error(), Err: err}
		}
		return &pageError{
			Status:  http.StatusBadGateway,
			Message: "The video service did not answer. Try again in a moment.",
			Err:     err,
		}
	}
	return &pageError{Status: http.StatusInternalServerError, Message: "Something went wrong while building this page. Try again in a moment.", Err: err}
}
