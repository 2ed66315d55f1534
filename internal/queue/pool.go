package queue

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// priorityWait is how long a free slot waits on each kind but the last.
const priorityWait = 50 * time.Millisecond

// Pool works jobs from consumers with a fixed number of slots.
type Pool struct {
	// Kinds are taken from in order: a job of the first goes before any
	// job of the second, and so on. Required.
	Kinds []*Kind
	// Slots is how many jobs run at once. It defaults to 1.
	Slots int
	// Handle does one job and settles it (Done, Retry or Drop). ctx ends
	// when the pool stops: a job it then leaves unsettled is given back for
	// another worker at once (a worker that dies instead loses its jobs
	// after AckWait). Required.
	Handle func(ctx context.Context, j *Job)
	// AckWait is the consumers' AckWait: heartbeats go every AckWait/3.
	// It defaults to 30 s.
	AckWait time.Duration
	// Poll bounds the wait on the last consumer before the others are
	// looked at again. It defaults to 500 ms.
	Poll time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Run takes and works jobs until ctx is done, then waits for the jobs in
// flight to return (they see ctx end).
func (p *Pool) Run(ctx context.Context) error {
	if len(p.Kinds) == 0 || p.Handle == nil {
		return errors.New("queue: a pool needs kinds and a handler")
	}
	slots := max(p.Slots, 1)
	ackWait := p.AckWait
	if ackWait <= 0 {
		ackWait = 30 * time.Second
	}
	poll := p.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	free := make(chan struct{}, slots)
	for range slots {
		free <- struct{}{}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		// A slot first, then a job: a busy worker takes nothing, so jobs
		// wait in the queue where any other worker can take them.
		select {
		case <-ctx.Done():
			return nil
		case <-free:
		}
		j := p.take(ctx, poll, log)
		if j == nil {
			free <- struct{}{}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { free <- struct{}{} }()
			p.work(ctx, j, ackWait, log)
		}()
	}
}

// take returns the first job it finds, looking at the consumers in
// priority order; nil when none came within poll (or ctx ended).
func (p *Pool) take(ctx context.Context, poll time.Duration, log *slog.Logger) *Job {
	for i, c := range p.Kinds {
		if ctx.Err() != nil {
			return nil
		}
		// A kind ahead of others gets a short wait, not none: a no-wait
		// fetch can come back empty while a job is there (seen right after
		// publishing), which would let a lower kind's job jump ahead.
		wait := priorityWait
		if i == len(p.Kinds)-1 {
			wait = poll
		}
		j, err := c.next(wait)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("queue fetch", slog.String("consumer", c.Name()), slog.Any("err", err))
				select { // NATS is down or restarting: do not spin
				case <-ctx.Done():
				case <-time.After(poll):
				}
			}
			return nil
		}
		if j != nil {
			return j
		}
	}
	return nil
}

// work runs one job, sending heartbeats while it runs.
func (p *Pool) work(ctx context.Context, j *Job, ackWait time.Duration, log *slog.Logger) {
	hbCtx, stop := context.WithCancel(ctx)
	var hb sync.WaitGroup
	hb.Add(1)
	go func() {
		defer hb.Done()
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				if err := j.heartbeat(); err != nil {
					log.Warn("job heartbeat", slog.String("subject", j.Subject), slog.Any("err", err))
				}
			}
		}
	}()
	defer func() {
		stop()
		hb.Wait()
		j.giveBack()
	}()
	p.Handle(ctx, j)
}
