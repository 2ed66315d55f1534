// Package origin is Streamfront's origin: the upload API, the catalog of
// videos, the packaging jobs, and the HTTP service that edges pull
// playlists, segments and MP4 ranges from. It is the only holder of S3
// credentials.
//
// Segments are cut from the sample index on request (just in time), so a
// remuxable upload is servable as soon as its index is stored.
package origin
