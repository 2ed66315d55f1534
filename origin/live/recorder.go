package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// Sink keeps a broadcast's media as it is packaged, so the broadcast can
// become a video when it ends. The origin implements it over S3.
//
// Calls for one broadcast come from one goroutine, in order: for each
// generation (a new one starts when a reconnecting encoder changes its
// encoding, which needs new init segments), the init segment of each track,
// then its segments as they complete; EndBroadcast once the broadcast is
// over. A broadcast cut by a server shutdown gets no EndBroadcast.
type Sink interface {
	WriteInit(ctx context.Context, init RecordedInit) error
	WriteSegment(ctx context.Context, seg RecordedSegment) error
	EndBroadcast(ctx context.Context, streamID string, broadcast int) error
}

// RecordedInit is the fMP4 init segment of one track.
type RecordedInit struct {
	StreamID   string
	Broadcast  int
	Generation int
	// Track is "video1" or "audio2" (gohlslib's stream names).
	Track string
	Data  []byte
}

// RecordedSegment is one fMP4 segment (moof+mdat) of one track.
type RecordedSegment struct {
	StreamID   string
	Broadcast  int
	Generation int
	Track      string
	// Sequence is the segment's media sequence number; it grows by one
	// per segment within a generation. A hole means segments were lost
	// (the sink fell more than SegmentCount segments behind).
	Sequence int
	Duration time.Duration
	// ProgramDateTime is the wall-clock time of the segment's first frame.
	ProgramDateTime time.Time
	// Partial marks the last segment of a generation, cut short by the
	// end: the parts it had when the encoder stopped (low latency only).
	Partial bool
	Data    []byte
}

// finalCollectWait bounds how long the last collection waits for the
// muxer's handler: the media is all there, only a playlist of a muxer
// without content would wait.
const finalCollectWait = 2 * time.Second

// sinkCallTimeout bounds one Sink call, so a stuck store cannot hold a
// recorder (and the muxer it must close) forever.
const sinkCallTimeout = 30 * time.Second

// recorder copies one muxer's segments to a Sink. It reads them the way
// an edge does, through the muxer's own HTTP handler (in process, no
// network), because gohlslib offers no callback when a segment completes.
// It looks when the muxer may have completed one: after each keyframe
// (segments are cut at keyframes, see poke), and a last time before the
// muxer closes.
type recorder struct {
	sink       Sink
	mux        *gohlslib.Muxer
	streamID   string
	broadcast  int
	generation int
	tracks     []string // gohlslib stream names: video1, audio2
	log        *slog.Logger

	wake chan struct{}
	stop chan struct{}
	once sync.Once
	// ended (set before stop closes) says the broadcast is over.
	ended bool

	// Owned by run's goroutine.
	poked    bool
	initDone map[string]bool
	next     map[string]int
}

func newRecorder(sink Sink, mux *gohlslib.Muxer, streamID string, broadcast, generation int, log *slog.Logger) *recorder {
	r := &recorder{sink: sink, mux: mux, streamID: streamID, broadcast: broadcast, generation: generation,
		tracks: []string{"video1"}, log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}),
		initDone: map[string]bool{}, next: map[string]int{}}
	if len(mux.Tracks) > 1 {
		r.tracks = append(r.tracks, "audio2")
	}
	return r
}

// poke tells the recorder a keyframe went into the muxer. It never blocks
// the ingest path.
func (r *recorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// finish makes the recorder take the last media, close the muxer and, if
// ended, end the broadcast in the sink. No one may write to the muxer any
// more.
func (r *recorder) finish(ended bool) {
	r.once.Do(func() {
		r.ended = ended
		close(r.stop)
	})
}

// run records until finish; it owns closing the muxer.
func (r *recorder) run() {
	defer r.mux.Close()
	for {
		select {
		case <-r.wake:
			r.poked = true
			r.collect(false, r.stop)
		case <-r.stop:
			// A keyframe may have been written after the last wake-up.
			select {
			case <-r.wake:
				r.poked = true
			default:
			}
			// Whatever the muxer holds is there now; a request that waits
			// is for content that will never come.
			abandon := make(chan struct{})
			t := time.AfterFunc(finalCollectWait, func() { close(abandon) })
			r.collect(true, abandon)
			t.Stop()
			if r.ended {
				ctx, cancel := context.WithTimeout(context.Background(), sinkCallTimeout)
				if err := r.sink.EndBroadcast(ctx, r.streamID, r.broadcast); err != nil {
					r.log.Error("live: recording: end broadcast", slog.Any("err", err))
				}
				cancel()
			}
			return
		}
	}
}

// collect records the segments completed since the last call and, when
// final, the parts of the segment in progress.
func (r *recorder) collect(final bool, abandon <-chan struct{}) {
	// Before the first keyframe the muxer has no content, and its playlist
	// handler would wait for some.
	if !r.poked {
		return
	}
	for _, track := range r.tracks {
		if err := r.collectTrack(track, final, abandon); err != nil {
			if errors.Is(err, errAbandoned) {
				return
			}
			r.log.Warn("live: recording", slog.String("track", track), slog.Any("err", err))
		}
	}
}

func (r *recorder) collectTrack(track string, final bool, abandon <-chan struct{}) error {
	body, err := r.get(track+"_stream.m3u8", abandon)
	if err != nil {
		return err
	}
	parsed, err := playlist.Unmarshal(body)
	if err != nil {
		return fmt.Errorf("playlist: %w", err)
	}
	pl, ok := parsed.(*playlist.Media)
	if !ok {
		return fmt.Errorf("playlist: not a media playlist")
	}
	if !r.initDone[track] && pl.Map != nil {
		data, err := r.get(pl.Map.URI, abandon)
		if err != nil {
			return err
		}
		if err := r.writeInit(track, data); err != nil {
			return err
		}
		r.initDone[track] = true
	}

	var lastEnd time.Time
	for i, seg := range pl.Segments {
		seq := pl.MediaSequence + i
		if seg.DateTime != nil {
			lastEnd = seg.DateTime.Add(seg.Duration)
		} else if !lastEnd.IsZero() {
			lastEnd = lastEnd.Add(seg.Duration)
		}
		if seg.Gap || seq < r.next[track] {
			continue
		}
		if r.next[track] > 0 && seq > r.next[track] {
			r.log.Warn("live: recording lost segments: the sink is slower than the stream",
				slog.String("track", track), slog.Int("from", r.next[track]), slog.Int("to", seq-1))
		}
		data, err := r.get(seg.URI, abandon)
		if err != nil {
			return err
		}
		rs := RecordedSegment{Sequence: seq, Duration: seg.Duration, Data: data}
		if seg.DateTime != nil {
			rs.ProgramDateTime = *seg.DateTime
		}
		if err := r.writeSegment(track, rs); err != nil {
			return err
		}
		r.next[track] = seq + 1
	}

	if !final || len(pl.Parts) == 0 {
		return nil
	}
	// The segment in progress is the concatenation of its parts so far.
	rs := RecordedSegment{Sequence: pl.MediaSequence + len(pl.Segments), Partial: true, ProgramDateTime: lastEnd}
	var data bytes.Buffer
	for _, part := range pl.Parts {
		b, err := r.get(part.URI, abandon)
		if err != nil {
			return err
		}
		data.Write(b)
		rs.Duration += part.Duration
	}
	rs.Data = data.Bytes()
	if err := r.writeSegment(track, rs); err != nil {
		return err
	}
	r.next[track] = rs.Sequence + 1
	return nil
}

func (r *recorder) writeInit(track string, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), sinkCallTimeout)
	defer cancel()
	return r.sink.WriteInit(ctx, RecordedInit{StreamID: r.streamID, Broadcast: r.broadcast,
		Generation: r.generation, Track: track, Data: data})
}

func (r *recorder) writeSegment(track string, seg RecordedSegment) error {
	seg.StreamID, seg.Broadcast, seg.Generation, seg.Track = r.streamID, r.broadcast, r.generation, track
	ctx, cancel := context.WithTimeout(context.Background(), sinkCallTimeout)
	defer cancel()
	return r.sink.WriteSegment(ctx, seg)
}

// get fetches a file of the muxer through its HTTP handler, in process.
// gohlslib's playlist handler waits until the muxer has content (two
// segments for standard streams) and knows no request context, so a
// request is abandoned when r.abandon fires; the handler's goroutine then
// ends when run closes the muxer, which answers every waiting request.
func (r *recorder) get(name string, abandon <-chan struct{}) ([]byte, error) {
	// Strip what gohlslib appends to URIs; the handler wants a plain name.
	name, _, _ = strings.Cut(name, "?")
	req, err := http.NewRequest(http.MethodGet, "/"+name, nil)
	if err != nil {
		return nil, err
	}
	w := &memoryResponse{header: http.Header{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.mux.Handle(w, req)
	}()
	select {
	case <-done:
	case <-abandon:
		return nil, errAbandoned
	}
	if w.code != http.StatusOK && w.code != 0 || w.body.Len() == 0 {
		return nil, fmt.Errorf("%s: status %d, %d bytes (gone from the playlist?)", name, w.code, w.body.Len())
	}
	return w.body.Bytes(), nil
}

// errAbandoned: the muxer had nothing to give before the recorder had to
// stop waiting.
var errAbandoned = errors.New("the muxer has no content yet")

// memoryResponse is an http.ResponseWriter that keeps the response.
type memoryResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *memoryResponse) Header() http.Header { return w.header }

func (w *memoryResponse) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *memoryResponse) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}
