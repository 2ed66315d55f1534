package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
	// Stream prefixes the names of the JetStream streams that hold the
	// jobs, one per kind of work. It defaults to "STREAMFRONT_JOBS".
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

// Queue is a connection to the job streams.
type Queue struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
}

// Open connects to NATS. Streams are made by Kind, idempotently: every
// process may create them.
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
	return &Queue{cfg: cfg, nc: nc, js: js}, nil
}

// Close closes the connection.
func (q *Queue) Close() { q.nc.Close() }

// AckWait is the configured lease of a job without heartbeat.
func (q *Queue) AckWait() time.Duration { return q.cfg.AckWait }

// Kind is one kind of work: its own stream (subject "jobs.<name>") and one
// durable consumer that every process doing that work shares, so each job
// goes to one of them. A stream of its own per kind keeps kinds from
// waiting behind each other and makes a job's place in line exact.
func (q *Queue) Kind(ctx context.Context, name string, opts ...KindOption) (*Kind, error) {
	stream := q.cfg.Stream + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
	subject := "jobs." + name
	scfg := jetstream.StreamConfig{
		Name:      stream,
		Subjects:  []string{subject},
		Retention: jetstream.WorkQueuePolicy, // a job is gone once acknowledged
		Storage:   jetstream.FileStorage,
		Replicas:  q.cfg.Replicas,
		// A job published twice within this window (an upload's retry, an
		// origin that restarts mid-publish) is kept once.
		Duplicates: 10 * time.Minute,
		// Back-pressure on publishers: past this many waiting jobs a publish
		// fails (the upload answers 503) instead of queueing without end.
		MaxMsgs: 1_000_000,
		Discard: jetstream.DiscardNew,
	}
	ccfg := jetstream.ConsumerConfig{
		Durable:       name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    q.cfg.MaxDeliver,
		MaxAckPending: 10_000,
	}
	for _, o := range opts {
		o(&ccfg)
	}
	// Existing streams and consumers are opened, not updated: every process
	// opens every kind at start, and an update of a stream racing another
	// process's consumer creation is a data race inside nats-server
	// v2.15.2 (found by -race). A consumer is updated only when this
	// process's AckWait or MaxDeliver differs from the one in force.
	s, err := q.js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = q.js.CreateStream(ctx, scfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = q.js.Stream(ctx, stream) // another process made it first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("queue: stream %s: %w", stream, err)
	}
	c, err := s.Consumer(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		c, err = s.CreateConsumer(ctx, ccfg)
		if errors.Is(err, jetstream.ErrConsumerExists) {
			c, err = s.Consumer(ctx, name)
		}
	case err == nil:
		if got := c.CachedInfo().Config; got.AckWait != ccfg.AckWait || got.MaxDeliver != ccfg.MaxDeliver {
			q.cfg.Logger.Warn("job settings differ between processes; this one's now apply",
				slog.String("kind", name), slog.Duration("ack_wait", ccfg.AckWait), slog.Duration("was", got.AckWait))
			c, err = s.UpdateConsumer(ctx, ccfg)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("queue: consumer %s: %w", name, err)
	}
	return &Kind{name: name, subject: subject, js: q.js, c: c}, nil
}

// KindOption changes how one kind's jobs behave from the queue's Config.
type KindOption func(*jetstream.ConsumerConfig)

// Redeliver bounds the deliveries of one job of this kind to n, or none
// when n is -1: for a kind whose handler gives up by itself (webhooks
// retried for a day, by the event's age).
func Redeliver(n int) KindOption {
	return func(c *jetstream.ConsumerConfig) { c.MaxDeliver = n }
}

// Kind is one kind of work; see Queue.Kind.
type Kind struct {
	name, subject string
	js            jetstream.JetStream
	c             jetstream.Consumer
}

// Name is the kind's name.
func (k *Kind) Name() string { return k.name }

// Publish queues a job. id names it: a second publish of the same id
// within the duplicate window is dropped, so publishing is safe to retry.
// It returns the job's sequence number in its stream (for Position).
func (k *Kind) Publish(ctx context.Context, id string, body []byte) (uint64, error) {
	ack, err := k.js.Publish(ctx, k.subject, body, jetstream.WithMsgID(id))
	if err != nil {
		return 0, fmt.Errorf("queue: publish %s %s: %w", k.subject, id, err)
	}
	return ack.Sequence, nil
}

// Position is a waiting job's place in line (1: taken next), 0 once a
// worker has taken it.
func (k *Kind) Position(ctx context.Context, seq uint64) (int, error) {
	info, err := k.c.Info(ctx)
	if err != nil {
		return 0, err
	}
	// Jobs are delivered in stream order and every job of the stream is
	// this kind's, so the ones waiting ahead are those between the last
	// delivered and this one.
	if seq <= info.Delivered.Stream {
		return 0, nil
	}
	return int(seq - info.Delivered.Stream), nil
}

// Depth is how many jobs wait (not yet taken) and how many are taken and
// not yet acknowledged, across every process doing this kind of work.
func (k *Kind) Depth(ctx context.Context) (waiting, inFlight int, err error) {
	info, err := k.c.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return int(info.NumPending), info.NumAckPending, nil
}

// next waits up to wait for one job; it returns nil when none came.
func (k *Kind) next(wait time.Duration) (*Job, error) {
	var batch jetstream.MessageBatch
	var err error
	if wait <= 0 {
		batch, err = k.c.FetchNoWait(1)
	} else {
		batch, err = k.c.Fetch(1, jetstream.FetchMaxWait(wait))
	}
	if err != nil {
		return nil, err
	}
	if m, ok := <-batch.Messages(); ok { // one message was asked for
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

// KeyValue opens (creating it if missing) a JetStream key-value bucket
// whose keys expire after ttl: small shared state of the processes that
// use the queue (e.g. which viewers were counted this hour). Like streams,
// an existing bucket is opened, not updated.
func (q *Queue) KeyValue(ctx context.Context, bucket string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := q.js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = q.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, TTL: ttl, Storage: jetstream.FileStorage, Replicas: q.cfg.Replicas})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = q.js.KeyValue(ctx, bucket) // another process made it first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("queue: key-value bucket %s: %w", bucket, err)
	}
	return kv, nil
}
