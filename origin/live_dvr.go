package origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/live"
	"github.com/streamfront/streamfront/origin/store"
)

// DVR: gohlslib's muxer keeps a handful of segments, enough for the live
// edge only. The recording (live_recording.go) already puts every segment
// of a broadcast in S3 as it is made, so the DVR playlists list those
// objects, over the stream's dvr_window_s, and the segments are served from
// S3:
//
//	/videos/{live id}/dvr.m3u8                    multivariant (gohlslib's, URIs ours)
//	/videos/{live id}/dvr/{track}.m3u8            sliding window of recorded segments
//	/videos/{live id}/dvr/{b}/{g}/{track}/init.mp4         the recorded objects
//	/videos/{live id}/dvr/{b}/{g}/{track}/{sequence}.m4s   (b broadcast, g generation)
//
// The media playlists date every segment (EXT-X-PROGRAM-DATE-TIME) with the
// times the muxer gave, so a player maps a position to the wall clock and
// to the low-latency playlist; they have no ENDLIST while the broadcast is
// on, and answer 404 once it ended (its recording is a video then).
//
// The list of segments is kept in the memory of the origin that hosts the
// broadcast, fed by the recording sink as each segment is stored: that is
// the process that answers the broadcast's live playlists too, and a
// playlist request costs no S3 listing. It holds the whole broadcast, not
// only the window: when the broadcast ends, the same list is its
// recording's VOD playlists (live_recording.go). A stream that does not
// record, or whose dvr_window_s is 0, has no DVR.

// dvrSink stores the recording (next) and, for what was stored, tells the
// DVR index.
type dvrSink struct {
	next live.Sink
	ls   *liveService
}

var _ live.Sink = (*dvrSink)(nil)

func (d *dvrSink) WriteInit(ctx context.Context, in live.RecordedInit) error {
	if err := d.next.WriteInit(ctx, in); err != nil {
		return err
	}
	if d.ls.records(in.StreamID) && plainTrack(in.Track) {
		video, err := d.ls.recordingVideo(ctx, in.StreamID, in.Broadcast)
		if err != nil {
			return err
		}
		d.ls.dvr.addInit(in.StreamID, video, in.Broadcast, in.Generation, in.Track, d.windowFor(ctx, in.StreamID, in.Broadcast))
	}
	return nil
}

// windowFor is the DVR window of a broadcast: the stream's dvr_window_s,
// read once per broadcast.
func (d *dvrSink) windowFor(ctx context.Context, id string, broadcast int) time.Duration {
	if window, ok := d.ls.dvr.window(id, broadcast); ok {
		return window
	}
	return d.ls.dvrWindow(ctx, id)
}

func (d *dvrSink) WriteSegment(ctx context.Context, seg live.RecordedSegment) error {
	recorded := d.ls.records(seg.StreamID) && plainTrack(seg.Track)
	if recorded {
		// The date and duration the segment is stored and listed with.
		seg.ProgramDateTime = d.ls.dvr.dateOf(seg, time.Now())
		seg.Duration = seg.Duration.Truncate(time.Microsecond)
	}
	if err := d.next.WriteSegment(ctx, seg); err != nil {
		return err
	}
	if recorded {
		d.ls.dvr.addSegment(seg, d.windowFor(ctx, seg.StreamID, seg.Broadcast))
	}
	return nil
}

func (d *dvrSink) EndBroadcast(ctx context.Context, streamID string, broadcast int) error {
	// The index holds the whole broadcast: its list becomes the
	// recording's playlists (no S3 listing), and the DVR ends.
	video, tracks, whole := d.ls.dvr.recording(streamID, broadcast)
	d.ls.dvr.end(streamID, broadcast)
	if whole && d.ls.records(streamID) {
		return d.ls.endRecorded(ctx, streamID, broadcast, video, tracks)
	}
	return d.next.EndBroadcast(ctx, streamID, broadcast)
}

// dvrWindow is stream id's dvr_window_s (0: no DVR), or the default when
// the record cannot be read.
func (l *liveService) dvrWindow(ctx context.Context, id string) time.Duration {
	rec, err := l.streams.get(ctx, id)
	if err != nil {
		return defaultDVRWindow * time.Second
	}
	return time.Duration(max(rec.DVRWindowS, 0)) * time.Second
}

// dvrIndex holds the recorded segments of every broadcast this process
// hosts: the whole broadcast, which its recording's playlists list when it
// ends (live_recording.go), and within it the DVR window the DVR
// playlists show. Its memory is one entry (about 80 bytes) per recorded
// segment of each track, at most maxRecordedSegments a track: past that
// the oldest entries outside the window go, and the recording's list is
// then read from S3 instead.
type dvrIndex struct {
	mu         sync.Mutex
	broadcasts map[string]*dvrBroadcast // by stream ID
}

// maxRecordedSegments bounds the entries kept of one track: 2^18 is 72 h
// of 1 s segments (about 20 MB).
const maxRecordedSegments = 1 << 18

// dvrBroadcast is what one broadcast recorded.
type dvrBroadcast struct {
	broadcast int
	// video is the recording's video, under whose prefix the objects are.
	video  string
	window time.Duration
	tracks map[string]*dvrTrack
	order  []string // tracks in the order they appeared: video1, audio2
}

// dvrTrack is what one track recorded: its segments, oldest first, and
// where the DVR window begins among them.
type dvrTrack struct {
	inits    map[int]bool // generations whose init.mp4 is stored
	segments []dvrSegment
	// first is the first segment of the DVR window; windowTotal the sum
	// of the window's durations.
	first       int
	windowTotal time.Duration
	// nextMSN is the media sequence number the next segment gets: DVR
	// playlists number segments across generations, whose own sequences
	// start again.
	nextMSN int
	// discontinuities counts the discontinuities before the window
	// (EXT-X-DISCONTINUITY-SEQUENCE).
	discontinuities int
	// truncated: entries were dropped (maxRecordedSegments), so segments
	// no longer begin with the broadcast.
	truncated bool
}

// dvrSegment is one recorded segment.
type dvrSegment struct {
	msn        int
	generation int
	sequence   int
	size       int64
	duration   time.Duration
	date       time.Time
	// discontinuity: the segment does not follow the one before (another
	// generation, or segments lost between them).
	discontinuity bool
}

func newDVRIndex() *dvrIndex { return &dvrIndex{broadcasts: map[string]*dvrBroadcast{}} }

// broadcastLocked returns the window of broadcast of id, starting it
// (and forgetting an older broadcast's) when new.
func (x *dvrIndex) broadcastLocked(id string, broadcast int, window time.Duration) *dvrBroadcast {
	b := x.broadcasts[id]
	if b == nil || b.broadcast != broadcast {
		b = newDVRBroadcast(broadcast, window)
		x.broadcasts[id] = b
	}
	return b
}

func newDVRBroadcast(broadcast int, window time.Duration) *dvrBroadcast {
	return &dvrBroadcast{broadcast: broadcast, window: window, tracks: map[string]*dvrTrack{}}
}

func (b *dvrBroadcast) track(name string) *dvrTrack {
	t := b.tracks[name]
	if t == nil {
		t = &dvrTrack{inits: map[int]bool{}}
		b.tracks[name] = t
		b.order = append(b.order, name)
	}
	return t
}

// window is the DVR window of broadcast of id, when it has begun.
func (x *dvrIndex) window(id string, broadcast int) (time.Duration, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcasts[id]
	if b == nil || b.broadcast != broadcast {
		return 0, false
	}
	return b.window, true
}

// addInit notes a stored init segment of the broadcast's video.
func (x *dvrIndex) addInit(id, video string, broadcast, generation int, track string, window time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcastLocked(id, broadcast, window)
	b.video = video
	b.track(track).inits[generation] = true
}

// dateOf is the date seg is recorded with: its own, or (gohlslib dates
// only its newest segments) its predecessor's end, or now less its
// duration for an undated first one. Dates are kept to the millisecond
// and durations to the microsecond, as the objects' names hold them
// (recordedSegmentName), so the index and a listing agree to the digit.
func (x *dvrIndex) dateOf(seg live.RecordedSegment, now time.Time) time.Time {
	date := seg.ProgramDateTime
	if date.IsZero() {
		date = now.Add(-seg.Duration)
		x.mu.Lock()
		if b := x.broadcasts[seg.StreamID]; b != nil && b.broadcast == seg.Broadcast && b.tracks[seg.Track] != nil {
			if segs := b.tracks[seg.Track].segments; len(segs) > 0 {
				last := segs[len(segs)-1]
				date = last.date.Add(last.duration)
			}
		}
		x.mu.Unlock()
	}
	return date.Truncate(time.Millisecond).UTC()
}

// addSegment appends a stored segment (dated: dateOf) and slides the DVR
// window.
func (x *dvrIndex) addSegment(seg live.RecordedSegment, window time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcastLocked(seg.StreamID, seg.Broadcast, window)
	b.window = window
	if seg.Duration <= 0 {
		return
	}
	b.track(seg.Track).add(dvrSegment{generation: seg.Generation, sequence: seg.Sequence,
		size: int64(len(seg.Data)), duration: seg.Duration, date: seg.ProgramDateTime}, window)
}

// add appends s (told twice: ignored), then slides the window: the oldest
// segments leave it while the rest still span window.
func (t *dvrTrack) add(s dvrSegment, window time.Duration) {
	if n := len(t.segments); n > 0 {
		last := t.segments[n-1]
		if last.generation == s.generation && s.sequence <= last.sequence {
			return
		}
		s.discontinuity = last.generation != s.generation || s.sequence != last.sequence+1
	}
	s.msn = t.nextMSN
	t.nextMSN++
	t.segments = append(t.segments, s)
	t.windowTotal += s.duration
	for t.first < len(t.segments)-1 && t.windowTotal-t.segments[t.first].duration >= window {
		t.windowTotal -= t.segments[t.first].duration
		t.first++
		// A discontinuity at the new first segment is no longer between
		// two listed segments: it moves into the sequence.
		if t.segments[t.first].discontinuity {
			t.discontinuities++
		}
	}
	if len(t.segments) > maxRecordedSegments {
		// Keep the window, and half the entries at most.
		if drop := min(t.first, len(t.segments)/2); drop > 0 {
			t.segments = append(t.segments[:0], t.segments[drop:]...)
			t.first -= drop
			t.truncated = true
		}
	}
}

func (x *dvrIndex) end(id string, broadcast int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if b := x.broadcasts[id]; b != nil && b.broadcast <= broadcast {
		delete(x.broadcasts, id)
	}
}

// dvrSnapshot is what one playlist shows of a track.
type dvrSnapshot struct {
	broadcast       int
	segments        []dvrSegment
	inits           map[int]bool
	discontinuities int
}

// snapshot copies the DVR window of track of id's current broadcast; ok
// is false when there is nothing to show (or no DVR).
func (x *dvrIndex) snapshot(id, track string) (dvrSnapshot, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcasts[id]
	if b == nil || b.window <= 0 {
		return dvrSnapshot{}, false
	}
	t := b.tracks[track]
	if t == nil || len(t.segments) == 0 {
		return dvrSnapshot{}, false
	}
	segs := append([]dvrSegment(nil), t.segments[t.first:]...)
	segs[0].discontinuity = false
	return dvrSnapshot{broadcast: b.broadcast, segments: segs, inits: maps.Clone(t.inits),
		discontinuities: t.discontinuities}, true
}

// recordedTrack is the whole recording of one track.
type recordedTrack struct {
	name string
	dvrSnapshot
}

// recording copies every track of broadcast of id whole, for its
// recording's playlists, with the recording's video; ok is false when the
// index does not hold all of it (it hosted another broadcast, or dropped
// entries).
func (x *dvrIndex) recording(id string, broadcast int) (video string, tracks []recordedTrack, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcasts[id]
	if b == nil || b.broadcast != broadcast || b.video == "" {
		return "", nil, false
	}
	for _, name := range b.order {
		t := b.tracks[name]
		if t.truncated {
			return "", nil, false
		}
		if len(t.segments) == 0 {
			continue
		}
		tracks = append(tracks, recordedTrack{name: name, dvrSnapshot: dvrSnapshot{broadcast: b.broadcast,
			segments: slices.Clone(t.segments), inits: maps.Clone(t.inits)}})
	}
	sortTracks(tracks)
	return b.video, tracks, true
}

// segment finds a segment in the DVR window, and the video whose object
// it is.
func (x *dvrIndex) segment(id string, broadcast, generation int, track string, sequence int) (string, dvrSegment, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcasts[id]
	if b == nil || b.broadcast != broadcast || b.window <= 0 || b.tracks[track] == nil {
		return "", dvrSegment{}, false
	}
	t := b.tracks[track]
	window := t.segments[t.first:]
	// Sorted by (generation, sequence): a binary search.
	i, found := slices.BinarySearchFunc(window, dvrSegment{generation: generation, sequence: sequence}, func(a, b dvrSegment) int {
		if a.generation != b.generation {
			return a.generation - b.generation
		}
		return a.sequence - b.sequence
	})
	if !found {
		return "", dvrSegment{}, false
	}
	return b.video, window[i], true
}

// initVideo says whether the init segment of a generation is stored, and
// of which video it is.
func (x *dvrIndex) initVideo(id string, broadcast, generation int, track string) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcasts[id]
	ok := b != nil && b.broadcast == broadcast && b.window > 0 && b.tracks[track] != nil && b.tracks[track].inits[generation]
	if !ok {
		return "", false
	}
	return b.video, true
}

// hasInit says whether the init segment of a generation is in the DVR.
func (x *dvrIndex) hasInit(id string, broadcast, generation int, track string) bool {
	_, ok := x.initVideo(id, broadcast, generation, track)
	return ok
}

// tracks lists the tracks of id's broadcast that have segments in a DVR.
func (x *dvrIndex) tracks(id string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.broadcasts[id]
	if b == nil || b.window <= 0 {
		return nil
	}
	var out []string
	for _, name := range b.order {
		if len(b.tracks[name].segments) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// dvrMediaPlaylist writes the media playlist of snap (URIs relative to
// /videos/{id}/dvr/).
func dvrMediaPlaylist(snap dvrSnapshot, track string) []byte {
	return mediaPlaylistOf(snap, false,
		func(generation int) string { return dvrObjectPath(snap.broadcast, generation, track, "init.mp4") },
		func(s dvrSegment) string {
			return dvrObjectPath(snap.broadcast, s.generation, track, fmt.Sprintf("%010d.m4s", s.sequence))
		})
}

// mediaPlaylistOf writes the media playlist of snap: a sliding window
// (the DVR), or, ended, the VOD playlist of a whole recording.
func mediaPlaylistOf(snap dvrSnapshot, ended bool, initURI func(generation int) string, segmentURI func(dvrSegment) string) []byte {
	var target time.Duration
	for _, s := range snap.segments {
		target = max(target, s.duration)
	}
	var b bytes.Buffer
	b.Grow(len(snap.segments) * 110)
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	if ended {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
	}
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", int(math.Ceil(target.Seconds())))
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", snap.segments[0].msn)
	if snap.discontinuities > 0 {
		fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", snap.discontinuities)
	}
	mapped := -1
	for _, s := range snap.segments {
		if s.discontinuity {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if s.generation != mapped {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", initURI(s.generation))
			mapped = s.generation
		}
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", s.date.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		fmt.Fprintf(&b, "#EXTINF:%.5f,\n", s.duration.Seconds())
		b.WriteString(segmentURI(s))
		b.WriteByte('\n')
	}
	if ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.Bytes()
}

// dvrObjectPath is a recorded object's URL path relative to
// /videos/{id}/dvr/.
func dvrObjectPath(broadcast, generation int, track, file string) string {
	return fmt.Sprintf("%d/%d/%s/%s", broadcast, generation, track, file)
}

// dvrObject is a recorded object named by a DVR URL.
type dvrObject struct {
	broadcast, generation int
	track                 string
	init                  bool
	sequence              int
}

// errNoDVR answers every DVR URL that names nothing (that is, anything
// outside the window of a broadcast on).
var errNoDVR = errorf(http.StatusNotFound, "This live stream has no DVR window here: it is not broadcasting, or does not record.")

// parseDVRObject reads {b}/{g}/{track}/{init.mp4|n.m4s} from a URL; it
// accepts only the form dvrObjectPath writes (plain numbers, a plain track
// name), so no URL reaches outside the stream's recording and one object
// has one URL.
func parseDVRObject(b, g, track, file string) (dvrObject, bool) {
	var o dvrObject
	var okB, okG bool
	o.broadcast, okB = plainNumber(b)
	o.generation, okG = plainNumber(g)
	if !okB || !okG || o.broadcast < 1 || !plainTrack(track) {
		return dvrObject{}, false
	}
	o.track = track
	if file == "init.mp4" {
		o.init = true
		return o, true
	}
	num, ok := strings.CutSuffix(file, ".m4s")
	if !ok || len(num) != 10 || strings.Trim(num, "0123456789") != "" {
		return dvrObject{}, false
	}
	o.sequence, _ = strconv.Atoi(num)
	return o, true
}

// plainNumber reads a number as fmt writes it: digits, no sign, no
// leading zero, at most 9 of them.
func plainNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Cache lifetimes of the DVR.
const (
	// dvrPlaylistCache: a segment joins about every segment target.
	dvrPlaylistCache = "public, max-age=1"
	// dvrMediaCache: a recorded object's URL names its broadcast,
	// generation and sequence, so its bytes never change.
	dvrMediaCache = "public, max-age=31536000, immutable"
)

// maxDVRInit bounds an init segment read whole (they are a few hundred
// bytes; gohlslib's muxer makes nothing near this).
const maxDVRInit = 1 << 20

// serveDVRMaster answers dvr.m3u8: gohlslib's multivariant playlist of the
// broadcast with its URIs sent to the DVR's media playlists, so codecs,
// bandwidth and groups are the live playlist's own.
func (s *Server) serveDVRMaster(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if s.live == nil || len(s.live.dvr.tracks(id)) == 0 || !s.live.m.Broadcasting(id) {
		return errNoDVR
	}
	// The muxer has content (segments were recorded from it), so its
	// handler answers at once.
	req := inProcessGet(r.Context(), "/live/"+id+"/index.m3u8")
	var buf memoryWriter
	s.live.m.ServeHTTP(&buf, req)
	if buf.code != http.StatusOK {
		return errNoDVR
	}
	pl, err := playlist.Unmarshal(buf.body.Bytes())
	if err != nil {
		return fmt.Errorf("dvr: live multivariant of %s: %w", id, err)
	}
	mv, ok := pl.(*playlist.Multivariant)
	if !ok {
		return fmt.Errorf("dvr: live multivariant of %s is a media playlist", id)
	}
	for _, v := range mv.Variants {
		v.URI = dvrPlaylistURI(v.URI)
	}
	for _, rn := range mv.Renditions {
		if rn.URI != nil {
			u := dvrPlaylistURI(*rn.URI)
			rn.URI = &u
		}
	}
	body, err := mv.Marshal()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", dvrPlaylistCache)
	_, _ = w.Write(body)
	return nil
}

// dvrPlaylistURI maps gohlslib's "video1_stream.m3u8" to "dvr/video1.m3u8".
func dvrPlaylistURI(uri string) string {
	uri, _, _ = strings.Cut(uri, "?")
	return "dvr/" + strings.TrimSuffix(uri, "_stream.m3u8") + ".m3u8"
}

// serveDVRPlaylist answers dvr/{track}.m3u8.
func (s *Server) serveDVRPlaylist(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	track, ok := strings.CutSuffix(chi.URLParam(r, "playlist"), ".m3u8")
	if s.live == nil || !ok || !plainTrack(track) {
		return errNoDVR
	}
	snap, ok := s.live.dvr.snapshot(id, track)
	if !ok {
		return errNoDVR
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", dvrPlaylistCache)
	_, _ = w.Write(dvrMediaPlaylist(snap, track))
	return nil
}

// serveDVRObject answers a recorded init segment or segment from S3. Only
// objects in a DVR window are served: what the playlists list.
func (s *Server) serveDVRObject(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	o, ok := parseDVRObject(chi.URLParam(r, "broadcast"), chi.URLParam(r, "generation"), chi.URLParam(r, "track"), chi.URLParam(r, "file"))
	if s.live == nil || !ok {
		return errNoDVR
	}
	if o.init {
		video, ok := s.live.dvr.initVideo(id, o.broadcast, o.generation, o.track)
		if !ok {
			return errNoDVR
		}
		body, _, err := s.store.Get(r.Context(), recordedKey(video, o.track, recordedInitName(o.generation)), maxDVRInit)
		if errors.Is(err, store.ErrNotFound) {
			return errNoDVR
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Cache-Control", dvrMediaCache)
		// Edges fetch .mp4 paths in slices, with Range.
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return nil
	}
	video, seg, ok := s.live.dvr.segment(id, o.broadcast, o.generation, o.track, o.sequence)
	if !ok {
		return errNoDVR
	}
	// Streamed from S3, never held whole.
	body, err := s.store.GetRange(r.Context(), recordedKey(video, o.track, seg.name()), 0, seg.size)
	if errors.Is(err, store.ErrNotFound) {
		return errNoDVR
	}
	if err != nil {
		return err
	}
	defer body.Close()
	w.Header().Set("Content-Type", "video/iso.segment")
	w.Header().Set("Cache-Control", dvrMediaCache)
	w.Header().Set("Content-Length", strconv.FormatInt(seg.size, 10))
	setMediaDuration(w, seg.duration)
	if r.Method == http.MethodHead {
		return nil
	}
	_, _ = io.Copy(w, body)
	return nil
}

// inProcessGet is an in-process GET of path for the live manager.
func inProcessGet(ctx context.Context, path string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	return req
}

// memoryWriter keeps an in-process answer (a playlist: small).
type memoryWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *memoryWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *memoryWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *memoryWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}
