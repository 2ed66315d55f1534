// Package live is the origin's live stream manager: it takes RTMP from
// encoders (OBS, ffmpeg), packages it into HLS with gohlslib's muxer
// (low-latency HLS for streams that ask for "low" latency, plain fMP4 HLS
// for "standard"), serves the playlists, parts and segments that edges
// pull under /live/{id}/ (see Manager.ServeHTTP), and hands every segment
// to a Sink so a broadcast can become a video.
//
// One Manager runs in one origin process. The API owns the streams and
// their keys; the manager only asks it, through Config.Keys, which stream a
// publishing key belongs to, and keeps what it learns from encoders: the
// state (Status) and its changes (Event).
//
// Media is passed through: H.264 video and AAC audio go from the RTMP
// messages (parsed by gortmplib) into fMP4 (written by gohlslib) without
// being decoded. Anything else is refused with a reason a broadcaster can
// act on, readable in Status.Reason.
//
// # Ladder
//
// A broadcast may have renditions below the source, encoded elsewhere (by
// the origin's workers) and pushed back over RTMP with the broadcast's
// ladder key (LadderSource), never the stream key: the key reads the
// source's video on the muxer's own timeline, and publishes rungs, each
// packaged video-only in a muxer of its own under /live/{id}/{rung}/ and
// dated as the source (ladder.go). The multivariant playlist is ours
// (multivariant.go, grafov/m3u8): the source, then the rungs on air, all
// with the source's audio.
//
// # Broadcasts
//
// A stream is idle until an encoder publishes rtmp://host/live/{key} with
// a known key and sends H.264; then it is live, in broadcast N. When the
// encoder goes away the stream is idle again and the broadcast waits
// Config.ReconnectWindow:
//
//   - An encoder that comes back with the same encoding (same H.264
//     parameter sets and AAC configuration: what OBS or ffmpeg send when
//     restarted with the same settings) continues in the same muxer: same
//     URLs, same init segment, media sequence numbers going on. Its first
//     keyframe is placed one frame after the last frame before the break, so
//     the playlist has no hole and no EXT-X-DISCONTINUITY: players stall
//     for the break and play on. EXT-X-PROGRAM-DATE-TIME jumps forward by
//     the break from the next segment on.
//   - An encoder that comes back with another encoding (a new picture
//     size, another audio rate) needs a new init segment, which a gohlslib
//     muxer cannot change: a new muxer starts under the same URLs, in the
//     same broadcast. Its file names differ (a new random prefix) and its
//     media sequence starts over, so players must reload the stream.
//   - After the window the broadcast ends (EventEnded): the URLs answer 404
//     and the next encoder starts broadcast N+1.
//
// # Edges
//
// cache.go says how long edges and players may keep each file
// (CacheHeaders: playlists a second, blocking reloads a minute, parts and
// segments for ever, as their names are unique) and marks live answers
// with their kind (internal/livehdr.Kind), by which edges count parts and
// viewers. Edges report their viewers on their playlist requests
// (livehdr.Viewers); the manager sums the recent reports into
// Status.Viewers (viewers.go). The Manager is a prometheus.Collector of
// the ingest and viewers of the streams on air (metrics.go).
package live
