package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// Error is a failure that carries the status and the sentence to answer
// with. Err, when set, is logged and never shown.
type Error struct {
	Status  int
	Message string
	Err     error
}

// New returns an *Error with status and a sentence a person can act on:
// capitalised, ending with a full stop, saying what to do.
func New(status int, message string) *Error { return &Error{Status: status, Message: message} }

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Internal is the sentence of a failure no mapping knows.
const Internal = "Something went wrong on our side; try again in a moment."

// Write answers with status and {"error": message}. Headers the caller
// set on w are kept (a role's own, or a Cache-Control other than the
// default no-store); Content-Type and Content-Length are this package's.
// A HEAD answer has no body. r may be nil when the method is not HEAD.
func Write(w http.ResponseWriter, r *http.Request, status int, message string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{message}) // a struct of one string cannot fail to marshal
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Responder turns errors into answers. The zero value answers an *Error
// with its own status and anything else with 500.
type Responder struct {
	// Map gives the status and sentence of an error that is not an *Error;
	// ok false leaves it a 500. It may be nil.
	Map func(err error) (status int, message string, ok bool)
	// Header, when set, adds the role's headers to every error answer
	// (the edge's X-Cache and X-Edge, the origin's brief caching of 404s).
	Header func(h http.Header, status int)
	// Logger receives failures answered with a 5xx, with their error. It
	// defaults to slog.Default().
	Logger *slog.Logger
}

// Handle adapts a handler that returns its failure.
func (rs Responder) Handle(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			rs.Respond(w, r, err)
		}
	}
}

// Respond answers r, which failed with err before any header was sent. A
// request whose client went away gets no answer: nobody would read it.
func (rs Responder) Respond(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	status, message := rs.StatusOf(err)
	if status >= 500 {
		log := rs.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	// What the handler set for a success (a long Cache-Control) must not
	// make its failure cacheable; the role's Header may say otherwise.
	w.Header().Set("Cache-Control", "no-store")
	if rs.Header != nil {
		rs.Header(w.Header(), status)
	}
	Write(w, r, status, message)
}

// StatusOf is the status and sentence err is answered with.
func (rs Responder) StatusOf(err error) (int, string) {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Status, e.Message
	}
	if rs.Map != nil {
		if status, message, ok := rs.Map(err); ok {
			return status, message
		}
	}
	return http.StatusInternalServerError, Internal
}
