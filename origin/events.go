package origin

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/catalog"
)

// event is one progress report on a video.
type event struct {
	Status  string  `json:"status"`
	Stage   string  `json:"stage,omitempty"`
	Percent float64 `json:"percent"`
	Bytes   int64   `json:"bytes,omitempty"`
	// QueuePosition is the encode's place in line while it waits.
	QueuePosition int        `json:"queue_position,omitempty"`
	Error         string     `json:"error,omitempty"`
	Video         *videoView `json:"video,omitempty"`
}

func eventFor(v *catalog.Video) event {
	return event{Status: string(v.Status), Stage: v.Stage, Percent: v.Percent, Error: v.Error}
}

// final reports whether nothing more will happen to the video: failed,
// deleted, or ready with no stage left (a ready video whose other
// renditions are still encoding carries the stage of that work).
func (e event) final() bool {
	return (e.Status == string(catalog.Ready) && e.Stage == "") || e.Status == string(catalog.Failed) || e.Status == "deleted"
}

// videoEvents streams progress as Server-Sent Events until the video is
// complete (ready with no stage), failed or deleted. Clients that only need
// the first playable moment stop at the first "ready".
func (s *Server) videoEvents(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	v, err := s.catalog.Get(r.Context(), id)
	if err != nil {
		return err
	}
	live, unsubscribe := s.events.subscribe(id)
	defer unsubscribe()
	sse, err := startSSE(w)
	if err != nil {
		return err
	}
	send := func(e event) error {
		if e.Video == nil && v != nil {
			view := s.view(v)
			e.Video = &view
		}
		return sse.send("progress", e)
	}
	last := eventFor(v)
	last.QueuePosition = s.queuePosition(r.Context(), v)
	if err := send(last); err != nil || last.final() {
		return nil
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	keepAlive := time.NewTicker(sseKeepAlive * time.Second)
	defer keepAlive.Stop()
	for {
		var next event
		select {
		case <-r.Context().Done():
			return nil
		case <-keepAlive.C:
			if sse.keepAlive() != nil {
				return nil
			}
			continue
		case next = <-live:
			if last.Status == string(catalog.Ready) && next.Status == string(catalog.Processing) {
				// Progress of the ladder behind a ready video is published as
				// processing; the video stays ready.
				next.Status = string(catalog.Ready)
			}
			if next.final() || next.Status != last.Status {
				// Final states and changes of status are sent with the stored
				// record, never from a possibly older in-memory report.
				if fresh, err := s.catalog.Get(r.Context(), id); err == nil {
					v, next = fresh, eventFor(fresh)
				} else if next.Status != "deleted" {
					continue
				}
			}
		case <-poll.C:
			fresh, err := s.catalog.Get(r.Context(), id)
			if err != nil {
				if r.Context().Err() == nil {
					_ = send(event{Status: "deleted"})
				}
				return nil
			}
			v, next = fresh, eventFor(fresh)
			next.QueuePosition = s.queuePosition(r.Context(), fresh)
			if next == last {
				continue
			}
		}
		next.Video = nil
		if next.Status != "deleted" {
			view := s.view(v)
			next.Video = &view
		}
		if err := send(next); err != nil || next.final() {
			return nil
		}
		next.Video = nil
		last = next
	}
}
