package origin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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
// each track:
//
//	live/{id}/rec/{broadcast}/{generation}/{track}/init.mp4
//	live/{id}/rec/{broadcast}/{generation}/{track}/{sequence}.m4s
//
// (numbers zero-padded, so S3 lists them in order). When the broadcast
// ends, the tracks are joined into one MP4 (ffmpeg, stream copy), stored
// as the source of a new video, and the video goes through the pipeline
// like an upload: playable as soon as it is remuxed, its ladder later.

// liveRecorder is the manager's Sink, over S3.
type liveRecorder struct{ ls *liveService }

var _ live.Sink = (*liveRecorder)(nil)

func recPrefix(id string, broadcast int) string {
	return fmt.Sprintf("%srec/%06d/", livePrefix(id), broadcast)
}

func recTrackPrefix(id string, broadcast, generation int, track string) string {
	return fmt.Sprintf("%s%03d/%s/", recPrefix(id, broadcast), generation, track)
}

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
	return r.ls.s.store.Put(ctx, recTrackPrefix(in.StreamID, in.Broadcast, in.Generation, in.Track)+"init.mp4", in.Data, "video/mp4")
}

func (r *liveRecorder) WriteSegment(ctx context.Context, seg live.RecordedSegment) error {
	if !r.ls.records(seg.StreamID) || !plainTrack(seg.Track) {
		return nil
	}
	key := recTrackPrefix(seg.StreamID, seg.Broadcast, seg.Generation, seg.Track) + fmt.Sprintf("%010d.m4s", seg.Sequence)
	return r.ls.s.store.Put(ctx, key, seg.Data, "video/iso.segment")
}

// EndBroadcast queues making the recording a video: any origin does it,
// and one that dies doing it leaves it to another (the segments stay in
// S3 until the video's source is stored).
func (r *liveRecorder) EndBroadcast(ctx context.Context, streamID string, broadcast int) error {
	if !r.ls.records(streamID) {
		return nil
	}
	body, _ := json.Marshal(recordingJob{Stream: streamID, Broadcast: broadcast})
	_, err := r.ls.kind.Publish(ctx, fmt.Sprintf("live-recording-%s-%d", streamID, broadcast), body)
	return err
}

// kindRecording is the queue's line of recordings to make into videos.
const kindRecording = "live-recording"

// recordingJob is a broadcast to make into a video.
type recordingJob struct {
	Stream    string `json:"stream"`
	Broadcast int    `json:"broadcast"`
}

// handleRecording is the queue's handler of recording jobs.
func (l *liveService) handleRecording(ctx context.Context, j *queue.Job) {
	var job recordingJob
	if err := json.Unmarshal(j.Body(), &job); err != nil || !catalog.ValidID(job.Stream) || job.Broadcast < 1 {
		l.log.Error("unreadable recording job dropped", slog.String("body", string(j.Body())))
		_ = j.Drop()
		return
	}
	log := l.log.With(slog.String("stream", job.Stream), slog.Int("broadcast", job.Broadcast), slog.Int("attempt", j.Attempt))
	vid, err := l.makeRecording(ctx, job.Stream, job.Broadcast)
	switch {
	case err == nil:
		_ = j.Done()
		if vid != "" {
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

// makeRecording turns broadcast of stream id into a video: a catalog
// record first (so the stream's video_id is known), then the MP4 made of
// the recorded segments as its source, then the pipeline. It returns the
// video's ID ("" when there is none to follow). Repeating it (a
// redelivered job) continues with the same video.
func (l *liveService) makeRecording(ctx context.Context, id string, broadcast int) (string, error) {
	b := strconv.Itoa(broadcast)
	var vid string
	rec, err := l.streams.update(ctx, id, func(r *liveStream) error {
		if r.RecordingOf == nil {
			r.RecordingOf = map[string]string{}
		}
		if r.RecordingOf[b] == "" {
			r.RecordingOf[b] = catalog.NewID(time.Now())
		}
		vid = r.RecordingOf[b]
		if r.VideoID == "" || broadcast >= r.Broadcast {
			r.VideoID = vid
		}
		if !slices.Contains(r.Recordings, vid) {
			r.Recordings = append(r.Recordings, vid)
		}
		return nil
	})
	if errors.Is(err, errNoLiveStream) {
		// Deleted: its segments go too (the stream's delete may have run
		// before the last ones were written).
		return "", l.s.store.DeletePrefix(ctx, recPrefix(id, broadcast))
	}
	if err != nil {
		return "", err
	}
	v, err := l.s.catalog.Get(ctx, vid)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		title := rec.Title
		if title == "" {
			title = "Live broadcast"
		}
		v = &catalog.Video{ID: vid, Title: title, Description: rec.Description, Tags: rec.Tags,
			Visibility: catalog.Public, Status: catalog.Processing, Stage: stageRecording,
			Source: catalog.Source{Key: catalog.SourceKey(vid), ContentType: "video/mp4",
				Filename: fmt.Sprintf("live-%s-%d.mp4", id, broadcast)}}
		if err := l.s.catalog.Create(ctx, v); err != nil {
			return "", err
		}
		l.s.emit(ctx, webhooks.VideoCreated, vid, "")
	case err != nil:
		return "", err
	}
	if v.Stage == stageRecording {
		size, err := l.storeRecording(ctx, id, broadcast, v.Source.Key)
		if err != nil {
			return vid, err
		}
		if v, err = l.s.catalog.Update(ctx, vid, func(v *catalog.Video) error {
			v.Source.Size = size
			v.Stage, v.Percent = "queued", 0
			return nil
		}); err != nil {
			return vid, err
		}
	}
	if err := l.s.queuePackage(ctx, vid); err != nil {
		return vid, err
	}
	l.s.events.publish(vid, eventFor(v))
	// The segments are in the video's source now.
	if err := l.s.store.DeletePrefix(ctx, recPrefix(id, broadcast)); err != nil {
		l.log.Warn("live: recorded segments not deleted", slog.String("stream", id), slog.Any("err", err))
	}
	return vid, nil
}

// stageRecording is the stage of a recording's video until its source is
// stored.
const stageRecording = "recording"

// recordingWait bounds how long the origin follows a recording's video
// to send live.recording_ready.
const recordingWait = 30 * time.Minute

// awaitRecording sends live.recording_ready once the video plays. The
// video may be made playable by another origin, so the catalog is read.
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

// recordedTrack is one track of one generation: its objects in order.
type recordedTrack struct {
	generation int
	track      string
	init       string
	segments   []string
}

// storeRecording joins the recorded segments into one MP4 (on disk, in
// the work directory: memory stays bounded by the copy buffers) and
// stores it at key. It returns the size stored.
func (l *liveService) storeRecording(ctx context.Context, id string, broadcast int, key string) (int64, error) {
	tracks, err := l.recordedTracks(ctx, id, broadcast)
	if err != nil {
		return 0, err
	}
	if len(tracks) == 0 {
		return 0, errRecordingGone
	}
	dir, err := os.MkdirTemp(l.s.opt.WorkDir, "live-recording-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)

	// One MP4 per generation (a new generation is an encoder that came
	// back with other codec parameters), then those joined.
	byGen := map[int][]string{}
	var gens []int
	for _, t := range tracks {
		if t.init == "" || len(t.segments) == 0 {
			continue
		}
		file := filepath.Join(dir, fmt.Sprintf("g%03d-%s.mp4", t.generation, t.track))
		if err := l.download(ctx, file, append([]string{t.init}, t.segments...)); err != nil {
			return 0, err
		}
		if _, ok := byGen[t.generation]; !ok {
			gens = append(gens, t.generation)
		}
		byGen[t.generation] = append(byGen[t.generation], file)
	}
	if len(gens) == 0 {
		return 0, fmt.Errorf("%w whole", errRecordingGone)
	}
	slices.Sort(gens)
	var parts []string
	for _, g := range gens {
		out := filepath.Join(dir, fmt.Sprintf("g%03d.mp4", g))
		args := []string{}
		for _, in := range byGen[g] {
			args = append(args, "-i", in)
		}
		for i := range byGen[g] {
			args = append(args, "-map", strconv.Itoa(i))
		}
		args = append(args, "-c", "copy", "-movflags", "+faststart", out)
		if err := l.ffmpeg(ctx, args...); err != nil {
			return 0, err
		}
		parts = append(parts, out)
	}
	final := parts[0]
	if len(parts) > 1 {
		list := filepath.Join(dir, "parts.txt")
		var b strings.Builder
		for _, p := range parts {
			fmt.Fprintf(&b, "file '%s'\n", p)
		}
		if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
			return 0, err
		}
		final = filepath.Join(dir, "recording.mp4")
		if err := l.ffmpeg(ctx, "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", final); err != nil {
			return 0, err
		}
	}
	f, err := os.Open(final)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return l.s.store.Upload(ctx, key, f, "video/mp4")
}

// recordedTracks lists what broadcast recorded, track by track, segments
// in sequence order.
func (l *liveService) recordedTracks(ctx context.Context, id string, broadcast int) ([]*recordedTrack, error) {
	prefix := recPrefix(id, broadcast)
	byName := map[string]*recordedTrack{}
	var order []string
	err := l.s.store.Sizes(ctx, prefix, func(key string, _ int64) {
		parts := strings.Split(strings.TrimPrefix(key, prefix), "/")
		if len(parts) != 3 {
			return
		}
		gen, err := strconv.Atoi(parts[0])
		if err != nil {
			return
		}
		name := parts[0] + "/" + parts[1]
		t := byName[name]
		if t == nil {
			t = &recordedTrack{generation: gen, track: parts[1]}
			byName[name] = t
			order = append(order, name)
		}
		if parts[2] == "init.mp4" {
			t.init = key
		} else if strings.HasSuffix(parts[2], ".m4s") {
			t.segments = append(t.segments, key)
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]*recordedTrack, 0, len(order))
	for _, name := range order {
		t := byName[name]
		slices.Sort(t.segments) // zero-padded: lexical is numeric
		out = append(out, t)
	}
	return out, nil
}

// download streams keys, one after the other, into file.
func (l *liveService) download(ctx context.Context, file string, keys []string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	for _, k := range keys {
		info, err := l.s.store.Head(ctx, k)
		if err != nil {
			f.Close()
			return err
		}
		body, err := l.s.store.GetRange(ctx, k, 0, info.Size)
		if err != nil {
			f.Close()
			return err
		}
		_, err = io.Copy(f, body)
		body.Close()
		if err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func (l *liveService) ffmpeg(ctx context.Context, args ...string) error {
	bin := l.s.opt.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	ctx, cancel := context.WithTimeout(ctx, l.s.opt.TranscodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return fmt.Errorf("ffmpeg: %w: %s", err, msg)
	}
	return nil
}
