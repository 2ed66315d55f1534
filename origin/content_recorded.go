package origin

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/hls"
)

// A live broadcast's recording plays, from the moment the broadcast ends,
// as it was recorded (live_recording.go): under the video's own URLs,
//
//	/videos/{id}/master.m3u8                  a variant per picture track, the sound as its audio group
//	/videos/{id}/hls/rec/{track}.m3u8         VOD playlist over the recorded segments (stored)
//	/videos/{id}/hls/rec/{track}/{file}       the recorded init segments and segments
//
// each URL the object's key below the video. The master switches to the
// video's own renditions once the first is stored; these stay, so a player
// already on them plays to the end.

// recordedName is the rendition name of a recording in URLs; a ladder
// rung may not take it (transcode.ParseLadder refuses it).
const recordedName = "rec"

func recordedPrefix(vid string) string { return catalog.VideoPrefix(vid) + "hls/" + recordedName + "/" }

func recordedKey(vid, track, file string) string { return recordedPrefix(vid) + track + "/" + file }

func recordedPlaylistKey(vid, track string) string { return recordedPrefix(vid) + track + ".m3u8" }

func recordedInitName(generation int) string { return fmt.Sprintf("%03d-init.mp4", generation) }

// recordedSegmentName names a recorded segment by its generation and
// sequence (zero-padded: S3 lists them in order), its duration in
// microseconds and its date in Unix milliseconds.
func recordedSegmentName(generation, sequence int, d time.Duration, date time.Time) string {
	return fmt.Sprintf("%03d-%010d-%d-%d.m4s", generation, sequence, d.Microseconds(), date.UnixMilli())
}

// name is the segment's object name.
func (s dvrSegment) name() string {
	return recordedSegmentName(s.generation, s.sequence, s.duration, s.date)
}

// recordedFile is what a recorded object's name says.
type recordedFile struct {
	generation int
	init       bool
	sequence   int
	duration   time.Duration
	date       time.Time
}

// Bounds of what a recorded name may say.
const (
	maxRecordedGeneration = 1e6
	maxRecordedSequence   = 1e10 - 1
	maxRecordedDurationUS = int64(time.Hour / time.Microsecond)
	maxRecordedDateMS     = int64(1e14) // year 5138
)

// parseRecordedFile reads a recorded object's name (from a URL or a
// listing). It accepts only what recordedInitName and recordedSegmentName
// write, so no URL reaches another key and one object has one URL.
func parseRecordedFile(name string) (recordedFile, bool) {
	var f recordedFile
	if g, ok := strings.CutSuffix(name, "-init.mp4"); ok {
		n, ok := digits(g, maxRecordedGeneration)
		if !ok || recordedInitName(int(n)) != name {
			return recordedFile{}, false
		}
		return recordedFile{generation: int(n), init: true}, true
	}
	base, ok := strings.CutSuffix(name, ".m4s")
	if !ok {
		return f, false
	}
	parts := strings.Split(base, "-")
	if len(parts) != 4 {
		return f, false
	}
	g, ok1 := digits(parts[0], maxRecordedGeneration)
	seq, ok2 := digits(parts[1], maxRecordedSequence)
	us, ok3 := digits(parts[2], maxRecordedDurationUS)
	ms, ok4 := digits(parts[3], maxRecordedDateMS)
	if !ok1 || !ok2 || !ok3 || !ok4 || us == 0 {
		return recordedFile{}, false
	}
	f = recordedFile{generation: int(g), sequence: int(seq), duration: time.Duration(us) * time.Microsecond,
		date: time.UnixMilli(ms).UTC()}
	if recordedSegmentName(f.generation, f.sequence, f.duration, f.date) != name {
		return recordedFile{}, false
	}
	return f, true
}

// digits reads a number of 1 to 19 decimal digits up to limit.
func digits(s string, limit int64) (int64, bool) {
	if s == "" || len(s) > 19 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n <= limit
}

// listRecording lists the recording stored under video vid, track by
// track (picture first), every segment in order: the list the hosting
// origin's DVR index would have given, for an origin that did not host
// the broadcast. Memory: one entry per segment.
func (s *core) listRecording(ctx context.Context, vid string) ([]recordedTrack, error) {
	prefix := recordedPrefix(vid)
	type listed struct {
		inits    map[int]bool
		segments []dvrSegment
	}
	byTrack := map[string]*listed{}
	err := s.store.Sizes(ctx, prefix, func(key string, size int64) {
		track, file, ok := strings.Cut(strings.TrimPrefix(key, prefix), "/")
		if !ok || !plainTrack(track) {
			return // a playlist, or not ours
		}
		f, ok := parseRecordedFile(file)
		if !ok {
			return
		}
		t := byTrack[track]
		if t == nil {
			t = &listed{inits: map[int]bool{}}
			byTrack[track] = t
		}
		if f.init {
			t.inits[f.generation] = true
			return
		}
		t.segments = append(t.segments, dvrSegment{generation: f.generation, sequence: f.sequence, size: size,
			duration: f.duration, date: f.date})
	})
	if err != nil {
		return nil, err
	}
	var tracks []recordedTrack
	for name, l := range byTrack {
		if len(l.segments) == 0 {
			continue
		}
		slices.SortFunc(l.segments, func(a, b dvrSegment) int {
			if a.generation != b.generation {
				return a.generation - b.generation
			}
			return a.sequence - b.sequence
		})
		// The DVR index's own bookkeeping numbers them and marks the
		// discontinuities, so both lists agree.
		t := &dvrTrack{inits: l.inits}
		for _, seg := range l.segments {
			t.add(seg, math.MaxInt64)
		}
		tracks = append(tracks, recordedTrack{name: name, dvrSnapshot: dvrSnapshot{segments: t.segments, inits: t.inits}})
	}
	sortTracks(tracks)
	return tracks, nil
}

// recordedMediaPlaylist is the VOD playlist of a recorded track (URIs
// relative to /videos/{id}/hls/rec/).
func recordedMediaPlaylist(t recordedTrack) []byte {
	return mediaPlaylistOf(t.dvrSnapshot, true,
		func(generation int) string { return t.name + "/" + recordedInitName(generation) },
		func(s dvrSegment) string { return t.name + "/" + s.name() })
}

// recordingDescription is what the catalog says of a recording.
type recordingDescription struct {
	hls           *catalog.RecordedHLS
	duration      time.Duration
	width, height int
	// playable: browsers decode the picture as it was recorded.
	playable bool
}

// describeRecording reads the init segments of the tracks (one small GET a
// generation) for their codecs and picture size, and their segments'
// sizes for their bitrates.
func (s *core) describeRecording(ctx context.Context, vid string, tracks []recordedTrack) (recordingDescription, error) {
	d := recordingDescription{hls: &catalog.RecordedHLS{}, playable: true}
	for i, t := range tracks {
		rt := catalog.RecordedTrack{Name: t.name}
		gens := slices.Sorted(func(yield func(int) bool) {
			for g, ok := range t.inits {
				if ok && !yield(g) {
					return
				}
			}
		})
		for _, g := range gens {
			body, _, err := s.store.Get(ctx, recordedKey(vid, t.name, recordedInitName(g)), maxDVRInit)
			if err != nil {
				return d, fmt.Errorf("recording %s: init segment of %s: %w", vid, t.name, err)
			}
			desc, err := fmp4.DescribeInit(bytes.NewReader(body))
			if err != nil {
				return d, fmt.Errorf("recording %s: init segment of %s: %w", vid, t.name, err)
			}
			// The largest picture of the generations describes the variant.
			if rt.Codecs == "" || desc.Width*desc.Height > rt.Width*rt.Height {
				rt.Codecs, rt.Width, rt.Height = desc.Codecs, desc.Width, desc.Height
			}
		}
		if rt.Codecs == "" {
			return d, fmt.Errorf("recording %s: track %s has no init segment", vid, t.name)
		}
		var total time.Duration
		var size int64
		for _, seg := range t.segments {
			total += seg.duration
			size += seg.size
			rt.Bandwidth = max(rt.Bandwidth, int64(float64(seg.size*8)/seg.duration.Seconds()))
		}
		rt.AverageBandwidth = int64(float64(size*8) / total.Seconds())
		if i == 0 {
			d.duration = total
		}
		if rt.Width > 0 {
			d.width, d.height = max(d.width, rt.Width), max(d.height, rt.Height)
			d.playable = d.playable && hls.BrowserDecodable(rt.Codecs)
		}
		d.hls.Tracks = append(d.hls.Tracks, rt)
	}
	return d, nil
}

// recordedAudioGroup is the GROUP-ID of a recording's sound.
const recordedAudioGroup = "audio"

// recordedMaster is the master playlist of a video that plays as it was
// recorded: each picture track a variant, the sound tracks its audio
// group (a recording without picture: the sound is the variant).
func recordedMaster(rec *catalog.RecordedHLS) ([]byte, error) {
	p := m3u8.NewMasterPlaylist()
	p.SetVersion(7)
	p.SetIndependentSegments(true)
	var pictures, sounds []catalog.RecordedTrack
	for _, t := range rec.Tracks {
		if t.Width > 0 {
			pictures = append(pictures, t)
		} else {
			sounds = append(sounds, t)
		}
	}
	uri := func(t catalog.RecordedTrack) string { return "hls/" + recordedName + "/" + t.Name + ".m3u8" }
	if len(pictures) == 0 {
		if len(sounds) == 0 {
			return nil, fmt.Errorf("recording: no track to list")
		}
		t := sounds[0]
		p.Append(uri(t), nil, m3u8.VariantParams{Bandwidth: clampBandwidth(t.Bandwidth),
			AverageBandwidth: clampBandwidth(t.AverageBandwidth), Codecs: t.Codecs})
		return p.Encode().Bytes(), nil
	}
	var alts []*m3u8.Alternative
	var soundPeak, soundAvg int64
	var soundCodecs string
	for i, t := range sounds {
		alts = append(alts, &m3u8.Alternative{GroupId: recordedAudioGroup, Type: "AUDIO", Name: t.Name,
			Default: i == 0, Autoselect: "YES", URI: uri(t)})
		soundPeak, soundAvg = max(soundPeak, t.Bandwidth), max(soundAvg, t.AverageBandwidth)
		if soundCodecs == "" {
			soundCodecs = t.Codecs
		}
	}
	for i, t := range pictures {
		params := m3u8.VariantParams{Bandwidth: clampBandwidth(t.Bandwidth + soundPeak),
			AverageBandwidth: clampBandwidth(t.AverageBandwidth + soundAvg), Codecs: t.Codecs,
			Resolution: fmt.Sprintf("%dx%d", t.Width, t.Height)}
		if len(alts) > 0 {
			params.Codecs += "," + soundCodecs
			params.Audio = recordedAudioGroup
			if i == 0 {
				params.Alternatives = alts // grafov writes a variant's alternatives before it
			}
		}
		p.Append(uri(t), nil, params)
	}
	return p.Encode().Bytes(), nil
}

func clampBandwidth(v int64) uint32 { return uint32(min(max(v, 1), math.MaxUint32)) }

// serveRecorded answers a file of a recording: a track's playlist (file
// "") or a recorded object, streamed from S3.
func (s *Server) serveRecorded(w http.ResponseWriter, r *http.Request, v *catalog.Video, track, file string) error {
	if v.Recorded == nil || !plainTrack(track) {
		return errNotFound
	}
	picture, known := false, false
	for _, t := range v.Recorded.Tracks {
		if t.Name == track {
			known, picture = true, t.Width > 0
		}
	}
	if !known {
		return errNotFound
	}
	key, ctype := recordedPlaylistKey(v.ID, track), typePlaylist
	if file != "" {
		f, ok := parseRecordedFile(file)
		if !ok {
			return errNotFound
		}
		key, ctype = recordedKey(v.ID, track, file), typeMP4
		// Delivered time counts the picture's segments (or the sound's,
		// when there is no picture), as for the other segments.
		if !f.init && (picture || v.Height == 0) {
			setMediaDuration(w, f.duration)
		}
	}
	info, err := s.store.Head(r.Context(), key)
	if err != nil {
		return err // a missing object maps to 404 in handle
	}
	return s.serveStored(w, r, key, ctype, info)
}
