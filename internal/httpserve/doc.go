// Package httpserve is the one way every Streamfront server (origin,
// worker, edge, router, web) starts and stops its http.Server.
//
// A Server refuses to run without bounds against slow or hostile clients
// (a header read timeout, an idle timeout, a header size limit): zero
// fields get the documented defaults, and a server that takes bodies or
// sends answers of unbounded length must say so with NoTimeout rather than
// by forgetting a field. When its context ends it stops accepting, drains
// requests in flight for at most ShutdownTimeout, then closes what is left
// and says so in the error it returns.
package httpserve
