package origin

import (
	"context"
	"net/http"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/catalog"
)

// GET /api/v1/queue (admin keys): what the encode queue holds, from
// JetStream's consumer of each job kind, and the videos not yet complete,
// from the catalog, and the workers with the encodes each runs, from what
// they write to the queue's key-value store (worker_presence.go).

// queueScanLimit bounds the catalog records read to find unfinished
// videos: the newest ones, 100 a page. Older unfinished videos (an upload
// abandoned long ago) are not listed; scan_complete says so.
const queueScanLimit = 1000

type queueKindView struct {
	Kind     string `json:"kind"`
	Waiting  int    `json:"waiting"`
	InFlight int    `json:"in_flight"`
	Error    string `json:"error,omitempty"`
}

type queueJobView struct {
	Video         string         `json:"video"`
	Title         string         `json:"title"`
	Status        catalog.Status `json:"status"`
	Stage         string         `json:"stage,omitempty"`
	Percent       float64        `json:"percent"`
	Kind          string         `json:"kind,omitempty"`
	QueuedAt      *time.Time     `json:"queued_at,omitempty"`
	StartedAt     *time.Time     `json:"started_at,omitempty"`
	QueuePosition int            `json:"queue_position,omitempty"`
	// Worker is the worker encoding it now, when one says so.
	Worker    string    `json:"worker,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

type queueView struct {
	Kinds        []queueKindView `json:"kinds"`
	Jobs         []queueJobView  `json:"jobs"`
	Workers      []workerRecord  `json:"workers"`
	WorkersError string          `json:"workers_error,omitempty"`
	Scanned      int             `json:"scanned"`
	ScanComplete bool            `json:"scan_complete"`
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errorf(http.StatusServiceUnavailable, "The origin is not connected to its queue yet; try again in a few seconds.")
	}
	out := queueView{Kinds: []queueKindView{}, Jobs: []queueJobView{}, Workers: []workerRecord{}}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	kinds := []*queue.Kind{s.kinds.pkg, s.kinds.first, s.kinds.ladder, s.kinds.liveLadder}
	if s.live != nil {
		kinds = append(kinds, s.live.recordingKind())
	}
	for _, k := range kinds {
		if k == nil {
			continue
		}
		kv := queueKindView{Kind: k.Name()}
		var err error
		if kv.Waiting, kv.InFlight, err = k.Depth(ctx); err != nil {
			kv.Error = "JetStream did not answer: " + err.Error()
		}
		out.Kinds = append(out.Kinds, kv)
	}
	if kv, err := s.queue.KeyValue(ctx, workerPresenceBucket, workerPresenceTTL); err != nil {
		out.WorkersError = "The workers' records could not be read: " + err.Error()
	} else if out.Workers, err = listWorkers(ctx, kv); err != nil {
		out.Workers = []workerRecord{}
		out.WorkersError = "The workers' records could not be read: " + err.Error()
	}
	running := map[string]string{} // video → worker
	for _, wr := range out.Workers {
		for _, e := range wr.Encodes {
			running[e.Video] = wr.Name
		}
	}
	cancel()
	cursor := ""
	for out.Scanned < queueScanLimit {
		page, next, err := s.catalog.List(r.Context(), cursor, 100)
		if err != nil {
			return err
		}
		out.Scanned += len(page)
		for _, v := range page {
			if v.Status == catalog.Ready && v.Final || v.Status == catalog.Failed {
				continue
			}
			j := s.queueJob(r.Context(), v)
			j.Worker = running[v.ID]
			out.Jobs = append(out.Jobs, j)
		}
		if next == "" {
			out.ScanComplete = true
			break
		}
		cursor = next
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) queueJob(ctx context.Context, v *catalog.Video) queueJobView {
	j := queueJobView{Video: v.ID, Title: v.Title, Status: v.Status, Stage: v.Stage, Percent: v.Percent, UpdatedAt: v.UpdatedAt}
	if v.Queue != nil {
		j.Kind = v.Queue.Kind
		at := v.Queue.At
		j.QueuedAt = &at
		j.QueuePosition = s.queuePosition(ctx, v)
	}
	if !v.EncodeStarted.IsZero() {
		at := v.EncodeStarted
		j.StartedAt = &at
	}
	return j
}
