// Package httprange parses HTTP Range request headers (RFC 9110 §14.1.2)
// against a representation of known size, and the Content-Range of an
// upstream's 206 and 416 answers (§14.4).
//
// It is a small, allocation-light parser of untrusted bytes shared by the edge
// cache and the origin; it has table tests and fuzz targets (FuzzParse,
// FuzzParseContentRange).
package httprange
