package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/streamfront/streamfront/internal/queue"
)

// QueueKind is the queue kind (JetStream stream and consumer) reports
// travel on from the edges to the origin.
const QueueKind = "usage"

// QueueSink publishes reports on the JetStream queue, with the report ID
// as Nats-Msg-Id: a publish retried within the stream's duplicate window is
// kept once there, and the origin's consumer (origin/usagestore) stores
// each ID in S3 once whatever the window. The edge needs NATS, not S3
// credentials.
type QueueSink struct {
	// Kind is the queue's QueueKind. Required.
	Kind *queue.Kind
}

var _ Sink = (*QueueSink)(nil)

// Put publishes r.
func (s *QueueSink) Put(ctx context.Context, r *Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("usage: encode report %s: %w", r.ID(), err)
	}
	_, err = s.Kind.Publish(ctx, r.ID(), body)
	return err
}

// DialQueueSink is a QueueSink that connects to NATS at its first Put
// (and again after a failed connection), so an edge starts and serves
// while NATS is down: its reports wait in the Meter, which retries Put.
// Close it after the Meter.
type DialQueueSink struct {
	// Queue says which NATS to use. Required.
	Queue queue.Config

	mu   sync.Mutex
	q    *queue.Queue
	kind *queue.Kind
}

var _ Sink = (*DialQueueSink)(nil)

// Put publishes r, connecting first if need be.
func (s *DialQueueSink) Put(ctx context.Context, r *Report) error {
	kind, err := s.open(ctx)
	if err != nil {
		return err
	}
	return (&QueueSink{Kind: kind}).Put(ctx, r)
}

func (s *DialQueueSink) open(ctx context.Context) (*queue.Kind, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kind != nil {
		return s.kind, nil
	}
	if s.q == nil {
		q, err := queue.Open(ctx, s.Queue)
		if err != nil {
			return nil, fmt.Errorf("usage: %w", err)
		}
		s.q = q
	}
	kind, err := s.q.Kind(ctx, QueueKind)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	s.kind = kind
	return kind, nil
}

// Close closes the connection, if one was made.
func (s *DialQueueSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.q != nil {
		s.q.Close()
		s.q, s.kind = nil, nil
	}
	return nil
}
