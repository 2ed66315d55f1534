package usage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// outbox holds flushed reports until the Sink accepts them, oldest first,
// within a byte budget.
type outbox struct {
	mu       sync.Mutex
	queue    []pending
	bytes    int64
	max      int64
	closed   bool          // no more pushes: the sender ends once the queue is empty
	notify   chan struct{} // a push or closeInput happened
	sent     int64
	errs     int64
	dropped  int64
	dropReqs int64
	dropOut  int64
}

type pending struct {
	r    *Report
	size int64
	made time.Time
}

func (o *outbox) init(max int) {
	o.max = int64(max)
	o.notify = make(chan struct{}, 1)
}

// reportSize approximates a report's memory and JSON size: the bound on
// pending reports is in these units.
func reportSize(r *Report) int64 {
	n := int64(256)
	for _, row := range r.Rows {
		n += 128 + int64(len(row.Video))
	}
	return n
}

// push queues r, or drops it (counted) when the budget is spent: the
// Meter keeps counting while the Sink is away, at bounded memory.
func (o *outbox) push(r *Report, now time.Time) error {
	size := reportSize(r)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		o.countDropLocked(r)
		return fmt.Errorf("the meter is closed")
	}
	if o.bytes+size > o.max {
		o.countDropLocked(r)
		return fmt.Errorf("%d bytes of reports already wait for the sink (MaxPendingBytes %d)", o.bytes, o.max)
	}
	o.queue = append(o.queue, pending{r: r, size: size, made: now})
	o.bytes += size
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return nil
}

func (o *outbox) closeInput() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

// head waits for the oldest report; false when the input is closed and
// nothing is left, or ctx ended.
func (o *outbox) head(ctx context.Context) (pending, bool) {
	for {
		o.mu.Lock()
		if len(o.queue) > 0 {
			p := o.queue[0]
			o.mu.Unlock()
			return p, true
		}
		closed := o.closed
		o.mu.Unlock()
		if closed {
			return pending{}, false
		}
		select {
		case <-o.notify:
		case <-ctx.Done():
			return pending{}, false
		}
	}
}

// pop removes the head (only the sender removes, so it is p); sent says
// whether the Sink has it or it was dropped.
func (o *outbox) pop(sent bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.queue[0]
	o.queue[0] = pending{}
	o.queue = o.queue[1:]
	o.bytes -= p.size
	if sent {
		o.sent++
	} else {
		o.countDropLocked(p.r)
	}
}

func (o *outbox) countDropLocked(r *Report) {
	o.dropped++
	for _, row := range r.Rows {
		o.dropReqs += row.Requests
		o.dropOut += row.BytesOut
	}
}

func (o *outbox) sinkError() {
	o.mu.Lock()
	o.errs++
	o.mu.Unlock()
}

// dropAll drops what is left (Close's deadline passed).
func (o *outbox) dropAll() (reports, requests int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range o.queue {
		o.countDropLocked(p.r)
		reports++
		for _, row := range p.r.Rows {
			requests += row.Requests
		}
	}
	o.queue, o.bytes = nil, 0
	return reports, requests
}

func (o *outbox) stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return Stats{Sent: o.sent, Pending: int64(len(o.queue)), PendingBytes: o.bytes, SinkErrors: o.errs,
		DroppedReports: o.dropped, DroppedRequests: o.dropReqs, DroppedBytesOut: o.dropOut}
}

// send gives reports to the Sink one at a time, oldest first, retrying a
// failure after a backoff that doubles from RetryMin to RetryMax. Retrying
// the same *Report keeps its ID, so a Put that reached storage but whose
// answer was lost is not counted twice.
func (m *Meter) send() {
	defer m.wg.Done()
	log := m.cfg.Logger
	backoff := time.Duration(0)
	for {
		p, ok := m.out.head(m.senderCtx)
		if !ok {
			return
		}
		if age := m.cfg.Now().Sub(p.made); age > m.cfg.MaxReportAge {
			log.Error("usage report dropped: the sink refused it for too long",
				slog.String("report", p.r.ID()), slog.Duration("age", age))
			m.out.pop(false)
			continue
		}
		ctx, cancel := context.WithTimeout(m.senderCtx, m.cfg.PutTimeout)
		err := m.cfg.Sink.Put(ctx, p.r)
		cancel()
		if err == nil {
			m.out.pop(true)
			backoff = 0
			continue
		}
		m.out.sinkError()
		backoff = min(max(2*backoff, m.cfg.RetryMin), m.cfg.RetryMax)
		log.Warn("usage report not stored; retrying", slog.String("report", p.r.ID()),
			slog.Duration("in", backoff), slog.Any("err", err))
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-m.senderCtx.Done():
			t.Stop()
			return
		}
	}
}
