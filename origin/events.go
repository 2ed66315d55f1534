package origin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
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

// broker fans progress out to the SSE streams of this process. Streams also
// poll the catalog, so progress made by another origin process arrives too.
type broker struct {
	mu   sync.Mutex
	subs map[string]map[chan event]struct{}
}

func newBroker() *broker { return &broker{subs: map[string]map[chan event]struct{}{}} }

func (b *broker) subscribe(id string) (<-chan event, func()) {
	ch := make(chan event, 16)
	b.mu.Lock()
	if b.subs[id] == nil {
		b.subs[id] = map[chan event]struct{}{}
	}
	b.subs[id][ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs[id], ch)
		if len(b.subs[id]) == 0 {
			delete(b.subs, id)
		}
		b.mu.Unlock()
	}
}

// publish never blocks: a subscriber that is behind misses intermediate
// progress (the next report or poll catches it up), never a final event,
// which is re-read from the catalog.
func (b *broker) publish(id string, e event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[id] {
		select {
		case ch <- e:
		default:
		}
	}
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
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("events: response cannot stream")
	}
	live, unsubscribe := s.events.subscribe(id)
	defer unsubscribe()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)

	send := func(e event) error {
		if e.Video == nil && v != nil {
			view := s.view(v)
			e.Video = &view
		}
		data, _ := json.Marshal(e)
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", data); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	last := eventFor(v)
	last.QueuePosition = s.queuePosition(r.Context(), v)
	if err := send(last); err != nil || last.final() {
		return nil
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		var next event
		select {
		case <-r.Context().Done():
			return nil
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			flusher.Flush()
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
