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
	// RTMPSAddr, when set, also takes encoders over RTMPS (RTMP in TLS)
	// there, with the certificate in TLSCertFile and TLSKeyFile (PEM,
	// read again when they change). RTMPSListener replaces listening, as
	// RTMPListener does.
	RTMPSAddr               string
	RTMPSListener           net.Listener
	TLSCertFile, TLSKeyFile string
	// RTMPSURL is the base of the rtmps_url the API gives out. It
	// defaults to rtmps://localhost:PORT/live with RTMPSAddr's port.
	RTMPSURL string
	// LadderRTMPURL is this origin's RTMP ingest as workers reach it
	// (rtmp://origin-3.internal:1935/live), for the live ladders of the
	// broadcasts it hosts: workers read the source there and publish the
	// rungs back. It must name this very process, not a balancer in front
	// of several origins. It defaults to RTMPURL.
	LadderRTMPURL string
	// ReconnectWindow is how long a broadcast whose encoder went away
	// waits for it before it ends and its recording becomes a video. It
	// defaults to 60 s.
	ReconnectWindow time.Duration
	// PartTarget is the low-latency part duration aimed for (players
	// buffer about three). It defaults to 200 ms.
	PartTarget time.Duration
	// SegmentTarget is the minimum segment duration of low-latency
	// streams; StandardSegmentTarget of standard ones, which sets their
	// latency (about 3–4 of them, see live.Config). Both default to 1 s.
	SegmentTarget, StandardSegmentTarget time.Duration
	// HostLeaseTTL is how long after the origin hosting a broadcast last
	// renewed its lease another origin takes it for dead, ends the
	// broadcast and makes its recording (live_lease.go). Shorter finds a
	// killed host sooner; each renewal is one S3 write per broadcast every
	// HostLeaseTTL×2/7. It defaults to 35 s (a renewal every 10 s).
	HostLeaseTTL time.Duration
}

func (c *LiveConfig) setDefaults() {
	if c.RTMPAddr == "" {
		c.RTMPAddr = ":1935"
	}
	if c.ReconnectWindow == 0 {
		c.ReconnectWindow = 60 * time.Second
	}
	if c.HostLeaseTTL == 0 {
		c.HostLeaseTTL = 35 * time.Second
	}
	if c.RTMPURL == "" {
		c.RTMPURL = ingestURL("rtmp", c.RTMPAddr, c.RTMPListener, "1935")
	}
	c.RTMPURL = strings.TrimRight(c.RTMPURL, "/")
	if c.LadderRTMPURL == "" {
		c.LadderRTMPURL = c.RTMPURL
	}
	c.LadderRTMPURL = strings.TrimRight(c.LadderRTMPURL, "/")
	if c.RTMPSURL == "" && (c.RTMPSAddr != "" || c.RTMPSListener != nil) {
		c.RTMPSURL = ingestURL("rtmps", c.RTMPSAddr, c.RTMPSListener, "443")
	}
	c.RTMPSURL = strings.TrimRight(c.RTMPSURL, "/")
}

// ingestURL is scheme://localhost:PORT/live for a listen address (or the
// listener's), the default a broadcaster on this machine can use.
func ingestURL(scheme, addr string, ln net.Listener, defaultPort string) string {
	if ln != nil {
		addr = ln.Addr().String()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		port = defaultPort
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/live"
}

// rtmps tells whether RTMPS ingest is on.
func (c *LiveConfig) rtmps() bool { return c.RTMPSAddr != "" || c.RTMPSListener != nil }

func (c *LiveConfig) validate() error {
	u, err := url.Parse(c.RTMPURL)
	if err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
		return fmt.Errorf("origin: Live.RTMPURL must be an rtmp:// URL like rtmp://live.example.com/live, got %q", c.RTMPURL)
	}
	if u, err := url.Parse(c.LadderRTMPURL); err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
		return fmt.Errorf("origin: Live.LadderRTMPURL must be an rtmp:// URL like rtmp://origin-3.internal:1935/live, got %q", c.LadderRTMPURL)
	}
	if c.rtmps() {
		if c.TLSCertFile == "" || c.TLSKeyFile == "" {
			return fmt.Errorf("origin: Live.RTMPSAddr needs TLSCertFile and TLSKeyFile (PEM files of the certificate broadcasters see)")
		}
		if u, err := url.Parse(c.RTMPSURL); err != nil || u.Scheme != "rtmps" || u.Host == "" {
			return fmt.Errorf("origin: Live.RTMPSURL must be an rtmps:// URL like rtmps://live.example.com/live, got %q", c.RTMPSURL)
		}
	}
	if c.ReconnectWindow < 0 {
		return fmt.Errorf("origin: Live.ReconnectWindow %s is negative", c.ReconnectWindow)
	}
	return nil
}
