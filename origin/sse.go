package origin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// The event streams (GET /api/v1/videos/{id}/events and
// /api/v1/live/{id}/events) are Server-Sent Events fed by a fanout in this
// process; each also polls its stored record, so what another origin
// process does arrives too.

// fanout hands the events of one ID to the event streams open on it.
type fanout[E any] struct {
	mu   sync.Mutex
	subs map[string]map[chan E]struct{}
}

func (f *fanout[E]) subscribe(id string) (<-chan E, func()) {
	ch := make(chan E, 16)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[string]map[chan E]struct{}{}
	}
	if f.subs[id] == nil {
		f.subs[id] = map[chan E]struct{}{}
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
// its next poll of the stored record shows the state it led to.
func (f *fanout[E]) publish(id string, e E) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs[id] {
		select {
		case ch <- e:
		default:
		}
	}
}

// sseKeepAlive is how often an idle event stream sends a comment, so
// proxies and load balancers do not close it.
const sseKeepAlive = 15 // seconds

// sseWriter writes one Server-Sent Events response.
type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

// startSSE sends the headers of an event stream.
func startSSE(w http.ResponseWriter) (*sseWriter, error) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		return nil, errors.New("events: response cannot stream")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, f: flusher}, nil
}

// send writes one event named name with v as JSON data.
func (s *sseWriter) send(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, data); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}

// keepAlive writes a comment line.
func (s *sseWriter) keepAlive() error {
	if _, err := fmt.Fprint(s.w, ": keep-alive\n\n"); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}
