// Package httprange parses HTTP Range request headers (RFC 9110 §14.1.2)
// against a representation of known size.
//
// It is a small, allocation-light parser of untrusted bytes shared by the edge
// cache and the origin; it has table tests and a fuzz target (FuzzParse).
package httprange
