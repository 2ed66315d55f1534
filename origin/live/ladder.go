package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// A live ladder is renditions below the source, encoded by a worker and
// pushed back here. Per broadcast the manager makes a ladder key (the
// stream's ID and 128 random bits, never the stream key) that the origin
// hands to the worker with the job:
//
//   - rtmp://host/live/{ladder key}.source is the source's video, served
//     to an RTMP reader (the worker's ffmpeg) on the muxer's own timeline,
//     from the next keyframe on;
//   - rtmp://host/live/{ladder key}.{rung} ("480p") publishes a rung. It
//     is packaged by a muxer of its own, video only (players take the
//     source's audio rendition with every variant), served under
//     /live/{id}/{rung}/, and listed in the multivariant playlist once it
//     has a segment.
//
// Timestamps make the rungs line up with the source: the feed carries the
// muxer's timeline, the worker's encoder keeps it (ffmpeg -copyts), and a
// rung's frames are packaged at the timestamps they come with, so a rung's
// segments and the source's audio share one timeline (what players need to
// switch and to play the source's audio with a rung). A rung frame's
// program date-time is the source frame's with the same timestamp, so the
// rung's EXT-X-PROGRAM-DATE-TIME tracks the source's exactly and the
// rung's lag is only how late its segments are listed.
//
// A rung lives as long as its publisher's connection: a worker that goes
// away takes its rungs off the multivariant at once, and the worker that
// takes the job over starts them again in new muxers (new file names), as
// a muxer that lost frames cannot go on without a hole. A new source
// muxer (an encoder reconnecting with other codec parameters) restarts the
// timeline: feeds and rungs end with it, and the worker starts again.

// feedRung is the "rung" of a ladder key that reads the source.
const feedRung = "source"

// maxRungs bounds the rungs of one broadcast.
const maxRungs = 8

// feedBuffer is how many frames a feed reader may fall behind before it
// is disconnected (at 60 fps, 8 s): the source never waits for a reader.
const feedBuffer = 512

// LadderSource is what a worker needs to encode a broadcast's ladder.
type LadderSource struct {
	// Broadcast is the broadcast the key belongs to.
	Broadcast int
	// Key opens the feed (rtmp://host/live/{Key}.source, to read) and the
	// rungs' ingest ({Key}.{rung}, to publish), for this broadcast only.
	Key string
	// Width and Height are the source's picture size; 0 before the first
	// encoder's media is known.
	Width, Height int
}

// LadderSource returns the ladder key and source size of stream id's
// broadcast, if one is on.
func (m *Manager) LadderSource(id string) (LadderSource, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[id]
	if !ok || s.muxer == nil || s.ladderSecret == "" {
		return LadderSource{}, false
	}
	w, h := s.encoding.size()
	return LadderSource{Broadcast: s.status.Broadcast, Key: id + "." + s.ladderSecret, Width: w, Height: h}, true
}

// newLadderSecret makes the random part of a broadcast's ladder key.
func newLadderSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ladderKey splits {id}.{secret}.{rung}; stream keys have no dots.
func ladderKey(key string) (id, secret, rung string, ok bool) {
	parts := strings.Split(key, ".")
	if len(parts) != 3 || !plainName(parts[0]) || !hexSecret(parts[1]) {
		return "", "", "", false
	}
	if parts[2] != feedRung && !rungName(parts[2]) {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// hexSecret accepts what newLadderSecret makes: 32 lowercase hex digits.
func hexSecret(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// rungName accepts the names of rungs: digits and a "p" ("480p").
func rungName(s string) bool {
	n, ok := strings.CutSuffix(s, "p")
	if !ok || n == "" || len(n) > 5 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ladderSet is the ladder's side of one source muxer: the feed readers
// and the mapping from the muxer's timeline to the wall clock. The
// source's writer and the readers meet here, each under mu.
type ladderSet struct {
	mu     sync.Mutex
	feeds  map[*feed]struct{}
	closed bool
	// wallZero is the wall-clock time of timeline 0 (the source's frames
	// are placed on the wall clock by their encoder's clock, see
	// mediaClock); zero until the source's first keyframe.
	wallZero time.Time
}

func newLadderSet() *ladderSet { return &ladderSet{feeds: map[*feed]struct{}{}} }

// feed is one reader of the source's video.
type feed struct {
	frames chan feedFrame
}

// feedFrame is one access unit on the muxer's timeline.
type feedFrame struct {
	pts, dts time.Duration
	au       [][]byte
}

// setWall notes when timeline 0 was on the wall clock.
func (l *ladderSet) setWall(zero time.Time) {
	l.mu.Lock()
	l.wallZero = zero
	l.mu.Unlock()
}

// wall is the wall-clock time of timeline position t.
func (l *ladderSet) wall(t time.Duration) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wallZero.IsZero() {
		return time.Now()
	}
	return l.wallZero.Add(t)
}

// write hands a frame to every reader; a reader whose buffer is full is
// cut off (its channel closed), never waited for.
func (l *ladderSet) write(f feedFrame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for r := range l.feeds {
		select {
		case r.frames <- f:
		default:
			close(r.frames)
			delete(l.feeds, r)
		}
	}
}

func (l *ladderSet) subscribe() (*feed, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false
	}
	r := &feed{frames: make(chan feedFrame, feedBuffer)}
	l.feeds[r] = struct{}{}
	return r, true
}

func (l *ladderSet) unsubscribe(r *feed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.feeds[r]; ok {
		close(r.frames)
		delete(l.feeds, r)
	}
}

// close ends every reader: the timeline they follow is over.
func (l *ladderSet) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for r := range l.feeds {
		close(r.frames)
		delete(l.feeds, r)
	}
}

// rung is one rendition of the ladder on air. Guarded by Manager.mu.
type rung struct {
	name  string
	mux   *gohlslib.Muxer
	dates *programDates
	conn  net.Conn
	// onAir: the muxer has a segment, so the multivariant lists it.
	onAir bool
}

// errLadderKey refuses a ladder key of no broadcast on this origin.
var errLadderKey = errors.New("the ladder key opens no broadcast on this server")

// serveLadder serves a connection that presented a ladder key: a worker
// reading the source, or publishing a rung.
func (m *Manager) serveLadder(sc *gortmplib.ServerConn, conn net.Conn, id, secret, name string, log *slog.Logger) error {
	if name == feedRung {
		if sc.Publish {
			_ = sc.RejectAction()
			return errors.New("refused: the source feed is read, not published")
		}
		return m.serveFeed(sc, conn, id, secret, log)
	}
	if !sc.Publish {
		_ = sc.RejectAction()
		return errors.New("refused: a rung is published, not read")
	}
	return m.publishRung(sc, conn, id, secret, name, log)
}

// subscribeFeed opens a reader of stream id's source, if secret is its
// broadcast's ladder secret.
func (m *Manager) subscribeFeed(id, secret string) (*feed, *ladderSet, encoding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[id]
	if !ok || s.muxer == nil || s.ladder == nil || !secretMatches(s.ladderSecret, secret) {
		return nil, nil, encoding{}, errLadderKey
	}
	f, ok := s.ladder.subscribe()
	if !ok {
		return nil, nil, encoding{}, errLadderKey
	}
	return f, s.ladder, s.encoding, nil
}

// serveFeed sends the source's video to an RTMP reader until the reader
// goes, falls behind, or the source's muxer ends.
func (m *Manager) serveFeed(sc *gortmplib.ServerConn, conn net.Conn, id, secret string, log *slog.Logger) error {
	f, set, enc, err := m.subscribeFeed(id, secret)
	if err != nil {
		_ = sc.RejectAction()
		return fmt.Errorf("refused: %w", err)
	}
	defer set.unsubscribe(f)
	track := &gortmplib.Track{Codec: &rtmpcodecs.H264{SPS: enc.sps, PPS: enc.pps}}
	if err := conn.SetDeadline(time.Now().Add(m.cfg.ReadTimeout)); err != nil {
		return err
	}
	w := &gortmplib.Writer{Conn: sc, Tracks: []*gortmplib.Track{track}}
	if err := w.Initialize(); err != nil {
		return err
	}
	log.Info("live: ladder feed reading", slog.String("stream", id))
	// The reader sends acknowledgements only; they are read and dropped so
	// its window never fills. The reading stops when the connection is
	// closed (below, by the reader, or by Serve at shutdown), and then so
	// does the feed: a reader gone while the source is quiet (waiting for
	// its encoder to come back) must not hold this goroutine.
	gone := make(chan struct{})
	var drained sync.WaitGroup
	defer drained.Wait()
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Time{})
	drained.Go(func() {
		defer close(gone)
		_, _ = io.Copy(io.Discard, conn)
	})
	started := false
	for {
		var fr feedFrame
		select {
		case <-gone:
			return errors.New("ladder feed: the reader went away")
		case got, ok := <-f.frames:
			if !ok {
				return errors.New("ladder feed ended (the source's muxer closed, or the reader fell behind)")
			}
			fr = got
		}
		if !started {
			if !h264.IsRandomAccess(fr.au) {
				continue
			}
			started = true
		}
		if err := conn.SetWriteDeadline(time.Now().Add(m.cfg.ReadTimeout)); err != nil {
			return err
		}
		if err := w.WriteH264(track, fr.pts, fr.dts, fr.au); err != nil {
			return fmt.Errorf("ladder feed: %w", err)
		}
	}
}

// publishRung takes a rung from a worker's encoder into a muxer of its
// own until the connection ends.
func (m *Manager) publishRung(sc *gortmplib.ServerConn, conn net.Conn, id, secret, name string, log *slog.Logger) error {
	if err := sc.AcceptAction(); err != nil {
		return err
	}
	clock := &mediaClock{Conn: sc}
	r := &gortmplib.Reader{Conn: clock}
	if err := r.Initialize(); err != nil {
		return fmt.Errorf("rung %s: %w", name, err)
	}
	enc, err := chooseEncoding(r.Tracks())
	if err != nil {
		return fmt.Errorf("rung %s: %w", name, err)
	}
	enc.audio, enc.aac = nil, nil // players take the source's audio
	rg, set, latency, err := m.goLiveRung(id, secret, name, conn, enc)
	if err != nil {
		return fmt.Errorf("refused: rung %s: %w", name, err)
	}
	defer m.releaseRung(id, rg)
	log = log.With(slog.String("stream", id), slog.String("rung", name))
	log.Info("live: rung on", slog.String("latency", string(latency)))
	w := newMuxWriter([]*gohlslib.Muxer{rg.mux}, clock, 0, log)
	w.keepTimestamps, w.wall = true, set.wall
	r.OnDataH264(enc.video, w.writeH264)
	for {
		if err := conn.SetDeadline(time.Now().Add(m.cfg.ReadTimeout)); err != nil {
			return err
		}
		if err := r.Read(); err != nil {
			log.Info("live: rung off", slog.Any("err", err))
			return nil
		}
	}
}

// goLiveRung starts rung name of stream id's broadcast.
func (m *Manager) goLiveRung(id, secret, name string, conn net.Conn, enc encoding) (*rung, *ladderSet, Latency, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[id]
	if !ok || s.muxer == nil || s.ladder == nil || m.closed || !secretMatches(s.ladderSecret, secret) {
		return nil, nil, "", errLadderKey
	}
	if _, on := s.rungs[name]; on {
		return nil, nil, "", errors.New("this rung is already being published")
	}
	if len(s.rungs) >= maxRungs {
		return nil, nil, "", fmt.Errorf("a broadcast has at most %d rungs", maxRungs)
	}
	latency := s.status.Latency
	mux, err := m.newMuxer(latency, m.segmentDuration(latency), enc)
	if err != nil {
		return nil, nil, "", err
	}
	rg := &rung{name: name, mux: mux, dates: newProgramDates(), conn: conn}
	if s.rungs == nil {
		s.rungs = map[string]*rung{}
	}
	s.rungs[name] = rg
	// The rung is listed once it has a segment: the muxer's multivariant
	// playlist answers then (or when the muxer closes).
	m.ladderWork.Go(func() {
		resp := &memoryResponse{header: http.Header{}}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/index.m3u8", nil)
		mux.Handle(resp, req)
		if resp.code != http.StatusOK {
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if cur, ok := m.streams[id]; ok && cur.rungs[name] == rg {
			rg.onAir = true
		}
	})
	return rg, s.ladder, latency, nil
}

// releaseRung takes rung rg off the air.
func (m *Manager) releaseRung(id string, rg *rung) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// A rung still listed is closed here; one closeLadderLocked took
	// off the air was closed there (a muxer is closed once).
	if s, ok := m.streams[id]; ok && s.rungs[rg.name] == rg {
		delete(s.rungs, rg.name)
		rg.mux.Close()
	}
}

// closeLadderLocked ends the feeds and rungs of s's current muxer: their
// timeline is over. The rungs' publishers are disconnected; their muxers
// close at once, so their URLs stop answering.
func (s *stream) closeLadderLocked() {
	if s.ladder != nil {
		s.ladder.close()
		s.ladder = nil
	}
	for name, rg := range s.rungs {
		rg.conn.Close()
		rg.mux.Close()
		delete(s.rungs, name)
	}
}

// rungFor returns rung name of stream id, or nil.
func (m *Manager) rungFor(id, name string) (*gohlslib.Muxer, *programDates) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.streams[id]; ok {
		if rg, ok := s.rungs[name]; ok {
			return rg.mux, rg.dates
		}
	}
	return nil, nil
}

// secretMatches compares ladder secrets in constant time.
func secretMatches(want, got string) bool {
	if want == "" || len(want) != len(got) {
		return false
	}
	var d byte
	for i := 0; i < len(want); i++ {
		d |= want[i] ^ got[i]
	}
	return d == 0
}
