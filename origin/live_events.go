package origin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
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

// liveFanout hands a stream's events to the event streams open on it in
// this process; they also poll the record, so what another origin process
// does arrives too.
type liveFanout struct {
	mu   sync.Mutex
	subs map[string]map[chan liveEvent]struct{}
}

func (f *liveFanout) subscribe(id string) (<-chan liveEvent, func()) {
	ch := make(chan liveEvent, 16)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[string]map[chan liveEvent]struct{}{}
	}
	if f.subs[id] == nil {
		f.subs[id] = map[chan liveEvent]struct{}{}
	}
	f.subs[id][ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.subs[id], ch)
		if len(f.subs[id]) == 0 {
			delete(f.subs, id)
		}
		f.mu.Unlock()
	}
}

// publish never blocks: a subscriber that is behind misses an event, and
// its poll shows the state it led to.
func (f *liveFanout) publish(id string, e liveEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs[id] {
		select {
		case ch <- e:
		default:
		}
	}
}

// liveEvents streams a live stream's events as Server-Sent Events until
// the client leaves or the stream is deleted.
func (s *Server) liveEvents(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	rec, err := s.live.streams.get(r.Context(), id)
	if err != nil {
		return err
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("live events: response cannot stream")
	}
	events, unsubscribe := s.live.fanout.subscribe(id)
	defer unsubscribe()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(e liveEvent) error {
		data, _ := json.Marshal(e)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Kind, data); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	view := s.liveView(rec, false)
	last := liveEvent{Kind: "status", Status: view.Status, Error: view.Error, VideoID: view.VideoID}
	if err := send(last); err != nil {
		return nil
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			flusher.Flush()
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
