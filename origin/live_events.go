package origin

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// liveEvent is one happening of a live stream, as its event stream
// (GET /api/v1/live/{id}/events) says it: connected, disconnected,
// ended, refused, recording_ready; "status" for the state at the start
// and for changes made by another origin process.
type liveEvent struct {
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	VideoID string `json:"video_id,omitempty"`
}

// liveEvents streams a live stream's events as Server-Sent Events until
// the client leaves or the stream is deleted.
func (s *Server) liveEvents(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	rec, err := s.live.streams.get(r.Context(), id)
	if err != nil {
		return err
	}
	events, unsubscribe := s.live.fanout.subscribe(id)
	defer unsubscribe()
	sse, err := startSSE(w)
	if err != nil {
		return err
	}
	send := func(e liveEvent) error { return sse.send(e.Kind, e) }
	view := s.liveView(rec, false)
	last := liveEvent{Kind: "status", Status: view.Status, Error: view.Error, VideoID: view.VideoID}
	if err := send(last); err != nil {
		return nil
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	keepAlive := time.NewTicker(sseKeepAlive * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-keepAlive.C:
			if sse.keepAlive() != nil {
				return nil
			}
		case e := <-events:
			if err := send(e); err != nil {
				return nil
			}
			last.Status, last.Error = e.Status, e.Error
			if e.VideoID != "" {
				last.VideoID = e.VideoID
			}
		case <-poll.C:
			rec, err := s.live.streams.get(r.Context(), id)
			if err != nil {
				if r.Context().Err() == nil {
					_ = send(liveEvent{Kind: "deleted", Status: "deleted"})
				}
				return nil
			}
			view := s.liveView(rec, false)
			now := liveEvent{Kind: "status", Status: view.Status, Error: view.Error, VideoID: view.VideoID}
			if now == (liveEvent{Kind: "status", Status: last.Status, Error: last.Error, VideoID: last.VideoID}) {
				continue
			}
			if err := send(now); err != nil {
				return nil
			}
			last = now
		}
	}
}
