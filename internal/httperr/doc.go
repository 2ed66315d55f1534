// Package httperr is how every Streamfront server answers a failed
// request: one JSON shape, {"error": "<a sentence a person can act on>"}
// as application/json; charset=utf-8 (the public API contract in
// DESIGN.md), and one adapter that turns a handler's returned error into
// that answer, so each role keeps its mapping from failure to status in
// one function and its handlers just return errors.
package httperr
