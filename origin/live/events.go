package live

import (
	"sync"
	"time"
)

// EventKind says what happened to a stream.
type EventKind string

const (
	// EventConnected: an encoder's media was accepted; the stream is live.
	// Reconnected is true when it continues a broadcast.
	EventConnected EventKind = "connected"
	// EventDisconnected: the encoder went away; the stream is idle and the
	// broadcast waits ReconnectWindow for it.
	EventDisconnected EventKind = "disconnected"
	// EventEnded: the broadcast is over (the window passed, or End was
	// called); its URLs answer 404 until the next broadcast.
	EventEnded EventKind = "ended"
	// EventRefused: an encoder with a valid key was turned away; Reason
	// says why (unsupported codec, already publishing…).
	EventRefused EventKind = "refused"
)

// Event is one change of a stream's state.
type Event struct {
	Kind     EventKind `json:"kind"`
	StreamID string    `json:"stream_id"`
	// Broadcast numbers the stream's broadcasts from 1.
	Broadcast   int       `json:"broadcast"`
	Reconnected bool      `json:"reconnected,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	At          time.Time `json:"at"`
}

// eventQueue hands events to Config.OnEvent in order without making the
// ingest path wait for it: push appends, one goroutine (run) delivers.
type eventQueue struct {
	mu      sync.Mutex
	pending []Event
	wake    chan struct{}
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1)}
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	q.pending = append(q.pending, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending; run drains everything
	}
}

// run delivers events until stop is closed, then delivers what is left.
func (q *eventQueue) run(stop <-chan struct{}, deliver func(Event)) {
	for {
		select {
		case <-q.wake:
			q.drain(deliver)
		case <-stop:
			q.drain(deliver)
			return
		}
	}
}

func (q *eventQueue) drain(deliver func(Event)) {
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		q.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, e := range batch {
			deliver(e)
		}
	}
}
