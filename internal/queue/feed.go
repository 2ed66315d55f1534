package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Feed is a stream every subscriber reads whole, each from where it left
// off (a durable consumer of its own): what a subscriber misses while it
// is down waits for it, up to MaxAge. Unlike a Kind's jobs, a message is
// not gone once one reader has it.
type Feed struct {
	name, subject string
	js            jetstream.JetStream
	s             jetstream.Stream
}

// Feed opens (creating it if missing) the feed name, keeping messages for
// maxAge.
func (q *Queue) Feed(ctx context.Context, name string, maxAge time.Duration) (*Feed, error) {
	stream := q.cfg.Stream + "_FEED_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
	subject := "feed." + name
	s, err := q.js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = q.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: stream, Subjects: []string{subject}, Retention: jetstream.LimitsPolicy,
			Storage: jetstream.FileStorage, Replicas: q.cfg.Replicas, MaxAge: maxAge,
			Duplicates: 10 * time.Minute,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = q.js.Stream(ctx, stream)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("queue: feed %s: %w", name, err)
	}
	return &Feed{name: name, subject: subject, js: q.js, s: s}, nil
}

// Publish appends a message; id de-duplicates a retried publish.
func (f *Feed) Publish(ctx context.Context, id string, body []byte) error {
	_, err := f.js.Publish(ctx, f.subject, body, jetstream.WithMsgID(id))
	if err != nil {
		return fmt.Errorf("queue: publish to feed %s: %w", f.name, err)
	}
	return nil
}

// Message is one message of a feed.
type Message struct {
	Seq  uint64
	Time time.Time
	Body []byte
}

// Follow hands every message subscriber has not acknowledged yet to
// handle, in order, then calls caughtUp once, then hands each new one,
// until ctx ends. A message handle fails on is handed again a second
// later. A subscriber new to the feed starts at its first message.
func (f *Feed) Follow(ctx context.Context, subscriber string, caughtUp func(), handle func(Message) error) error {
	durable := "sub_" + strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_").Replace(subscriber)
	c, err := f.s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		// A message handed to a subscriber that stopped comes back after
		// AckWait: short, as handling one takes milliseconds.
		AckWait: 5 * time.Second, MaxAckPending: 1, // in order
		InactiveThreshold: 30 * 24 * time.Hour,
	})
	if err != nil {
		return fmt.Errorf("queue: follow feed %s: %w", f.name, err)
	}
	reported := false
	for ctx.Err() == nil {
		if !reported {
			info, err := c.Info(ctx)
			if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
				reported = true
				caughtUp()
			}
		}
		batch, err := c.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			time.Sleep(time.Second) // NATS away: try again
			continue
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				_ = m.Term()
				continue
			}
			if err := handle(Message{Seq: md.Sequence.Stream, Time: md.Timestamp, Body: m.Data()}); err != nil {
				_ = m.NakWithDelay(time.Second)
				continue
			}
			_ = m.DoubleAck(ctx) // acknowledged for sure: it is never handed twice
		}
	}
	return ctx.Err()
}

// Last is the feed's last n messages, oldest first.
func (f *Feed) Last(ctx context.Context, n int) ([]Message, error) {
	info, err := f.s.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out []Message
	first := info.State.FirstSeq
	if info.State.LastSeq >= uint64(n) && info.State.LastSeq-uint64(n)+1 > first {
		first = info.State.LastSeq - uint64(n) + 1
	}
	for seq := first; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := f.s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Message{Seq: m.Sequence, Time: m.Time, Body: m.Data})
	}
	return out, nil
}

// Since hands each message published at or after from to each, oldest
// first, until each returns false or the feed has no more; it reads in
// batches through a consumer of its own (nothing is acknowledged).
func (f *Feed) Since(ctx context.Context, from time.Time, each func(Message) bool) error {
	c, err := f.s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &from})
	if err != nil {
		return err
	}
	for {
		batch, err := c.Fetch(500, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			return err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			if !each(Message{Seq: md.Sequence.Stream, Time: md.Timestamp, Body: m.Data()}) {
				return nil
			}
		}
		if n == 0 { // none came within the wait: the feed is read
			if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return nil
		}
	}
}
