package origin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/packager/transcode"
)

// A live stream created with "ladder": true gets renditions below the
// source while it broadcasts (issue "Live streaming", item 3). When a
// broadcast starts, the origin hosting it queues a live-ladder job with
// the broadcast's ladder key and its own RTMP address for workers
// (LiveConfig.LadderRTMPURL); a worker takes it in a slot of its own
// (WorkerConfig.LiveLadders), runs one ffmpeg that reads the source's
// video from that origin over RTMP and publishes every rung of its ladder
// below the source back to it (origin/live, ladder.go), and keeps the job
// until the broadcast has ended. The queue's heartbeats keep the job while
// it runs; a worker that dies takes its rungs off the air, and the job
// goes to another worker after the queue's AckWait, which starts them
// again. The stream key never leaves the origin: the ladder key opens the
// feed and the rungs of that one broadcast only.

// taskLiveLadder names a live ladder in workers' presence records.
const taskLiveLadder = "live-ladder"

// liveLadderJob is what a live-ladder job carries.
type liveLadderJob struct {
	// ID and Broadcast name the broadcast.
	ID        string `json:"id"`
	Broadcast int    `json:"broadcast"`
	// RTMPURL is the hosting origin's ingest as workers reach it
	// (rtmp://host:port/live); Key is the broadcast's ladder key.
	RTMPURL string `json:"rtmp_url"`
	Key     string `json:"key"`
	// Width and Height are the source's picture size.
	Width  int `json:"width"`
	Height int `json:"height"`
}

// queueLadder queues the ladder of stream id's broadcast, hosted here.
// Safe to repeat: the job's ID de-duplicates.
func (l *liveService) queueLadder(ctx context.Context, id string, broadcast int) {
	src, ok := l.m.LadderSource(id)
	if !ok || src.Broadcast != broadcast {
		return // over already
	}
	body, _ := json.Marshal(liveLadderJob{ID: id, Broadcast: broadcast, RTMPURL: l.cfg.LadderRTMPURL,
		Key: src.Key, Width: src.Width, Height: src.Height})
	if _, err := l.s.kinds.liveLadder.Publish(ctx, fmt.Sprintf("live-ladder-%s-%d", id, broadcast), body); err != nil {
		l.log.Warn("live: ladder not queued; the broadcast plays without it", slog.String("stream", id), slog.Any("err", err))
		return
	}
	l.log.Info("live: ladder queued", slog.String("stream", id), slog.Int("broadcast", broadcast),
		slog.Int("width", src.Width), slog.Int("height", src.Height))
}

// readLadderJob decodes a live-ladder job, or drops one that can never run.
func (w *Worker) readLadderJob(j *queue.Job) (liveLadderJob, bool) {
	var b liveLadderJob
	err := json.Unmarshal(j.Body(), &b)
	if err == nil && (!catalog.ValidID(b.ID) || b.Broadcast < 1 || b.Width <= 0 || b.Height <= 0 || strings.ContainsAny(b.Key, "/?#")) {
		err = errors.New("fields out of range")
	}
	if err == nil {
		u, perr := url.Parse(b.RTMPURL)
		if perr != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
			err = fmt.Errorf("rtmp_url %q is not an rtmp:// URL", b.RTMPURL)
		}
	}
	if err != nil {
		w.log.Error("unreadable live-ladder job dropped", slog.String("subject", j.Subject), slog.Any("err", err))
		_ = j.Drop()
		return b, false
	}
	return b, true
}

// liveLadderRetry is the pause between two runs of a ladder's encoder
// (after the source's feed broke or was refused).
const liveLadderRetry = 2 * time.Second

// handleLiveLadder encodes a broadcast's ladder until the broadcast ends.
// ffmpeg ends when the source's feed does (the broadcast ended, or its
// encoder came back with other settings and the timeline started again);
// it is run again for as long as the stream's record says the broadcast
// is on.
func (w *Worker) handleLiveLadder(ctx context.Context, j *queue.Job) {
	b, ok := w.readLadderJob(j)
	if !ok {
		return
	}
	log := w.log.With(slog.String("stream", b.ID), slog.Int("broadcast", b.Broadcast), slog.Int("attempt", j.Attempt))
	base := strings.TrimRight(b.RTMPURL, "/") + "/" + b.Key + "."
	rungs := transcode.PlanLiveLadder(w.opt.Ladder, b.Width, b.Height, func(name string) string { return base + name })
	if len(rungs) == 0 {
		log.Info("live ladder: no rung of the ladder is below the source", slog.Int("width", b.Width), slog.Int("height", b.Height))
		_ = j.Done()
		return
	}
	if w.presence != nil {
		w.presence.started(b.ID, taskLiveLadder)
		defer w.presence.ended(b.ID, taskLiveLadder)
	}
	w.jobm.inFlight.Inc()
	defer w.jobm.inFlight.Dec()
	names := make([]string, len(rungs))
	for i, r := range rungs {
		names[i] = fmt.Sprintf("%s %dx%d", r.Name, r.Width, r.Height)
	}
	log.Info("live ladder started", slog.Any("rungs", names))
	start := time.Now()
	args := transcode.LiveLadderArgs(base+liveFeedRung, rungs,
		transcode.LiveOptions{Preset: w.cfg.LivePreset, Threads: w.cfg.Threads})
	for {
		on, err := w.broadcastOn(ctx, b.ID, b.Broadcast)
		if ctx.Err() != nil {
			return // stopping: the pool gives the job back
		}
		if err != nil {
			log.Warn("live ladder: the stream's record could not be read", slog.Any("err", err))
		} else if !on {
			log.Info("live ladder ended with the broadcast", slog.Duration("took", time.Since(start)))
			_ = j.Done()
			return
		}
		if err == nil {
			if err := w.runLiveLadder(ctx, args); err != nil && ctx.Err() == nil {
				log.Info("live ladder: encoder stopped; starting again while the broadcast is on", slog.Any("err", err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(liveLadderRetry):
		}
	}
}

// liveFeedRung is the ladder key's suffix that reads the source (see
// origin/live, ladder.go).
const liveFeedRung = "source"

// runLiveLadder runs the ladder's ffmpeg until it exits or ctx ends.
func (w *Worker) runLiveLadder(ctx context.Context, args []string) error {
	ffmpeg := w.opt.FFmpeg
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.SysProcAttr = ladderProcAttr()
	// ffmpeg's error log is small (-v error); its last lines say why it
	// stopped.
	var stderr bytes.Buffer
	cmd.Stderr = &tailWriter{buf: &stderr, max: 4 << 10}
	err := cmd.Run()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// tailWriter keeps about the last max bytes written.
type tailWriter struct {
	buf *bytes.Buffer
	max int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

// broadcastOn tells whether broadcast n of stream id is still on (live or
// in its reconnect window), from the stream's record.
func (w *Worker) broadcastOn(ctx context.Context, id string, n int) (bool, error) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rec, err := liveStore{s: w.store}.get(rctx, id)
	if errors.Is(err, errNoLiveStream) {
		return false, nil // deleted
	}
	if err != nil {
		return false, err
	}
	return rec.Broadcast == n && rec.Status != liveEnded, nil
}
