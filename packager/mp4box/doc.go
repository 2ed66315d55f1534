// Package mp4box walks ISO-BMFF (MP4/MOV) box structure without decoding
// it: the top-level layout of a file read through an io.ReaderAt (so a
// probe over S3 reads a few header bytes per box, never the media), child
// boxes of a raw container, and the two raw edits the packager needs
// (shifting chunk offsets when the moov moves to the front, reading a
// track's display rotation, which mp4ff does not keep).
//
// Every function treats its input as hostile: sizes are checked against
// what is there before they are used.
package mp4box
