// Package live is the origin's live stream manager: it takes RTMP from
// encoders (OBS, ffmpeg), packages it into HLS with gohlslib's muxer
// (low-latency HLS for streams that ask for "low" latency, plain fMP4 HLS
// for "standard"), and serves the playlists, parts and segments that edges
// pull, under /live/{id}/.
//
// One Manager runs in one origin process. The API owns the streams and
// their keys; the manager only asks it, through Config.Keys, which stream a
// publishing key belongs to. It keeps what it learns from encoders (the
// state idle → live → idle/ended, the reason an encoder was refused) and
// reports the changes as Events.
//
// Media is passed through: H.264 video and AAC audio go from the RTMP
// messages (parsed by gortmplib) into fMP4 (written by gohlslib) without
// being decoded. Anything else is refused with a reason a broadcaster can
// act on, readable in Status.
package live
