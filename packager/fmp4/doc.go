// Package fmp4 writes CMAF (fragmented MP4) init and media segments for one
// track of an index.Index, reading sample bytes from the rendition file.
//
// A media segment is styp + moof + mdat. Its size is known before a byte of
// media is read (the moof is built from the index), so it can be served
// with a Content-Length and streamed straight from S3: the only memory a
// segment costs is the moof and one copy buffer.
package fmp4
