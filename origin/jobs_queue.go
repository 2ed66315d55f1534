package origin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/catalog"
)

// Three kinds of job, each its own line on the queue, so none waits
// behind another:
//
//   - package (origins): make an upload playable — probe, index, remux or
//     stream copy. Milliseconds to a second; never behind an encode.
//   - first (workers): encode a video's first browser-playable rendition
//     (a source that cannot be served as it is).
//   - ladder (workers): the other renditions, poster and storyboard of a
//     video that already plays. A worker takes first jobs before these.
//   - live ladder (workers): a live broadcast's rungs, encoded for as long
//     as the broadcast lasts (live_ladder.go), in slots of their own, so a
//     broadcast never waits behind uploads' encodes nor they behind it.
const (
	kindPackage    = "package"
	kindFirst      = "encode-first"
	kindLadder     = "encode-ladder"
	kindLiveLadder = "live-ladder"
)

// Tasks of an encode job.
const (
	taskTranscode = "transcode" // the whole ladder from a source that needs encoding
	taskLadder    = "ladder"    // the rungs below a source that plays as it is
)

// stageQueued is the stage of a video whose encode waits for a worker.
const stageQueued = "queued for encoding"

// maxAttempts is how many times a job is tried before the video is marked
// failed (a worker that died mid-job counts as a try).
const maxAttempts = 3

type jobKinds struct{ pkg, first, ladder, liveLadder *queue.Kind }

func openKinds(ctx context.Context, q *queue.Queue) (jobKinds, error) {
	var k jobKinds
	var err error
	for name, dst := range map[string]**queue.Kind{kindPackage: &k.pkg, kindFirst: &k.first, kindLadder: &k.ladder} {
		if *dst, err = q.Kind(ctx, name); err != nil {
			return k, err
		}
	}
	// A live ladder's job runs as long as its broadcast and is handed on
	// each time a worker dies: it ends by the broadcast's end, never by a
	// count of deliveries.
	if k.liveLadder, err = q.Kind(ctx, kindLiveLadder, queue.Redeliver(-1)); err != nil {
		return k, err
	}
	return k, nil
}

// jobBody is what a job carries.
type jobBody struct {
	ID   string `json:"id"`
	Task string `json:"task,omitempty"`
}

// queuePackage queues making video id playable. Safe to repeat: the job ID
// de-duplicates.
func (s *core) queuePackage(ctx context.Context, id string) error {
	body, _ := json.Marshal(jobBody{ID: id})
	_, err := s.kinds.pkg.Publish(ctx, "package-"+id, body)
	return err
}

// queueEncode queues an encode of v and records where it waits. A source
// that plays already goes in the ladder line; one that does not, in the
// first line, ahead of every other video's extra rungs.
func (s *core) queueEncode(ctx context.Context, v *catalog.Video, task string) (*catalog.Video, error) {
	kind := s.kinds.ladder
	if v.Status != catalog.Ready {
		kind = s.kinds.first
	}
	body, _ := json.Marshal(jobBody{ID: v.ID, Task: task})
	seq, err := kind.Publish(ctx, "encode-"+v.ID+"-"+task, body)
	if err != nil {
		return nil, err
	}
	v, err = s.catalog.Update(ctx, v.ID, func(v *catalog.Video) error {
		v.Queue = &catalog.QueuePlace{Kind: kind.Name(), Seq: seq, At: time.Now().UTC()}
		if v.Stage == "" || v.Stage == "queued" || v.Percent == 0 {
			v.Stage, v.Percent = stageQueued, 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, v)
	return v, nil
}

// readJob decodes a job, dropping one that cannot be read (it can never
// succeed) and one delivered more often than maxAttempts allows: its
// workers died each time (killed, out of memory), so the video is failed
// rather than handed on forever.
func (s *core) readJob(ctx context.Context, j *queue.Job) (jobBody, bool) {
	var b jobBody
	if err := json.Unmarshal(j.Body(), &b); err != nil || !catalog.ValidID(b.ID) {
		s.log.Error("unreadable job dropped", slog.String("subject", j.Subject), slog.String("body", string(j.Body())))
		_ = j.Drop()
		return b, false
	}
	if j.Attempt > 1 {
		s.jobm.redeliveries.WithLabelValues(j.Subject).Inc()
	}
	if j.Attempt > maxAttempts+1 {
		s.failVideo(ctx, b.ID, "Processing stopped several times on our side before it could finish; upload the file again, and tell us if it keeps happening.")
		_ = j.Drop()
		return b, false
	}
	return b, true
}

// errDeleted means the video was deleted while its job ran.
var errDeleted = errors.New("the video was deleted")

// settle ends a job after one try: done, given up with a reason the owner
// of the video can act on, or retried later.
func (s *core) settle(ctx context.Context, j *queue.Job, id string, err error, what string) {
	log := s.log.With(slog.String("id", id), slog.String("job", what), slog.Int("attempt", j.Attempt))
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		_ = j.Done()
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, errDeleted):
		_ = j.Drop() // deleted meanwhile
	case ctx.Err() != nil:
		// This process is stopping: the pool gives the job back.
	case isInputError(err):
		log.Info("video failed", slog.String("reason", err.Error()))
		s.failVideo(bg, id, err.Error())
		_ = j.Drop()
	case j.Attempt >= maxAttempts:
		log.Error(what+" failed for good", slog.Any("err", err))
		s.failVideo(bg, id, fmt.Sprintf("%s failed on our side after several tries; upload the file again, and tell us if it keeps happening.", capitalize(what)))
		_ = j.Drop()
	default:
		log.Warn(what+" failed; will retry", slog.Any("err", err))
		_ = j.Retry(time.Duration(j.Attempt) * 2 * time.Second)
	}
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// handlePackage makes one upload playable (an origin's job).
func (s *Server) handlePackage(ctx context.Context, j *queue.Job) {
	b, ok := s.readJob(ctx, j)
	if !ok {
		return
	}
	start := time.Now()
	err := s.makePlayable(ctx, b.ID)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.metrics.packaged.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	s.settle(ctx, j, b.ID, err, "packaging")
}

// queuePosition is a waiting encode's place in line across every worker
// (1: taken next), 0 when it is not waiting or the queue cannot say. A
// ladder waits behind every first-rendition job too.
func (s *core) queuePosition(ctx context.Context, v *catalog.Video) int {
	if v.Queue == nil || v.Stage != stageQueued || s.queue == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	kind := s.kinds.first
	if v.Queue.Kind == kindLadder {
		kind = s.kinds.ladder
	}
	pos, err := kind.Position(ctx, v.Queue.Seq)
	if err != nil || pos == 0 {
		return 0
	}
	if kind == s.kinds.ladder {
		if waiting, _, err := s.kinds.first.Depth(ctx); err == nil {
			pos += waiting
		}
	}
	return pos
}
