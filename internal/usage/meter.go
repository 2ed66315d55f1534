package usage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Sink takes a flushed Report to durable storage. Put must be idempotent
// by Report.ID: storing a report whose ID is already stored succeeds and
// changes nothing. A Meter calls Put from one goroutine, oldest report
// first, and retries it after an error.
type Sink interface {
	Put(ctx context.Context, r *Report) error
}

// Config configures a Meter.
type Config struct {
	// Edge is this edge's name, as in its X-Cache header. Required, 1-64 of
	// [A-Za-z0-9._-].
	Edge string
	// Sink receives the reports. Required.
	Sink Sink
	// FlushInterval is how often counts leave memory: a kill -9 loses at
	// most this much. It defaults to 10 s.
	FlushInterval time.Duration
	// MaxKeys bounds the distinct (hour, video, kind, result) keys one
	// stripe holds between flushes; past it, events are counted under
	// video "" (Stats.Overflowed says how many), so totals stay exact while
	// a flood of made-up video IDs cannot exhaust memory. Memory is at most
	// about MaxKeys × stripes × 200 bytes (stripes: twice GOMAXPROCS,
	// rounded up to a power of two, at most 16: 16 MB on 2 cores, 64 MB on
	// 8 or more). It defaults to 20,000.
	MaxKeys int
	// MaxPendingBytes bounds the encoded reports waiting for the Sink (it is
	// down or slow). A report that would pass it is dropped and counted in
	// Stats. It defaults to 32 MiB: at a few KiB per report, hours of
	// reports of a busy edge.
	MaxPendingBytes int
	// MaxReportAge is how long an unsent report is retried before it is
	// dropped (and counted). Storage takes reports older than this as late
	// and final (origin/usagestore compacts hours past it for good). It
	// defaults to 24 h.
	MaxReportAge time.Duration
	// MaxRowsPerReport splits an hour's flush into several reports (each
	// its own seq) past this many rows, so one report stays below NATS's
	// default 1 MB message limit (about 150 bytes of JSON a row). It
	// defaults to 4,000.
	MaxRowsPerReport int
	// RetryMin and RetryMax bound the backoff between attempts at a
	// failing Sink. They default to 1 s and 1 min.
	RetryMin, RetryMax time.Duration
	// PutTimeout bounds one Sink.Put. It defaults to 30 s.
	PutTimeout time.Duration
	// Now is the clock (tests move it). It defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if !ValidName(c.Edge) {
		return fmt.Errorf("usage: edge name %q: want 1-64 of [A-Za-z0-9._-]", c.Edge)
	}
	if c.Sink == nil {
		return errors.New("usage: Sink is required")
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 10 * time.Second
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 20_000
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = 32 << 20
	}
	if c.MaxReportAge <= 0 {
		c.MaxReportAge = 24 * time.Hour
	}
	if c.MaxRowsPerReport <= 0 {
		c.MaxRowsPerReport = 4000
	}
	if c.RetryMin <= 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(time.Minute, c.RetryMin)
	}
	if c.PutTimeout <= 0 {
		c.PutTimeout = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Stats says what a Meter did; the edge exports them as metrics.
type Stats struct {
	// Sent counts reports the Sink accepted.
	Sent int64
	// Pending and PendingBytes are the reports waiting for the Sink.
	Pending, PendingBytes int64
	// SinkErrors counts failed Sink.Put attempts.
	SinkErrors int64
	// DroppedReports, DroppedRequests and DroppedBytesOut count what was
	// lost because the Sink stayed unreachable (MaxPendingBytes or
	// MaxReportAge reached, or Close's context ended first).
	DroppedReports, DroppedRequests, DroppedBytesOut int64
	// Overflowed counts events counted under video "" because MaxKeys was
	// reached.
	Overflowed int64
}

// Meter counts an edge's deliveries and reports them. Add is safe from any
// number of goroutines; New starts the Meter's two goroutines (the flush
// ticker and the sender) and Close stops them.
type Meter struct {
	cfg     Config
	run     string
	stripes []stripe
	mask    uint32

	flushMu   sync.Mutex // one flush at a time: seq and lastFlush follow each other
	seq       uint64
	lastFlush time.Time
	drainBuf  []drained // reused by each flush

	out outbox

	overflowed atomic.Int64

	stop      chan struct{} // closed by Close: the ticker ends
	senderCtx context.Context
	cancel    context.CancelFunc // ends the sender (Close's deadline)
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New starts a Meter.
func New(cfg Config) (*Meter, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	n := stripeCount(runtime.GOMAXPROCS(0))
	m := &Meter{
		cfg:       cfg,
		run:       hex.EncodeToString(b[:]),
		stripes:   make([]stripe, n),
		mask:      uint32(n - 1),
		lastFlush: cfg.Now(),
		stop:      make(chan struct{}),
	}
	for i := range m.stripes {
		m.stripes[i].counts = make(map[meterKey]*Counts)
	}
	m.out.init(cfg.MaxPendingBytes)
	m.senderCtx, m.cancel = context.WithCancel(context.Background())
	m.wg.Add(2)
	go m.tick()
	go m.send()
	return m, nil
}

// Run is this process's run ID (part of every report ID).
func (m *Meter) Run() string { return m.run }

// Add counts one response. It does not allocate once its key has been seen
// in the current interval, and it never waits for the Sink. Events added
// after Close are not reported.
func (m *Meter) Add(e Event) {
	at := e.At
	if at.IsZero() {
		at = m.cfg.Now()
	}
	hour := at.Unix() / 3600
	m.stripeFor().add(meterKey{hour: hour, video: e.Video, kind: e.Kind, result: e.Result},
		Counts{Requests: 1, BytesOut: e.BytesOut, OriginBytes: e.OriginBytes, DeliveredNanos: int64(e.Delivered)},
		m.cfg.MaxKeys, &m.overflowed)
}

// AddFill counts bytes fetched upstream (shield or origin) for an object
// of video, with no request of its own: one fill may answer many
// requests (collapsed misses) and may outlive the viewer who asked, so the
// edge counts fills where they happen, not per response. The bytes are
// counted under ResultMiss.
func (m *Meter) AddFill(video string, kind Kind, originBytes int64, at time.Time) {
	if originBytes <= 0 {
		return
	}
	if at.IsZero() {
		at = m.cfg.Now()
	}
	m.stripeFor().add(meterKey{hour: at.Unix() / 3600, video: video, kind: kind, result: ResultMiss},
		Counts{OriginBytes: originBytes}, m.cfg.MaxKeys, &m.overflowed)
}

// Flush makes reports of what was counted since the last flush and queues
// them for the Sink; it does not wait for them to be sent. The Meter
// flushes by itself every FlushInterval; tests and Close call it too.
func (m *Meter) Flush() {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	now := m.cfg.Now()
	byHour := map[int64][]ReportRow{}
	buf := m.drainBuf[:0]
	for i := range m.stripes {
		buf = m.stripes[i].drain(buf)
	}
	merged := make(map[meterKey]*Counts, len(buf))
	for _, d := range buf {
		if c := merged[d.k]; c != nil {
			c.add(d.c)
		} else {
			c := d.c
			merged[d.k] = &c
		}
	}
	clear(buf) // drop the video strings of keys that may leave
	m.drainBuf = buf[:0]
	for k, c := range merged {
		byHour[k.hour] = append(byHour[k.hour], ReportRow{Video: k.video, Kind: k.kind, Result: k.result, Counts: *c})
	}
	hours := make([]int64, 0, len(byHour))
	for h := range byHour {
		hours = append(hours, h)
	}
	sortInts(hours)
	for _, h := range hours {
		rows := byHour[h]
		sortReportRows(rows)
		for chunk := range slices.Chunk(rows, m.cfg.MaxRowsPerReport) {
			m.seq++
			r := &Report{Edge: m.cfg.Edge, Run: m.run, Seq: m.seq, Hour: time.Unix(h*3600, 0).UTC(),
				From: m.lastFlush.UTC(), To: now.UTC(), Rows: chunk}
			if err := m.out.push(r, now); err != nil {
				m.cfg.Logger.Error("usage report dropped", slog.String("report", r.ID()), slog.Any("err", err))
			}
		}
	}
	m.lastFlush = now
}

// Close flushes what is counted and waits until the Sink has every report
// or ctx ends; what is still unsent then is dropped, counted in Stats and
// reported as an error.
func (m *Meter) Close(ctx context.Context) error {
	var err error
	m.closeOnce.Do(func() {
		close(m.stop) // the ticker's last act is a flush, then the sender drains
		stopCancel := context.AfterFunc(ctx, m.cancel)
		defer stopCancel()
		m.wg.Wait()
		m.cancel()
		if n, reqs := m.out.dropAll(); n > 0 {
			err = fmt.Errorf("usage: closed with %d reports (%d requests) unsent: %w", n, reqs, context.Cause(ctx))
		}
	})
	return err
}

// Stats reports the Meter's counters.
func (m *Meter) Stats() Stats {
	s := m.out.stats()
	s.Overflowed = m.overflowed.Load()
	return s
}

// tick flushes every FlushInterval, and once more when Close is called.
func (m *Meter) tick() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			m.Flush()
		case <-m.stop:
			m.Flush()
			m.out.closeInput() // the sender may finish once the queue is empty
			return
		}
	}
}

func stripeCount(procs int) int {
	n := 1
	// Past 16 stripes, two cores rarely pick the same one anyway, and each
	// stripe may hold every busy key once more.
	for n < 2*procs && n < 16 {
		n <<= 1
	}
	return n
}
