package usage

import (
	"context"
	"encoding/json"
	"fmt"

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
