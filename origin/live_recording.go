package origin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/live"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// A broadcast is recorded in S3 as it is made, as the fMP4 segments of
// each track, under the video it becomes (its ID is chosen at the first
// write and kept in the stream's record, RecordingOf):
//
//	videos/{video}/hls/rec/{track}/{generation}-init.mp4
//	videos/{video}/hls/rec/{track}/{generation}-{sequence}-{µs}-{ms}.m4s
//
// (recordedSegmentName: the duration in microseconds and the date in Unix
// milliseconds, so a listing alone describes the recording). When the
// broadcast ends, nothing is copied: a VOD playlist per track over those
// objects is written (from the DVR index of the origin that hosted it, or
// from a listing), and the video is ready on it. The pipeline then makes
// the video's own renditions like an upload's (job_recording.go): the
// segments joined into one MP4 as its source, remuxed, the ladder encoded;
// the master switches to them once the first is stored.

// liveRecorder is the manager's Sink, over S3.
type liveRecorder struct{ ls *liveService }

var _ live.Sink = (*liveRecorder)(nil)

// recPrefix is where recordings were kept before they were written under
// their video; a stream's delete still clears it.
func recPrefix(id string) string { return livePrefix(id) + "rec/" }

// plainTrack refuses track names that could change a key (they are
// gohlslib's: video1, audio2).
func plainTrack(t string) bool {
	if t == "" || len(t) > 32 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (r *liveRecorder) WriteInit(ctx context.Context, in live.RecordedInit) error {
	if !r.ls.records(in.StreamID) || !plainTrack(in.Track) {
		return nil
	}
	video, err := r.ls.recordingVideo(ctx, in.StreamID, in.Broadcast)
	if err != nil {
		return err
	}
	return r.ls.s.store.Put(ctx, recordedKey(video, in.Track, recordedInitName(in.Generation)), in.Data, "video/mp4")
}

// WriteSegment stores a segment; its date and duration are the ones the
// DVR index gives it (dvrSink), so its name is what the index lists.
func (r *liveRecorder) WriteSegment(ctx context.Context, seg live.RecordedSegment) error {
	if !r.ls.records(seg.StreamID) || !plainTrack(seg.Track) || seg.Duration <= 0 {
		return nil
	}
	video, err := r.ls.recordingVideo(ctx, seg.StreamID, seg.Broadcast)
	if err != nil {
		return err
	}
	name := recordedSegmentName(seg.Generation, seg.Sequence, seg.Duration, seg.ProgramDateTime)
	return r.ls.s.store.Put(ctx, recordedKey(video, seg.Track, name), seg.Data, "video/iso.segment")
}

// EndBroadcast queues making the recording a video: any origin does it
// from a listing, and one that dies doing it leaves it to another. (The
// origin that hosted the broadcast makes it at once instead, from its DVR
// index: dvrSink.EndBroadcast.)
func (r *liveRecorder) EndBroadcast(ctx context.Context, streamID string, broadcast int) error {
	if !r.ls.records(streamID) {
		return nil
	}
	video := r.ls.forgetRecordingVideo(streamID, broadcast)
	return r.ls.queueRecording(ctx, recordingJob{Stream: streamID, Broadcast: broadcast, Video: video})
}

func (l *liveService) queueRecording(ctx context.Context, job recordingJob) error {
	body, _ := json.Marshal(job)
	_, err := l.kind.Publish(ctx, fmt.Sprintf("live-recording-%s-%d", job.Stream, job.Broadcast), body)
	return err
}

// recordingVideo is the video broadcast of stream id is recorded into:
// chosen at the first write and kept in the stream's record, so every
// recorded object is the video's from the start, and any origin finds it.
// The hosting process remembers it until the end (calls for one broadcast
// come from one goroutine: it is chosen once).
func (l *liveService) recordingVideo(ctx context.Context, id string, broadcast int) (string, error) {
	l.mu.Lock()
	r, ok := l.recVideos[id]
	l.mu.Unlock()
	if ok && r.broadcast == broadcast {
		return r.video, nil
	}
	b := strconv.Itoa(broadcast)
	var video string
	_, err := l.streams.update(ctx, id, func(rec *liveStream) error {
		if rec.RecordingOf == nil {
			rec.RecordingOf = map[string]string{}
		}
		if rec.RecordingOf[b] == "" {
			rec.RecordingOf[b] = catalog.NewID(time.Now())
		}
		video = rec.RecordingOf[b]
		return nil
	})
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	l.recVideos[id] = recordingVideo{broadcast: broadcast, video: video}
	l.mu.Unlock()
	return video, nil
}

// forgetRecordingVideo drops the remembered video of a broadcast that
// ended, returning it ("" when unknown here).
func (l *liveService) forgetRecordingVideo(id string, broadcast int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.recVideos[id]
	if !ok || r.broadcast > broadcast {
		return ""
	}
	delete(l.recVideos, id)
	if r.broadcast != broadcast {
		return ""
	}
	return r.video
}

// recordingVideo is a broadcast's video, remembered by its host.
type recordingVideo struct {
	broadcast int
	video     string
}

// kindRecording is the queue's line of recordings to make into videos.
const kindRecording = "live-recording"

// recordingJob is a broadcast to make into a video.
type recordingJob struct {
	Stream    string `json:"stream"`
	Broadcast int    `json:"broadcast"`
	// Video is the recording's video when the host knew it (it is in the
	// stream's record too, unless the stream was deleted).
	Video string `json:"video,omitempty"`
}

// endRecorded makes the recording of a broadcast this process hosted a
// video at once, from the list of its segments the DVR index kept (no S3
// listing: the time this takes does not grow with the broadcast beyond
// writing its playlists). If that fails, the queue's job does it.
func (l *liveService) endRecorded(ctx context.Context, id string, broadcast int, video string, tracks []recordedTrack) error {
	l.forgetRecordingVideo(id, broadcast)
	start := time.Now()
	vid, ready, err := l.makeRecording(ctx, id, broadcast, video, tracks)
	switch {
	case errors.Is(err, errRecordingGone):
		l.log.Warn("live: nothing was recorded of the broadcast", slog.String("stream", id), slog.Int("broadcast", broadcast))
		return nil
	case err != nil:
		l.log.Warn("live: the recording is left to the queue", slog.String("stream", id), slog.Any("err", err))
		return l.queueRecording(ctx, recordingJob{Stream: id, Broadcast: broadcast, Video: video})
	}
	l.log.Info("live: the recording is a video", slog.String("stream", id), slog.String("video", vid),
		slog.Bool("ready", ready), slog.Duration("took", time.Since(start)))
	if vid != "" && !ready {
		l.work.Go(func() { l.awaitRecording(l.ctx, id, vid) })
	}
	return nil
}

// handleRecording is the queue's handler of recording jobs.
func (l *liveService) handleRecording(ctx context.Context, j *queue.Job) {
	var job recordingJob
	if err := json.Unmarshal(j.Body(), &job); err != nil || !catalog.ValidID(job.Stream) || job.Broadcast < 1 ||
		job.Video != "" && !catalog.ValidID(job.Video) {
		l.log.Error("unreadable recording job dropped", slog.String("body", string(j.Body())))
		_ = j.Drop()
		return
	}
	log := l.log.With(slog.String("stream", job.Stream), slog.Int("broadcast", job.Broadcast), slog.Int("attempt", j.Attempt))
	vid, ready, err := l.makeRecording(ctx, job.Stream, job.Broadcast, job.Video, nil)
	switch {
	case err == nil:
		_ = j.Done()
		if vid != "" && !ready {
			l.work.Go(func() { l.awaitRecording(l.ctx, job.Stream, vid) })
		}
	case ctx.Err() != nil:
		// Stopping: the pool gives the job back.
	case errors.Is(err, errRecordingGone) || j.Attempt >= maxAttempts:
		log.Error("live: recording could not be made a video", slog.Any("err", err))
		if vid != "" {
			l.s.failVideo(context.WithoutCancel(ctx), vid, "The broadcast's recording could not be made into a video: "+err.Error())
		}
		_ = j.Drop()
	default:
		log.Warn("live: making the recording a video failed; will retry", slog.Any("err", err))
		_ = j.Retry(time.Duration(j.Attempt) * 2 * time.Second)
	}
}

// errRecordingGone: nothing (usable) was recorded; trying again cannot help.
var errRecordingGone = errors.New("nothing was recorded")

// makeRecording makes broadcast of stream id a video: its playlists over
// the recorded segments (tracks, or a listing when nil), its catalog
// record, ready at once when browsers decode it, then the stream's
// video_id, the events, and the package job that makes its own renditions.
// video is the recording's video when the caller knows it. It returns the
// video's ID ("" when there is none) and whether it is ready. Repeating it
// (a redelivered job) continues with the same video.
func (l *liveService) makeRecording(ctx context.Context, id string, broadcast int, video string, tracks []recordedTrack) (string, bool, error) {
	rec, err := l.streams.get(ctx, id)
	if errors.Is(err, errNoLiveStream) {
		// Deleted: what it recorded goes too (the stream's delete may have
		// run before the last segments were written).
		if video != "" {
			if _, err := l.s.catalog.Get(ctx, video); errors.Is(err, catalog.ErrNotFound) {
				return "", false, l.s.store.DeletePrefix(ctx, catalog.VideoPrefix(video))
			}
		}
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	vid := rec.RecordingOf[strconv.Itoa(broadcast)]
	if vid == "" {
		vid = video
	}
	if vid == "" {
		return "", false, errRecordingGone // no object was ever written
	}
	v, err := l.s.catalog.Get(ctx, vid)
	if errors.Is(err, catalog.ErrNotFound) {
		if v, err = l.createRecording(ctx, rec, broadcast, vid, tracks); err != nil {
			return "", false, err
		}
	} else if err != nil {
		return vid, false, err
	}
	if _, err := l.streams.update(ctx, id, func(r *liveStream) error {
		if r.VideoID == "" || broadcast >= r.Broadcast {
			r.VideoID = vid
		}
		if !slices.Contains(r.Recordings, vid) {
			r.Recordings = append(r.Recordings, vid)
		}
		return nil
	}); err != nil && !errors.Is(err, errNoLiveStream) {
		return vid, false, err
	}
	if v.Source.Size == 0 && v.Status != catalog.Failed {
		if err := l.s.queuePackage(ctx, vid); err != nil {
			return vid, false, err
		}
	}
	ready := v.Status == catalog.Ready
	if ready {
		l.emit(webhooks.LiveRecordingReady, id, vid)
		l.fanout.publish(id, liveEvent{Kind: "recording_ready", Status: liveEnded, VideoID: vid})
	}
	return vid, ready, nil
}

// createRecording writes the recording's playlists, then its catalog
// record: ready, playing them, when browsers decode its picture.
func (l *liveService) createRecording(ctx context.Context, rec *liveStream, broadcast int, vid string, tracks []recordedTrack) (*catalog.Video, error) {
	if tracks == nil {
		var err error
		if tracks, err = l.s.listRecording(ctx, vid); err != nil {
			return nil, err
		}
	}
	if len(tracks) == 0 {
		return nil, errRecordingGone
	}
	desc, err := l.s.describeRecording(ctx, vid, tracks)
	if err != nil {
		return nil, err
	}
	for _, t := range tracks {
		body := recordedMediaPlaylist(t)
		if err := l.s.store.Put(ctx, recordedPlaylistKey(vid, t.name), body, typePlaylist); err != nil {
			return nil, err
		}
	}
	title := rec.Title
	if title == "" {
		title = "Live broadcast"
	}
	v := &catalog.Video{ID: vid, Title: title, Description: rec.Description, Tags: rec.Tags,
		Visibility: catalog.Public, Status: catalog.Processing, Stage: stageQueued,
		DurationS: desc.duration.Seconds(), Width: desc.width, Height: desc.height, Recorded: desc.hls,
		Source: catalog.Source{Key: catalog.SourceKey(vid), ContentType: "video/mp4",
			Filename: fmt.Sprintf("live-%s-%d.mp4", rec.ID, broadcast)}}
	if desc.playable {
		v.Status = catalog.Ready
	}
	if err := l.s.catalog.Create(ctx, v); err != nil {
		// Made meanwhile by another origin (the host, or the queue's job)?
		if made, gerr := l.s.catalog.Get(ctx, vid); gerr == nil {
			return made, nil
		}
		return nil, err
	}
	l.s.emit(ctx, webhooks.VideoCreated, vid, "")
	l.s.notify(ctx, v)
	return v, nil
}

// recordingWait bounds how long the origin follows a recording's video
// to send live.recording_ready.
const recordingWait = 30 * time.Minute

// awaitRecording sends live.recording_ready once the video plays, for a
// recording browsers could not play as it was recorded (it waits for its
// first encode). The video may be made playable by another origin, so
// the catalog is read.
func (l *liveService) awaitRecording(ctx context.Context, id, vid string) {
	ctx, cancel := context.WithTimeout(ctx, recordingWait)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		v, err := l.s.catalog.Get(ctx, vid)
		if err != nil {
			if errors.Is(err, catalog.ErrNotFound) {
				return
			}
			continue
		}
		switch v.Status {
		case catalog.Ready:
			l.emit(webhooks.LiveRecordingReady, id, vid)
			l.fanout.publish(id, liveEvent{Kind: "recording_ready", Status: liveEnded, VideoID: vid})
			return
		case catalog.Failed:
			return
		}
	}
}

// deleteUnmadeRecordings removes what broadcasts of rec recorded that did
// not become videos (a broadcast on when the stream is deleted); the
// videos made stay (they are videos like any other).
func (l *liveService) deleteUnmadeRecordings(ctx context.Context, rec *liveStream) error {
	for _, vid := range rec.RecordingOf {
		if !catalog.ValidID(vid) {
			continue
		}
		if _, err := l.s.catalog.Get(ctx, vid); !errors.Is(err, catalog.ErrNotFound) {
			continue
		}
		if err := l.s.store.DeletePrefix(ctx, catalog.VideoPrefix(vid)); err != nil {
			return err
		}
	}
	return nil
}

// sortTracks puts the picture first (the variant), the sound after.
func sortTracks(tracks []recordedTrack) {
	slices.SortStableFunc(tracks, func(a, b recordedTrack) int {
		av, bv := strings.HasPrefix(a.name, "video"), strings.HasPrefix(b.name, "video")
		switch {
		case av && !bv:
			return -1
		case bv && !av:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
}
