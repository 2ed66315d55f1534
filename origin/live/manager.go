package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"
)

// Manager runs live streams for one origin process: the RTMP listener
// (Run/Serve) and the HTTP handler for their HLS (ServeHTTP).
type Manager struct {
	cfg    Config
	log    *slog.Logger
	events *eventQueue

	mu      sync.Mutex
	streams map[string]*stream // by stream ID, kept across broadcasts
	closed  bool               // Serve is shutting down: no new broadcasts, no timers

	// recorders are the recorder goroutines; Serve waits for them.
	recorders sync.WaitGroup

	// viewers are the edges' reports of their viewers (viewers.go).
	viewers viewerReports

	// ladderWork are the goroutines that wait for rungs to have a segment
	// (ladder.go); Serve waits for them.
	ladderWork sync.WaitGroup
}

// stream is the manager's record of one live stream, kept across its
// broadcasts. Every field is guarded by Manager.mu.
type stream struct {
	status Status
	// muxer packages the current broadcast; nil when none is on.
	muxer    *gohlslib.Muxer
	encoding encoding // what muxer was built for
	// dates keeps muxer's segment dates (see programDates).
	dates *programDates
	// recorder copies segments to Config.Recorder; nil without one. It
	// follows recMuxer and closes it when told to finish.
	recorder *recorder
	// recMuxer is the muxer recorded: muxer itself for low latency; for
	// standard latency a low-latency twin fed the same frames and never
	// served, because only a low-latency muxer lists the parts of its
	// unfinished segment, and the recording must not lose the last
	// seconds.
	recMuxer *gohlslib.Muxer
	// generation counts the muxers of the current broadcast.
	generation int
	// publisher is the encoder connection that holds the key, from the
	// key check on (through the analysis), or nil.
	publisher *publisher
	// timelineEnd is where the last connection's video ended on the
	// muxer's timeline (its last frame plus one frame duration); a
	// reconnection continues there.
	timelineEnd time.Duration
	// endTimer ends the broadcast when the reconnect window passes.
	endTimer *time.Timer
	// endRequested makes the publisher's release end the broadcast at once.
	endRequested bool
	// ladderSecret opens this broadcast's ladder (ladder.go); made when
	// the broadcast starts, "" when none is on.
	ladderSecret string
	// ladder is the current muxer's feed readers and wall clock; rungs
	// are the rungs on air, by name. Both end with the muxer.
	ladder *ladderSet
	rungs  map[string]*rung
}

// New checks cfg and returns a Manager; nothing listens until Run or Serve.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Manager{
		cfg:     cfg,
		log:     cfg.Logger.With(slog.String("component", "live")),
		events:  newEventQueue(),
		streams: make(map[string]*stream),
	}, nil
}

// Run listens for RTMP on cfg.RTMPAddr and serves until ctx is done.
func (m *Manager) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", m.cfg.RTMPAddr)
	if err != nil {
		return fmt.Errorf("live: listen %s: %w", m.cfg.RTMPAddr, err)
	}
	return m.Serve(ctx, ln)
}

// Serve accepts encoders on every listener in lns (plain RTMP, and RTMPS
// as a tls.NewListener) until ctx is done. Then it closes them and every
// encoder connection, waits for their goroutines, closes the muxers
// (which answers the HLS requests blocked on them) and delivers the last
// events. Broadcasts cut by shutdown do not get an EventEnded: they did not
// end, the process did.
func (m *Manager) Serve(ctx context.Context, lns ...net.Listener) error {
	if len(lns) == 0 {
		return errors.New("live: Serve needs a listener")
	}
	stopEvents := make(chan struct{})
	var eventsDone sync.WaitGroup
	eventsDone.Go(func() {
		m.events.run(stopEvents, func(e Event) {
			if m.cfg.OnEvent != nil {
				m.cfg.OnEvent(e)
			}
		})
	})

	var conns sync.WaitGroup
	var connsMu sync.Mutex
	open := make(map[net.Conn]struct{})

	// The first listener that fails stops them all: an ingest that lost
	// one of its ports is not what the operator configured.
	acceptCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var errMu sync.Mutex
	var err error
	var accepting sync.WaitGroup
	for _, ln := range lns {
		// The listeners close when acceptCtx ends (shutdown, or one
		// failed); the accept loops then return.
		context.AfterFunc(acceptCtx, func() { ln.Close() })
		m.log.Info("live: RTMP listening", slog.String("addr", ln.Addr().String()))
		accepting.Go(func() {
			for {
				conn, aerr := ln.Accept()
				if aerr != nil {
					if acceptCtx.Err() == nil {
						errMu.Lock()
						err = errors.Join(err, fmt.Errorf("live: accept on %s: %w", ln.Addr(), aerr))
						errMu.Unlock()
						stopAll()
					}
					return
				}
				connsMu.Lock()
				open[conn] = struct{}{}
				connsMu.Unlock()
				conns.Go(func() {
					defer func() {
						connsMu.Lock()
						delete(open, conn)
						connsMu.Unlock()
					}()
					m.handleConn(ctx, conn)
				})
			}
		})
	}
	accepting.Wait()

	m.mu.Lock()
	m.closed = true
	for _, s := range m.streams {
		if s.endTimer != nil {
			// A timer whose function already started finds m.closed and
			// does nothing.
			s.endTimer.Stop()
		}
	}
	m.mu.Unlock()

	connsMu.Lock()
	for c := range open {
		c.Close()
	}
	connsMu.Unlock()
	conns.Wait()

	// No connection writes any more: the muxers can close, after their
	// recorders took what they hold.
	m.mu.Lock()
	for _, s := range m.streams {
		m.closeMuxerLocked(s, false)
	}
	m.mu.Unlock()
	m.recorders.Wait()
	m.ladderWork.Wait()

	close(stopEvents)
	eventsDone.Wait()
	return err
}

// Status returns what the manager knows of stream id. A stream no encoder
// has tried yet is idle, with Broadcast 0.
func (m *Manager) Status(id string) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[id]
	if !ok {
		return Status{ID: id, State: StateIdle}
	}
	st := s.status
	if st.State == StateLive && s.publisher != nil {
		in := s.publisher.counters.snapshot()
		st.Ingest = &in
	}
	if st.State == StateLive || s.muxer != nil {
		st.Viewers = m.viewers.count(id, time.Now())
	}
	for name, rg := range s.rungs {
		if rg.onAir {
			st.Rungs = append(st.Rungs, name)
		}
	}
	slices.Sort(st.Rungs)
	return st
}

// End ends the broadcast of stream id now: its encoder is disconnected and
// its URLs stop answering. The API calls it when a stream is deleted or its
// key reset. Ending a stream that is not broadcasting does nothing.
func (m *Manager) End(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[id]
	if !ok {
		return
	}
	if s.publisher != nil {
		// The muxer must outlive its writer, and an encoder still in its
		// analysis must not go live: the publisher's goLive refuses and
		// its release ends the broadcast, once its goroutine stopped.
		s.endRequested = true
		s.publisher.conn.Close()
		return
	}
	if s.muxer != nil {
		m.endLocked(s)
	}
}

// muxerFor returns the muxer serving stream id and its dates, or nil.
func (m *Manager) muxerFor(id string) (*gohlslib.Muxer, *programDates) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.streams[id]; ok && s.muxer != nil {
		return s.muxer, s.dates
	}
	return nil, nil
}

// errAlreadyPublishing turns away a second encoder on a live stream.
var errAlreadyPublishing = errors.New("another encoder is already publishing to this stream; stop it, or wait until its connection times out")

// claim gives p the stream's key, refusing a second publisher: one writer
// per muxer is what gohlslib supports, and the broadcaster should know two
// encoders use one key.
func (m *Manager) claim(p *publisher) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("the server is shutting down")
	}
	s := m.streams[p.stream.ID]
	if s == nil {
		s = &stream{status: Status{ID: p.stream.ID, State: StateIdle, Latency: p.stream.Latency, Since: time.Now()}}
		m.streams[p.stream.ID] = s
	}
	if s.publisher != nil {
		m.refuseLocked(s, errAlreadyPublishing.Error())
		return errAlreadyPublishing
	}
	s.publisher = p
	return nil
}

// goLive starts (or continues) the broadcast with p's media: it returns the
// muxers p writes to, the recorder (or nil), and where p's media starts on
// the muxers' timeline.
func (m *Manager) goLive(p *publisher, enc encoding) ([]*gohlslib.Muxer, *recorder, *ladderSet, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[p.stream.ID]
	if s.publisher != p || m.closed || s.endRequested {
		return nil, nil, nil, 0, errors.New("the stream was ended while the encoder connected")
	}
	if s.endTimer != nil {
		s.endTimer.Stop()
		s.endTimer = nil
	}
	reconnected := s.muxer != nil
	start := time.Duration(0)
	switch {
	case reconnected && s.encoding.same(enc):
		// Same codec parameters: the muxer goes on, its init segment still
		// describes the media, and the new frames follow the old ones on
		// one timeline; players see a short stall, not a new stream.
		start = s.timelineEnd
	default:
		if reconnected {
			// New codec parameters need a new init segment, which a
			// gohlslib muxer cannot change: start a new one under the same
			// URLs. Players reload the playlist from scratch.
			m.closeMuxerLocked(s, false)
		}
		mux, err := m.newMuxer(p.stream.Latency, m.segmentDuration(p.stream.Latency), enc)
		if err != nil {
			return nil, nil, nil, 0, err
		}
		s.muxer, s.encoding, s.dates = mux, enc, newProgramDates()
		s.ladder = newLadderSet()
		if !reconnected {
			s.ladderSecret = newLadderSecret()
			s.status.Broadcast++
			s.status.Connections = 0
			s.generation = 0
		}
		s.generation++
		if m.cfg.Recorder != nil {
			s.recMuxer = mux
			if p.stream.Latency != LatencyLow {
				if s.recMuxer, err = m.newMuxer(LatencyLow, m.segmentDuration(p.stream.Latency), enc); err != nil {
					mux.Close()
					s.muxer, s.ladder = nil, nil
					return nil, nil, nil, 0, err
				}
			}
			s.recorder = newRecorder(m.cfg.Recorder, s.recMuxer, s.status.ID, s.status.Broadcast, s.generation,
				m.log.With(slog.String("stream", s.status.ID)))
			m.recorders.Go(s.recorder.run)
		}
	}
	s.status.Connections++
	s.status.State = StateLive
	s.status.Latency = p.stream.Latency
	s.status.Reason = ""
	s.status.Video, s.status.Audio = enc.videoName(), enc.audioName()
	s.status.Since = time.Now()
	m.events.push(Event{Kind: EventConnected, StreamID: s.status.ID, Broadcast: s.status.Broadcast,
		Reconnected: reconnected, At: s.status.Since})
	return s.writeTargets(), s.recorder, s.ladder, start, nil
}

// release gives the key back when p's connection ends. A live publisher
// leaves the stream idle for the reconnect window; one that never went live
// leaves its refusal reason (if any) in the status.
func (m *Manager) release(p *publisher, wasLive bool, timelineEnd time.Duration, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[p.stream.ID]
	if s.publisher != p {
		return
	}
	s.publisher = nil
	if !wasLive {
		if s.endRequested {
			// End came while this encoder was in its analysis (which is
			// why it failed); a broadcast in its reconnect window ends now.
			s.endRequested = false
			if s.muxer != nil && !m.closed {
				m.endLocked(s)
			}
			return
		}
		if reason != "" {
			m.refuseLocked(s, reason)
		}
		return
	}
	s.timelineEnd = timelineEnd
	now := time.Now()
	s.status.State, s.status.Since, s.status.Reason = StateIdle, now, reason
	m.events.push(Event{Kind: EventDisconnected, StreamID: s.status.ID, Broadcast: s.status.Broadcast,
		Reason: reason, At: now})
	if s.endRequested || m.closed {
		if !m.closed {
			m.endLocked(s)
		}
		return
	}
	var timer *time.Timer
	timer = time.AfterFunc(m.cfg.ReconnectWindow, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		// The window may have closed on a reconnection (goLive stops the
		// timer, but one that already fired waits here for the lock, and
		// by then the encoder may even have left again under a new timer)
		// or on shutdown: end the broadcast only if this timer's window is
		// still the current one. timer is assigned under m.mu, before
		// this function can take it.
		if m.closed || s.endTimer != timer {
			return
		}
		m.endLocked(s)
	})
	s.endTimer = timer
}

// endLocked ends s's broadcast. No publisher may be writing to its muxer.
func (m *Manager) endLocked(s *stream) {
	if s.endTimer != nil {
		s.endTimer.Stop()
		s.endTimer = nil
	}
	m.closeMuxerLocked(s, true)
	s.ladderSecret = ""
	s.endRequested = false
	s.timelineEnd = 0
	s.status.State, s.status.Since = StateEnded, time.Now()
	m.events.push(Event{Kind: EventEnded, StreamID: s.status.ID, Broadcast: s.status.Broadcast, At: s.status.Since})
}

func (m *Manager) refuseLocked(s *stream, reason string) {
	s.status.Reason = reason
	m.events.push(Event{Kind: EventRefused, StreamID: s.status.ID, Broadcast: s.status.Broadcast,
		Reason: reason, At: time.Now()})
}

// closeMuxerLocked retires s's muxer: its URLs stop answering at once, and
// the recorder (if any) takes the last media before closing it. ended says
// the broadcast is over (not just this muxer). No publisher may be writing.
func (m *Manager) closeMuxerLocked(s *stream, ended bool) {
	if s.muxer == nil {
		return
	}
	s.closeLadderLocked()
	if s.recorder != nil {
		s.recorder.finish(ended)
	}
	if s.recorder == nil || s.recMuxer != s.muxer {
		s.muxer.Close()
	}
	s.muxer, s.recMuxer, s.recorder, s.dates = nil, nil, nil, nil
}

// writeTargets are the muxers a publisher of s writes to.
func (s *stream) writeTargets() []*gohlslib.Muxer {
	if s.recMuxer == nil || s.recMuxer == s.muxer {
		return []*gohlslib.Muxer{s.muxer}
	}
	return []*gohlslib.Muxer{s.muxer, s.recMuxer}
}

func (m *Manager) segmentDuration(l Latency) time.Duration {
	if l == LatencyStandard {
		return m.cfg.StandardSegmentDuration
	}
	return m.cfg.LowLatencySegmentDuration
}

// Broadcasting reports whether stream id has a broadcast on (live, or
// waiting in its reconnect window): whether its HLS answers.
func (m *Manager) Broadcasting(id string) bool {
	mux, _ := m.muxerFor(id)
	return mux != nil
}
