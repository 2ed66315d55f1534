package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// publishApp is the RTMP application encoders publish to:
// rtmp://host:port/live/{stream_key}.
const publishApp = "live"

// maxKeyLen bounds the stream key we pass to Keys.
const maxKeyLen = 256

// publisher is one encoder connection that passed the key check.
type publisher struct {
	stream   Stream
	conn     net.Conn
	counters ingestCounters
}

// handleConn serves one encoder connection until it ends.
func (m *Manager) handleConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	log := m.log.With(slog.String("remote", conn.RemoteAddr().String()))
	if err := m.serveEncoder(ctx, conn, log); err != nil {
		log.Info("live: encoder connection closed", slog.Any("err", err))
	}
}

// serveEncoder runs the handshake, checks the key, analyses the tracks and
// then passes media to the muxer until the connection ends.
func (m *Manager) serveEncoder(ctx context.Context, conn net.Conn, log *slog.Logger) error {
	// One deadline covers the handshake and the analysis, so a client that
	// trickles bytes cannot hold a goroutine for long.
	if err := conn.SetDeadline(time.Now().Add(m.cfg.HandshakeTimeout)); err != nil {
		return err
	}
	sc := &gortmplib.ServerConn{RW: conn}
	if err := sc.Initialize(); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if err := sc.AcceptConn(); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	key, ok := streamKey(sc.URL)
	if id, secret, name, isLadder := ladderKey(key); ok && isLadder {
		// A worker's ladder encoder (ladder.go), reading or publishing.
		return m.serveLadder(sc, conn, id, secret, name, log)
	}
	if !sc.Publish {
		// Viewers watch HLS; RTMP is for encoders only.
		_ = sc.RejectAction()
		return errors.New("refused: RTMP play is not offered")
	}
	if !ok {
		_ = sc.RejectAction()
		// The URL is not logged: it may hold a key.
		return fmt.Errorf("refused: the publish URL is not rtmp://host/%s/{stream_key}", publishApp)
	}
	st, err := m.cfg.Keys(ctx, key)
	if err != nil {
		_ = sc.RejectAction()
		return fmt.Errorf("refused: %w", err)
	}
	if st.Latency == "" {
		st.Latency = LatencyLow
	}
	p := &publisher{stream: st, conn: conn}
	if err := m.claim(p); err != nil {
		_ = sc.RejectAction()
		return fmt.Errorf("refused: %w", err)
	}
	err = m.publish(sc, p)
	var refusal *refusalError
	switch {
	case errors.As(err, &refusal):
		m.release(p, false, 0, refusal.reason)
		return err
	case errors.Is(err, errLive):
		return nil
	default:
		m.release(p, false, 0, "")
		return err
	}
}

// streamKey takes the key out of rtmp://host/live/{key}.
func streamKey(u *url.URL) (string, bool) {
	return streamKeyFromPath(u.Path)
}

func streamKeyFromPath(p string) (string, bool) {
	app, key, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !ok || app != publishApp || key == "" || len(key) > maxKeyLen || strings.Contains(key, "/") {
		return "", false
	}
	return key, true
}

// refusalError is a refusal the broadcaster should read in the status.
type refusalError struct{ reason string }

func (e *refusalError) Error() string { return "refused: " + e.reason }

// errLive reports that publish took the stream live and has released it
// already.
var errLive = errors.New("live session over")

// publish accepts the publish command, analyses the tracks, and streams
// media into the broadcast's muxer until the connection ends.
func (m *Manager) publish(sc *gortmplib.ServerConn, p *publisher) error {
	if err := sc.AcceptAction(); err != nil {
		return err
	}
	clock := &mediaClock{Conn: sc}
	r := &gortmplib.Reader{Conn: clock}
	if err := r.Initialize(); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &refusalError{reason: "the encoder sent no usable media within " + m.cfg.HandshakeTimeout.String() + " of connecting"}
		}
		return &refusalError{reason: describeAnalysisError(err)}
	}
	clock.anchor()
	enc, err := chooseEncoding(r.Tracks())
	if err != nil {
		return &refusalError{reason: err.Error()}
	}
	// Set before goLive: from then on Status reads the counters.
	p.counters.bytes = sc.BytesReceived
	muxers, rec, ladder, start, err := m.goLive(p, enc)
	if err != nil {
		return err
	}
	w := newMuxWriter(muxers, clock, start, m.log.With(slog.String("stream", p.stream.ID)))
	w.counters = &p.counters
	w.ladder = ladder
	if rec != nil {
		w.onKeyframe = rec.poke
	}
	r.OnDataH264(enc.video, w.writeH264)
	if enc.audio != nil {
		r.OnDataMPEG4Audio(enc.audio, w.writeAAC)
	}

	var readErr error
	for {
		// Reading writes too (acknowledgements, ping responses), so both
		// deadlines move on, away from the handshake's.
		if readErr = p.conn.SetDeadline(time.Now().Add(m.cfg.ReadTimeout)); readErr != nil {
			break
		}
		if readErr = r.Read(); readErr != nil {
			break
		}
	}
	m.release(p, true, w.timelineEnd(), disconnectReason(readErr, m.cfg.ReadTimeout))
	return errLive
}

// disconnectReason explains why a live encoder went away, or says nothing
// for an ordinary end of stream.
func disconnectReason(err error, readTimeout time.Duration) string {
	var ne net.Error
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "write" && op.Timeout():
		return "the encoder did not read what the server sent for " + readTimeout.String() + " and was disconnected"
	case errors.As(err, &ne) && ne.Timeout():
		return "the encoder sent nothing for " + readTimeout.String() + " and was disconnected"
	case errors.Is(err, net.ErrClosed):
		return ""
	case err != nil && !isEOF(err):
		return "the encoder's stream could not be read (" + err.Error() + ")"
	}
	return ""
}

func isEOF(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset"))
}

// mediaClock maps the encoder's timestamps to the wall clock. gortmplib
// reads the first 2 s of media to find the tracks and replays them, so
// the arrival time of a frame is not its wall-clock time; instead, when the
// analysis ends, the newest timestamp read is taken as "now" and every
// other frame is placed from there on the encoder's own clock.
type mediaClock struct {
	gortmplib.Conn
	newest     time.Duration
	anchorTS   time.Duration
	anchorWall time.Time
}

func (c *mediaClock) Read() (message.Message, error) {
	msg, err := c.Conn.Read()
	if err != nil {
		return msg, err
	}
	var dts time.Duration
	switch msg := msg.(type) {
	case *message.Video:
		dts = msg.DTS
	case *message.Audio:
		dts = msg.DTS
	case *message.VideoExCodedFrames:
		dts = msg.DTS
	case *message.VideoExFramesX:
		dts = msg.DTS
	case *message.AudioExCodedFrames:
		dts = msg.DTS
	default:
		return msg, nil
	}
	c.newest = max(c.newest, dts)
	return msg, nil
}

// anchor ties the newest timestamp read to the wall clock now.
func (c *mediaClock) anchor() {
	c.anchorTS, c.anchorWall = c.newest, time.Now()
}

// wallclock is when the frame with encoder timestamp ts was sent, about.
func (c *mediaClock) wallclock(ts time.Duration) time.Time {
	return c.anchorWall.Add(ts - c.anchorTS)
}

// muxWriter writes one connection's media into its muxers, moved onto the
// muxers' timeline: the first keyframe lands at start, the other frames
// keep their distance to it, so video and audio stay in sync and a
// reconnection continues where the last connection stopped.
type muxWriter struct {
	targets   []muxTarget
	clock     *mediaClock
	start     time.Duration
	offset    time.Duration
	offsetSet bool
	// lastVideo is the newest video DTS written, on the muxers' timeline,
	// and videoStep the distance from the frame before it.
	lastVideo, videoStep time.Duration
	errs                 int
	log                  *slog.Logger
	params               parameterSets
	// onKeyframe, when set, runs after each keyframe reached the muxers:
	// the moments a segment can complete.
	onKeyframe func()
	counters   *ingestCounters
	// ladder, when set, receives the frames on the muxers' timeline for
	// the ladder's feed readers, and the timeline's wall clock.
	ladder *ladderSet
	// keepTimestamps places frames at the timestamps they come with (a
	// rung, whose encoder kept the source's timeline) instead of moving
	// the first keyframe to start; wall then dates them.
	keepTimestamps bool
	wall           func(time.Duration) time.Time
}

// muxTarget is a muxer with its tracks (the muxer looks them up by
// pointer, so each muxer's own are needed).
type muxTarget struct {
	mux          *gohlslib.Muxer
	video, audio *gohlslib.Track
}

func newMuxWriter(muxers []*gohlslib.Muxer, clock *mediaClock, start time.Duration, log *slog.Logger) *muxWriter {
	w := &muxWriter{clock: clock, start: start, lastVideo: -1, log: log}
	for _, mux := range muxers {
		t := muxTarget{mux: mux, video: mux.Tracks[0]}
		if len(mux.Tracks) > 1 {
			t.audio = mux.Tracks[1]
		}
		w.targets = append(w.targets, t)
	}
	h264 := w.targets[0].video.Codec.(*codecs.H264)
	w.params = parameterSets{sps: h264.SPS, pps: h264.PPS}
	return w
}

func (w *muxWriter) writeH264(pts, dts time.Duration, au [][]byte) {
	au = w.params.complete(au)
	if au == nil {
		return
	}
	if !w.offsetSet {
		// The connection's first keyframe lands exactly at start: on a
		// reconnection one frame after the last one, and decodable on its
		// own (frames before it reference pictures the muxer never had).
		if !h264.IsRandomAccess(au) {
			return
		}
		w.offset, w.offsetSet = w.start-dts, true
		if w.keepTimestamps {
			w.offset = 0
		}
	}
	t := dts + w.offset
	if w.lastVideo >= 0 && t > w.lastVideo {
		w.videoStep = t - w.lastVideo
	}
	w.lastVideo = max(w.lastVideo, t)
	var ntp time.Time
	if w.wall != nil {
		ntp = w.wall(pts + w.offset)
	} else {
		ntp = w.clock.wallclock(pts)
	}
	ts := ticks(pts+w.offset, videoClockRate)
	for _, tg := range w.targets {
		w.noteErr(tg.mux.WriteH264(tg.video, ntp, ts, au))
	}
	keyframe := h264.IsRandomAccess(au)
	if w.ladder != nil {
		if keyframe {
			w.ladder.setWall(ntp.Add(-(pts + w.offset)))
		}
		w.ladder.write(feedFrame{pts: pts + w.offset, dts: t, au: au})
	}
	if w.counters != nil {
		w.counters.frames.Add(1)
		if keyframe {
			w.counters.keyframes.Add(1)
		}
		w.counters.span.Store(int64(w.lastVideo - w.start))
	}
	if w.onKeyframe != nil && keyframe {
		w.onKeyframe()
	}
}

func (w *muxWriter) writeAAC(pts time.Duration, au []byte) {
	if !w.offsetSet {
		// Sound before the first keyframe has no picture to go with.
		return
	}
	ntp := w.clock.wallclock(pts)
	for _, tg := range w.targets {
		if tg.audio != nil {
			w.noteErr(tg.mux.WriteMPEG4Audio(tg.audio, ntp, ticks(pts+w.offset, tg.audio.ClockRate), [][]byte{au}))
		}
	}
}

// noteErr counts packaging errors: gohlslib refuses single samples (an
// impossible timestamp) without breaking the stream, so one bad frame must
// not disconnect the encoder. The first is logged, the others counted.
func (w *muxWriter) noteErr(err error) {
	if err == nil {
		return
	}
	w.errs++
	if w.errs == 1 {
		w.log.Warn("live: a frame could not be packaged", slog.Any("err", err))
	}
}

// timelineEnd is where a reconnection's first frame goes: one frame after
// the last, so the muxer sees no hole and no part grows longer than the
// others (iOS refuses a stream whose part durations change). Audio, which
// may run a few milliseconds past the video, overlaps by as much;
// gohlslib shortens the overlapped audio frame.
func (w *muxWriter) timelineEnd() time.Duration {
	if w.lastVideo < 0 {
		return w.start
	}
	return w.lastVideo + w.videoStep
}

// ticks converts d to a clock of rate Hz without overflowing for long
// broadcasts.
func ticks(d time.Duration, rate int) int64 {
	secs, rem := d/time.Second, d%time.Second
	return int64(secs)*int64(rate) + int64(rem)*int64(rate)/int64(time.Second)
}
