// Package packager turns an uploaded video into what viewers request: a
// sample index per rendition, HLS playlists and CMAF segments cut from it,
// and a faststart MP4 for progressive download.
//
// It is a library: no HTTP, no S3. It reads io.ReaderAt / fmp4.Source and
// writes io.Writer; the origin wires it to S3. Sub-packages each do one
// job: mp4box (raw box walking), probe (what a file holds), index (the
// sample index and segment plan), fmp4 (CMAF segments), hls (playlists),
// transcode (ffmpeg).
package packager
