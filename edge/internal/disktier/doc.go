// Package disktier is the edge's disk cache tier: one file per item (a
// header the caller's Codec makes, then the body), written to a temp name
// and renamed into place, an in-memory index with a byte budget and
// W-TinyLFU admission, rebuilt by a scan on start, and every file's
// length checked against its header at rebuild and on every open.
package disktier
