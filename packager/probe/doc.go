// Package probe reads an MP4 or MOV file's structure through an
// io.ReaderAt — the top-level box headers and the moov, never the media —
// describes its tracks, decides whether it can be remuxed as it is, and
// builds the sample index of the tracks that will be served.
//
// Over S3 a probe costs a handful of ranged GETs whatever the file's size,
// which is what makes a remuxable upload ready in well under a second.
package probe
