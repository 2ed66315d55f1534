package origin

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// LiveConfig turns on live streaming in an origin: RTMP ingest on
// RTMPAddr, HLS of the broadcasts under the media URLs
// (/videos/{live id}/master.m3u8 …), and every broadcast recorded as a
// video. See package origin/live.
type LiveConfig struct {
	// RTMPAddr is where encoders connect. It defaults to ":1935", the
	// port OBS and ffmpeg assume for rtmp:// URLs.
	RTMPAddr string
	// RTMPListener, when set, is used instead of listening on RTMPAddr
	// (tests, and a caller that must know the port before the origin
	// starts). The origin closes it.
	RTMPListener net.Listener
	// RTMPURL is the base of the rtmp_url the API gives out, as
	// broadcasters reach this origin, e.g. "rtmp://live.example.com/live"
	// ("/{stream_key}" is appended). It defaults to rtmp://localhost:PORT/live
	// with RTMPAddr's port.
	RTMPURL string
	// ReconnectWindow is how long a broadcast whose encoder went away
	// waits for it before it ends and its recording becomes a video. It
	// defaults to 60 s.
	ReconnectWindow time.Duration
	// PartTarget is the low-latency part duration aimed for (players
	// buffer about three). It defaults to 200 ms.
	PartTarget time.Duration
	// SegmentTarget is the minimum segment duration of low-latency
	// streams; StandardSegmentTarget of standard ones. They default to 1 s
	// and 2 s.
	SegmentTarget, StandardSegmentTarget time.Duration
}

func (c *LiveConfig) setDefaults() {
	if c.RTMPAddr == "" {
		c.RTMPAddr = ":1935"
	}
	if c.ReconnectWindow == 0 {
		c.ReconnectWindow = 60 * time.Second
	}
	if c.RTMPURL == "" {
		addr := c.RTMPAddr
		if c.RTMPListener != nil {
			addr = c.RTMPListener.Addr().String()
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || port == "" {
			port = "1935"
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.RTMPURL = "rtmp://" + net.JoinHostPort(host, port) + "/live"
	}
	c.RTMPURL = strings.TrimRight(c.RTMPURL, "/")
}

func (c *LiveConfig) validate() error {
	u, err := url.Parse(c.RTMPURL)
	if err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
		return fmt.Errorf("origin: Live.RTMPURL must be an rtmp:// URL like rtmp://live.example.com/live, got %q", c.RTMPURL)
	}
	if c.ReconnectWindow < 0 {
		return fmt.Errorf("origin: Live.ReconnectWindow %s is negative", c.ReconnectWindow)
	}
	return nil
}
