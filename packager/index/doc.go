// Package index is the compact sample index of one MP4 rendition: for each
// track its codec, timing and, per sample, where its bytes are, how long it
// lasts and whether it is a keyframe; plus the segment plan cut from it.
//
// Playlists and CMAF segments are derived from an Index on demand, so a
// remuxable upload is playable as soon as its index exists. Edit lists and
// B-frame composition offsets are already baked into the timestamps here
// (browsers ignore edit lists under MSE), so everything downstream reads
// plain decode times and signed composition offsets.
//
// The binary form (Encode/Decode) is stored in S3 beside the rendition;
// Decode treats its input as untrusted and checks every count against the
// bytes that remain before allocating.
package index
