// Package hlsattr reads and writes HLS attribute lists (RFC 8216 §4.2,
// `NAME=value,NAME="quoted"`), for the router's master playlist rewrite
// (edge/steering) and the edge's token rewrite of URI attributes
// (edge/access_rewrite.go): one walker, so the two never disagree on
// where an attribute begins.
package hlsattr
