package live

import (
	"sync/atomic"
	"time"
)

// IngestStats describes what the encoder sends, averaged over the current
// connection: enough for a broadcaster to see a starved uplink or an
// encoder set to a keyframe every 10 s (which makes segments, and the
// latency of standard streams, that long).
type IngestStats struct {
	// Bitrate is the RTMP bytes received per second of media, in bit/s.
	Bitrate int64 `json:"bitrate"`
	// FrameRate is video frames per second of media.
	FrameRate float64 `json:"frame_rate"`
	// KeyframeInterval is the media time between keyframes.
	KeyframeInterval time.Duration `json:"keyframe_interval"`
	// Frames and Keyframes count the video frames packaged.
	Frames    int64 `json:"frames"`
	Keyframes int64 `json:"keyframes"`
}

// ingestCounters are written by the connection's goroutine and read by
// Status, hence atomics.
type ingestCounters struct {
	bytes     func() uint64 // the RTMP connection's received bytes
	frames    atomic.Int64
	keyframes atomic.Int64
	span      atomic.Int64 // media time from the first to the newest frame, ns
}

func (c *ingestCounters) snapshot() IngestStats {
	st := IngestStats{Frames: c.frames.Load(), Keyframes: c.keyframes.Load()}
	span := time.Duration(c.span.Load())
	if span <= 0 {
		return st
	}
	if c.bytes != nil {
		st.Bitrate = int64(float64(c.bytes()) * 8 / span.Seconds())
	}
	// frames-1 intervals span the media time.
	st.FrameRate = float64(st.Frames-1) / span.Seconds()
	if st.Keyframes > 1 {
		st.KeyframeInterval = span / time.Duration(st.Keyframes-1)
	}
	return st
}
