package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says which NATS to use and how jobs behave.
type Config struct {
	// URL is the NATS server or cluster, e.g. "nats://127.0.0.1:4222" (a
	// comma-separated list for a cluster). Required.
	URL string
	// Name is this client's name in NATS's monitoring, e.g. "worker-3".
	Name string
	// Stream is the JetStream stream that holds the jobs. It defaults to
	// "STREAMFRONT_JOBS"; its subjects are "jobs.>".
	Stream string
	// Replicas is how many servers of a cluster keep each job. It defaults
	// to 1 (an embedded server); use 3 on a cluster.
	Replicas int
	// AckWait is how long a job may go without a heartbeat before
	// JetStream gives it to another worker: a worker that died loses its
	// jobs after this long. Running jobs send a heartbeat every AckWait/3.
	// It defaults to 30 s.
	AckWait time.Duration
	// MaxDeliver bounds how often one job is delivered (the caller gives
	// up earlier, with a reason, through Job.Attempt). It defaults to 10.
	MaxDeliver int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "STREAMFRONT_JOBS"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Queue is a connection to the job stream.
type Queue struct {
	cfg    Config
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
}

// Open connects to NATS and makes sure the job stream exists (every
// process may create it; the call is idempotent).
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	cfg.setDefaults()
	if cfg.URL == "" {
		return nil, errors.New("queue: URL is required (the NATS server, e.g. nats://127.0.0.1:4222)")
	}
	log := cfg.Logger
	nc, err := nats.Connect(cfg.URL,
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1), // a NATS restart must not end a worker
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("queue disconnected", slog.Any("err", err))
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("queue reconnected") }),
	)
	if err != nil {
		return nil, fmt.Errorf("queue: connect to %s: %w", cfg.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("queue: %w", err)
	}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "Streamfront jobs: packaging on origins, encoding on workers",
		Subjects:    []string{"jobs.>"},
		Retention:   jetstream.WorkQueuePolicy, // a job is gone once acknowledged
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		// A job published twice within this window (an upload's retry, an
		// origin that restarts mid-publish) is kept once.
		Duplicates: 10 * time.Minute,
		// Back-pressure on publishers: past this many waiting jobs a publish
		// fails and the upload answers 503 instead of queueing forever.
		MaxMsgs: 1_000_000,
		Discard: jetstream.DiscardNew,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("queue: stream %s: %w", cfg.Stream, err)
	}
	return &Queue{cfg: cfg, nc: nc, js: js, stream: stream}, nil
}

// Close drains the connection.
func (q *Queue) Close() { q.nc.Close() }

// AckWait is the configured lease of a job without heartbeat.
func (q *Queue) AckWait() time.Duration { return q.cfg.AckWait }

// Publish queues a job on subject (under "jobs."). id names the job: a
// second publish of the same id within the duplicate window is dropped,
// so publishing is safe to retry.
func (q *Queue) Publish(ctx context.Context, subject, id string, body []byte) error {
	_, err := q.js.Publish(ctx, subject, body, jetstream.WithMsgID(id))
	if err != nil {
		return fmt.Errorf("queue: publish %s %s: %w", subject, id, err)
	}
	return nil
}

// Consumer opens (creating if needed) the durable consumer name for jobs
// on subject. Every process that calls it with the same name shares it:
// each job goes to one of them.
func (q *Queue) Consumer(ctx context.Context, name, subject string) (*Consumer, error) {
	c, err := q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    q.cfg.MaxDeliver,
		MaxAckPending: 10_000,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: consumer %s: %w", name, err)
	}
	return &Consumer{name: name, c: c}, nil
}

// Consumer is one kind of work.
type Consumer struct {
	name string
	c    jetstream.Consumer
}

// Name is the consumer's durable name.
func (c *Consumer) Name() string { return c.name }

// next waits up to wait for one job; it returns nil when none came.
func (c *Consumer) next(wait time.Duration) (*Job, error) {
	var batch jetstream.MessageBatch
	var err error
	if wait <= 0 {
		batch, err = c.c.FetchNoWait(1)
	} else {
		batch, err = c.c.Fetch(1, jetstream.FetchMaxWait(wait))
	}
	if err != nil {
		return nil, err
	}
	for m := range batch.Messages() {
		attempt := 1
		if md, err := m.Metadata(); err == nil {
			attempt = int(md.NumDelivered)
		}
		return &Job{msg: m, Attempt: attempt, Subject: m.Subject()}, nil
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return nil, nil
}

// Depth is how many jobs wait (not yet taken) and how many are taken and
// not yet acknowledged, across every process sharing the consumer.
func (c *Consumer) Depth(ctx context.Context) (waiting, inFlight int, err error) {
	info, err := c.c.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return int(info.NumPending), info.NumAckPending, nil
}

// Job is one delivery of a job.
type Job struct {
	// Subject is what the job was published on.
	Subject string
	// Attempt counts deliveries: 1 the first time, more after a worker
	// died or a try failed.
	Attempt int
	msg     jetstream.Msg
	settled atomic.Bool
}

// Body is the job as published.
func (j *Job) Body() []byte { return j.msg.Data() }

// Done acknowledges the job: it is removed from the queue.
func (j *Job) Done() error { j.settled.Store(true); return j.msg.Ack() }

// Retry gives the job back, to be delivered again after delay.
func (j *Job) Retry(delay time.Duration) error {
	j.settled.Store(true)
	return j.msg.NakWithDelay(delay)
}

// Drop removes the job without doing it (it failed for good, or its video
// is gone).
func (j *Job) Drop() error { j.settled.Store(true); return j.msg.Term() }

// giveBack returns an unsettled job for immediate redelivery (its worker
// is stopping).
func (j *Job) giveBack() {
	if !j.settled.Load() {
		_ = j.msg.Nak()
	}
}

// heartbeat tells JetStream the job is still being worked, so it is not
// given to another worker.
func (j *Job) heartbeat() error { return j.msg.InProgress() }
