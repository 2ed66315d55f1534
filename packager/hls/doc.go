// Package hls writes HLS playlists (RFC 8216) for indexed renditions with
// grafov/m3u8: a master playlist with one variant per video rendition and
// audio as its own rendition group, and VOD media playlists of CMAF
// segments. Tags grafov lacks are added through its CustomTag mechanism.
//
// URIs are relative: the master lives at {video}/master.m3u8, rendition
// playlists at {video}/hls/{rendition}/{video|audio}.m3u8, and their init
// and media segments beside them in video/ and audio/.
package hls
