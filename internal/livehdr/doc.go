// Package livehdr holds the HTTP fields with which the origin and the edges
// talk about live streams: the origin marks live HLS answers with their
// kind (Kind), and edges report their viewers of a stream upstream
// (Viewers). Both sides import it, so the names and the one parser of
// untrusted values cannot drift apart.
package livehdr
