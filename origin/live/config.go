package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Latency is the packaging a stream asks for.
type Latency string

const (
	// LatencyLow packages low-latency HLS: parts of a few hundred
	// milliseconds, preload hints, blocking playlist reload and delta
	// updates. It is the default.
	LatencyLow Latency = "low"
	// LatencyStandard packages plain fMP4 HLS with whole segments only,
	// for players and CDNs that do not speak LL-HLS.
	LatencyStandard Latency = "standard"
)

// Stream is what the manager needs to know of a live stream the API created.
type Stream struct {
	// ID names the stream in URLs (/live/{id}/...). It is server-made:
	// the manager puts it in paths as it is.
	ID string
	// Latency selects the packaging. The empty value means LatencyLow.
	Latency Latency
}

// ErrUnknownKey is what a KeyLookup returns for a key that opens no stream
// (never issued, reset, or of a deleted stream).
var ErrUnknownKey = errors.New("live: unknown stream key")

// KeyLookup returns the stream a publishing key belongs to, or
// ErrUnknownKey. The manager refuses the encoder at the handshake on any
// error.
type KeyLookup func(ctx context.Context, streamKey string) (Stream, error)

// Config configures a Manager. Only Keys is required.
type Config struct {
	// RTMPAddr is where Run listens for encoders. It defaults to ":1935",
	// the port OBS and ffmpeg assume for rtmp:// URLs.
	RTMPAddr string
	// Keys tells which stream a key publishes to.
	Keys KeyLookup
	// ReconnectWindow is how long a stream whose encoder went away stays
	// idle, ready to continue the same broadcast under the same URLs,
	// before the broadcast ends. Encoders reconnect after network trouble
	// within seconds. It defaults to 60s.
	ReconnectWindow time.Duration
	// PartDuration is the minimum duration of a low-latency part. Players
	// buffer about three parts, so it drives latency. gohlslib stretches it
	// so every part holds whole frames. It defaults to 200ms.
	PartDuration time.Duration
	// LowLatencySegmentDuration is the minimum segment duration of
	// low-latency streams; a segment is cut at the first keyframe after
	// it. It defaults to 1s.
	LowLatencySegmentDuration time.Duration
	// StandardSegmentDuration is the minimum segment duration of standard
	// streams; a segment is cut at the first keyframe after it. It defaults
	// to 1s.
	//
	// It sets their latency. A plain HLS player starts, and stays, three
	// target durations behind the end of the playlist (RFC 8216 §6.3.3;
	// HOLD-BACK may not say less), and sees a new segment up to one target
	// duration after it was made, as it reloads the playlist once per
	// target duration. So glass to glass is 3 to 4 segments and a little:
	// make bench's live step measured 3.3–3.6 s p50 with 1 s segments and
	// 8 s with 2 s (over the 6 s aimed for). Those three segments are also the
	// buffer that rides out network jitter, so players are not told to
	// hold fewer: every player, not only ours, holds what the spec asks.
	// The cost: a playlist reload and a segment request per track each
	// second per viewer, twice what 2 s segments cost, and a buffer of 3 s
	// instead of 6. An encoder that sends a keyframe only every 2 s gets
	// 2 s segments whatever this says (a segment starts with a keyframe),
	// so about 8 s.
	StandardSegmentDuration time.Duration
	// SegmentCount is how many segments playlists keep. It defaults to 7,
	// the least low-latency HLS allows.
	SegmentCount int
	// MaxSegmentSize bounds one segment in memory, so an encoder that never
	// sends a keyframe cannot exhaust RAM. It defaults to 50 MB.
	MaxSegmentSize uint64
	// HandshakeTimeout bounds the time from an encoder's TCP connection to
	// the end of the stream analysis (the RTMP handshake, the publish
	// command, and the first 2 s of media gortmplib reads to find the
	// tracks), so idle or slow connections cannot pile up. It defaults to
	// 10s.
	HandshakeTimeout time.Duration
	// ReadTimeout disconnects an encoder that sends nothing for that long.
	// It defaults to 10s.
	ReadTimeout time.Duration
	// Recorder, when set, receives every broadcast's init segments and
	// segments as they are made, and the end of each broadcast, so the
	// origin can keep a recording (in S3) that becomes a video.
	Recorder Sink
	// OnEvent, when set, receives every Event in the order they happened,
	// from one goroutine the manager owns; a slow OnEvent delays later
	// events, never ingest.
	OnEvent func(Event)
	// Logger receives the manager's logs. It defaults to slog.Default().
	Logger *slog.Logger
}

// withDefaults fills the documented defaults and checks what has none.
func (c Config) withDefaults() (Config, error) {
	if c.Keys == nil {
		return c, fmt.Errorf("live: Config.Keys is required")
	}
	if c.RTMPAddr == "" {
		c.RTMPAddr = ":1935"
	}
	if c.ReconnectWindow == 0 {
		c.ReconnectWindow = 60 * time.Second
	}
	if c.PartDuration == 0 {
		c.PartDuration = 200 * time.Millisecond
	}
	if c.LowLatencySegmentDuration == 0 {
		c.LowLatencySegmentDuration = time.Second
	}
	if c.StandardSegmentDuration == 0 {
		c.StandardSegmentDuration = time.Second
	}
	if c.SegmentCount == 0 {
		c.SegmentCount = 7
	}
	if c.SegmentCount < 7 {
		return c, fmt.Errorf("live: SegmentCount %d: low-latency HLS needs at least 7", c.SegmentCount)
	}
	if c.MaxSegmentSize == 0 {
		c.MaxSegmentSize = 50 << 20
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
