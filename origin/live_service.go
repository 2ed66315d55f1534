package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/live"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// liveService joins the live stream manager (origin/live) to the origin:
// it tells the manager which stream a key opens, keeps the stream records
// in S3 up to date with what the manager sees, sends the webhook events,
// and turns recordings into videos.
type liveService struct {
	s       *Server
	cfg     LiveConfig
	streams liveStore
	m       *live.Manager
	log     *slog.Logger

	// noRecord holds the streams whose broadcasts are not recorded, as
	// learnt at their key check (which precedes every recording).
	mu       sync.Mutex
	noRecord map[string]bool
	// ladder holds the streams that asked for a ladder, as learnt at their
	// key check (which precedes every broadcast).
	ladder map[string]bool
	// hosted are the broadcasts this process runs (stream → broadcast),
	// from their first connection to their end, as told by the events.
	hosted map[string]int
	// recVideos are the videos the broadcasts hosted here record into
	// (recordingVideo), by stream.
	recVideos map[string]recordingVideo

	// ctx ends with the origin's background work; assemblies run under
	// it. Set by Serve before run.
	ctx context.Context
	// fanout tells the event streams open in this process.
	fanout fanout[liveEvent]
	// kind is the queue's line of recordings to make into videos; set by
	// run before any encoder is accepted.
	kind *queue.Kind
	// work is the recordings followed until ready; run waits for it.
	work sync.WaitGroup
	// hostCache remembers which origin hosts each broadcast, and
	// forwardTransport carries requests there (live_forward.go).
	hostCache        liveHosts
	forwardTransport *http.Transport
	// certs is RTMPS's certificate; nil without RTMPS.
	certs *certificateFiles
	// dvr lists the recorded segments of the broadcasts hosted here, for
	// the DVR playlists (live_dvr.go).
	dvr *dvrIndex
}

// liveEventTimeout bounds the S3 update that records one event.
const liveEventTimeout = 10 * time.Second

func newLiveService(s *Server, cfg LiveConfig) (*liveService, error) {
	ls := &liveService{s: s, cfg: cfg, streams: liveStore{s: s.store}, noRecord: map[string]bool{}, ladder: map[string]bool{}, hosted: map[string]int{},
		recVideos: map[string]recordingVideo{},
		log:       s.log.With(slog.String("component", "live")), ctx: context.Background(), dvr: newDVRIndex(),
		forwardTransport: newForwardTransport()}
	if cfg.rtmps() {
		// A missing or broken certificate fails the start, not the first
		// broadcaster.
		certs, err := newCertificateFiles(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, err
		}
		ls.certs = certs
	}
	m, err := live.New(live.Config{
		RTMPAddr:                  cfg.RTMPAddr,
		Keys:                      ls.lookupKey,
		ReconnectWindow:           cfg.ReconnectWindow,
		PartDuration:              cfg.PartTarget,
		LowLatencySegmentDuration: cfg.SegmentTarget,
		StandardSegmentDuration:   cfg.StandardSegmentTarget,
		Recorder:                  &dvrSink{next: &liveRecorder{ls: ls}, ls: ls},
		OnEvent:                   ls.onEvent,
		Logger:                    s.log,
	})
	if err != nil {
		return nil, err
	}
	ls.m = m
	// Ingest and viewers of the streams on air, on the origin's /metrics.
	if err := s.metrics.registry.Register(m); err != nil {
		return nil, fmt.Errorf("origin: live: metrics: %w", err)
	}
	return ls, nil
}

// RTMPURL is where broadcasters publish (rtmp://…/live, then
// /{stream_key}), or "" when live streaming is off.
func (s *Server) RTMPURL() string {
	if s.live == nil {
		return ""
	}
	return s.live.cfg.RTMPURL
}

// listen opens the RTMP port and the RTMPS one when configured (or takes
// the configured listeners), so a port in use fails the origin's start.
func (l *liveService) listen(ctx context.Context) ([]net.Listener, error) {
	ln := l.cfg.RTMPListener
	if ln == nil {
		var lc net.ListenConfig
		var err error
		if ln, err = lc.Listen(ctx, "tcp", l.cfg.RTMPAddr); err != nil {
			return nil, fmt.Errorf("origin: live: listen for RTMP on %s: %w", l.cfg.RTMPAddr, err)
		}
	}
	lns := []net.Listener{ln}
	if l.certs != nil {
		tln, err := l.listenRTMPS(ctx)
		if err != nil {
			ln.Close()
			return nil, err
		}
		lns = append(lns, tln)
	}
	return lns, nil
}

// run serves encoders on lns until ctx is done, then waits for the
// recordings being made into videos (which stop with ctx).
// recordingKind is the queue's line of recordings, once run has opened it.
func (l *liveService) recordingKind() *queue.Kind {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kind
}

func (l *liveService) run(ctx context.Context, lns []net.Listener) error {
	kind, err := l.s.queue.Kind(ctx, kindRecording)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	l.mu.Lock()
	l.kind = kind
	l.mu.Unlock()
	pool := queue.Pool{Kinds: []*queue.Kind{kind}, Slots: 1, Handle: l.handleRecording,
		AckWait: l.s.queue.AckWait(), Logger: l.log}
	l.work.Go(func() { _ = pool.Run(ctx) })
	l.work.Go(func() { l.runLeases(ctx, time.Now) })
	l.log.Info("live: RTMP ingest", slog.String("addr", lns[0].Addr().String()), slog.String("url", l.cfg.RTMPURL+"/{stream_key}"))
	if len(lns) > 1 {
		l.log.Info("live: RTMPS ingest", slog.String("addr", lns[1].Addr().String()), slog.String("url", l.cfg.RTMPSURL+"/{stream_key}"))
	}
	err = l.m.Serve(ctx, lns...)
	l.endHosted()
	l.work.Wait()
	return err
}

// lookupKey is the manager's key check: the key names its stream, whose
// record must hold that very key (a reset key, or a deleted stream's,
// opens nothing).
func (l *liveService) lookupKey(ctx context.Context, key string) (live.Stream, error) {
	id, ok := streamIDOfKey(key)
	if !ok {
		return live.Stream{}, live.ErrUnknownKey
	}
	rec, err := l.streams.get(ctx, id)
	if errors.Is(err, errNoLiveStream) {
		return live.Stream{}, live.ErrUnknownKey
	}
	if err != nil {
		return live.Stream{}, err
	}
	if !keyMatches(rec.StreamKey, key) {
		return live.Stream{}, live.ErrUnknownKey
	}
	l.mu.Lock()
	if rec.Record {
		delete(l.noRecord, id)
	} else {
		l.noRecord[id] = true
	}
	if rec.Ladder {
		l.ladder[id] = true
	} else {
		delete(l.ladder, id)
	}
	l.mu.Unlock()
	return live.Stream{ID: id, Latency: live.Latency(rec.Latency)}, nil
}

func (l *liveService) records(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.noRecord[id]
}

// onEvent keeps the stream's record in step with the manager and tells
// webhook receivers. Events come in order from one goroutine.
func (l *liveService) onEvent(e live.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), liveEventTimeout)
	defer cancel()
	rec, err := l.streams.update(ctx, e.StreamID, func(rec *liveStream) error {
		switch e.Kind {
		case live.EventConnected:
			if rec.Broadcast != e.Broadcast || rec.StartedAt == nil {
				at := e.At.UTC()
				rec.StartedAt, rec.EndedAt = &at, nil
			}
			rec.Status, rec.Error, rec.Broadcast = liveLive, "", e.Broadcast
			rec.HostURL = l.s.peerURL // other origins forward its viewers here
		case live.EventDisconnected:
			rec.Status, rec.Error = liveIdle, e.Reason
		case live.EventEnded:
			at := e.At.UTC()
			rec.Status, rec.EndedAt = liveEnded, &at
		case live.EventRefused:
			rec.Error = e.Reason
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNoLiveStream) {
		l.log.Warn("live: stream record not updated", slog.String("stream", e.StreamID),
			slog.String("event", string(e.Kind)), slog.Any("err", err))
	}
	if rec != nil {
		l.fanout.publish(e.StreamID, liveEvent{Kind: string(e.Kind), Status: rec.Status, Error: rec.Error})
	}
	l.mu.Lock()
	switch e.Kind {
	case live.EventConnected:
		l.hosted[e.StreamID] = e.Broadcast
	case live.EventEnded:
		delete(l.hosted, e.StreamID)
	}
	ladder := l.ladder[e.StreamID]
	l.mu.Unlock()
	if e.Kind == live.EventConnected && !e.Reconnected && ladder {
		// After the record says the broadcast is on: the worker reads it
		// to know when to stop.
		l.queueLadder(ctx, e.StreamID, e.Broadcast)
	}
	once := strconv.Itoa(e.Broadcast) + "-" + strconv.FormatInt(e.At.UnixNano(), 10)
	switch e.Kind {
	case live.EventConnected:
		l.emit(webhooks.LiveConnected, e.StreamID, once)
	case live.EventDisconnected:
		l.emit(webhooks.LiveDisconnected, e.StreamID, once)
	}
}

// endHosted ends the broadcasts this process was running when it
// stopped: no other process can continue them (their muxers were here),
// so their streams say ended and what they recorded (all of it: the
// manager's recorders are done) is made a video like that of any ended
// broadcast. A process killed outright leaves its streams' records as
// they were.
func (l *liveService) endHosted() {
	l.mu.Lock()
	hosted := l.hosted
	l.hosted = map[string]int{}
	l.mu.Unlock()
	for id, broadcast := range hosted {
		ctx, cancel := context.WithTimeout(context.Background(), liveEventTimeout)
		_, err := l.streams.update(ctx, id, func(rec *liveStream) error {
			if rec.Broadcast == broadcast {
				rec.Status = liveEnded
				rec.Error = "The server running the broadcast stopped; start the encoder again to begin a new broadcast."
			}
			return nil
		})
		if err == nil && l.records(id) {
			err = (&liveRecorder{ls: l}).EndBroadcast(ctx, id, broadcast)
		}
		cancel()
		if err != nil && !errors.Is(err, errNoLiveStream) {
			l.log.Warn("live: broadcast cut by the shutdown not ended", slog.String("stream", id), slog.Any("err", err))
		}
	}
}

// emit queues a webhook event about live stream id.
func (l *liveService) emit(typ, id, once string) {
	if l.s.hooks == nil {
		return
	}
	ev := webhooks.NewEvent(typ, webhooks.Object{Type: "live_stream", ID: id}, once, time.Now())
	if err := l.s.hooks.Emit(context.Background(), ev); err != nil {
		l.log.Warn("webhook event not queued", slog.String("stream", id), slog.String("type", typ), slog.Any("err", err))
	}
}
