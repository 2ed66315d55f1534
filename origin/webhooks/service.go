package webhooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/origin/store"
)

// Lines on the queue, and the key-value buckets.
const (
	kindEvents     = "webhook-events"
	kindDeliveries = "webhook-deliveries"
	bucketSent     = "STREAMFRONT_WEBHOOK_SENT"
	bucketLog      = "STREAMFRONT_WEBHOOK_LOG"
	// sentFor is how long an event's fan-out is remembered, so a change
	// reported twice (a job redelivered after a crash) is sent once.
	sentFor = 30 * 24 * time.Hour
	// logFor is how long an endpoint's attempt log lives without news.
	logFor = 7 * 24 * time.Hour
	// logLen is how many attempts each endpoint's log keeps.
	logLen = 50
	// maxResponse bounds what is read of a receiver's answer (the start
	// of an error body, for the log).
	maxResponse = 512
)

// Object is what an event is about.
type Object struct {
	Type string `json:"type"` // "video" or "live_stream"
	ID   string `json:"id"`
}

// Event is one thing that happened.
type Event struct {
	// ID names the event for receivers, which de-duplicate by it (delivery
	// is at least once). NewEvent derives it from the type, the object and
	// a discriminator, so reporting the same change twice is one event.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Object    Object    `json:"object"`
}

// NewEvent is an event of type t about obj at now. once tells apart
// events of the same type about the same object (e.g. the update's time);
// "" for those that happen once in an object's life (ready, deleted).
func NewEvent(t string, obj Object, once string, now time.Time) Event {
	h := sha256.Sum256([]byte(t + "\x00" + obj.Type + "\x00" + obj.ID + "\x00" + once))
	return Event{ID: "evt_" + hex.EncodeToString(h[:12]), Type: t, CreatedAt: now.UTC(), Object: obj}
}

// Emitter publishes events; every process that changes videos has one.
type Emitter struct{ kind *queue.Kind }

// NewEmitter opens the events line of q.
func NewEmitter(ctx context.Context, q *queue.Queue) (*Emitter, error) {
	k, err := q.Kind(ctx, kindEvents)
	if err != nil {
		return nil, err
	}
	return &Emitter{kind: k}, nil
}

// Emit queues ev for every endpoint that wants it. Emitting the same
// event twice within the queue's duplicate window is one publish; later,
// the fan-out remembers it (sentFor).
func (e *Emitter) Emit(ctx context.Context, ev Event) error {
	body, _ := json.Marshal(ev)
	_, err := e.kind.Publish(ctx, ev.ID, body)
	return err
}

// Config builds a Service.
type Config struct {
	Store *store.Store // the endpoints. Required.
	Queue *queue.Queue // the events and deliveries. Required.
	// Render is an event's data: the object as the API shows it when the
	// event is fanned out (nil when it is gone). Required.
	Render func(ctx context.Context, ev Event) (any, error)
	// Client sends the deliveries; it defaults to one with a 10 s timeout.
	Client *http.Client
	// RetryFor is how long after an event its failed deliveries are tried
	// again. It defaults to 24 h (Mux's window).
	RetryFor time.Duration
	// Slots bounds deliveries in flight in this process; default 8.
	Slots  int
	Logger *slog.Logger
	Now    func() time.Time
}

// Service keeps the endpoints and delivers the events (origins run it).
type Service struct {
	cfg        Config
	eps        endpoints
	emitter    *Emitter
	deliveries *queue.Kind
	sent, log  jetstream.KeyValue
	// logMu orders this process's log updates (other processes are
	// ordered by the bucket's revisions).
	logMu sync.Mutex
}

// New opens what the service needs on the queue.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Queue == nil || cfg.Render == nil {
		return nil, errors.New("webhooks: a service needs a store, a queue and a renderer")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second,
			// A receiver that redirects is told no: the signature was made
			// for it, not for wherever it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.RetryFor == 0 {
		cfg.RetryFor = 24 * time.Hour
	}
	if cfg.Slots == 0 {
		cfg.Slots = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, eps: endpoints{cfg.Store}}
	var err error
	if s.emitter, err = NewEmitter(ctx, cfg.Queue); err != nil {
		return nil, err
	}
	// The handler gives up by the event's age (RetryFor), not by a count.
	if s.deliveries, err = cfg.Queue.Kind(ctx, kindDeliveries, queue.Redeliver(-1)); err != nil {
		return nil, err
	}
	if s.sent, err = cfg.Queue.KeyValue(ctx, bucketSent, sentFor); err != nil {
		return nil, err
	}
	if s.log, err = cfg.Queue.KeyValue(ctx, bucketLog, logFor); err != nil {
		return nil, err
	}
	return s, nil
}

// Emitter is the service's own emitter.
func (s *Service) Emitter() *Emitter { return s.emitter }

// Run fans events out and delivers them until ctx is done; deliveries in
// flight then are given back to the queue.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p := queue.Pool{Kinds: []*queue.Kind{s.emitter.kind}, Slots: 1, Handle: s.fanOut,
			AckWait: s.cfg.Queue.AckWait(), Logger: s.cfg.Logger}
		_ = p.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		p := queue.Pool{Kinds: []*queue.Kind{s.deliveries}, Slots: s.cfg.Slots, Handle: s.deliver,
			AckWait: s.cfg.Queue.AckWait(), Logger: s.cfg.Logger}
		_ = p.Run(ctx)
	}()
	wg.Wait()
	return nil
}

// delivery is one event for one endpoint, with the exact body sent.
type delivery struct {
	Endpoint string          `json:"endpoint"`
	Event    Event           `json:"event"`
	Body     json.RawMessage `json:"body"`
}

// payload is the JSON POSTed to receivers.
type payload struct {
	Event
	Data any `json:"data"`
}

func (s *Service) fanOut(ctx context.Context, j *queue.Job) {
	var ev Event
	if err := json.Unmarshal(j.Body(), &ev); err != nil {
		s.cfg.Logger.Error("webhooks: unreadable event dropped", slog.Any("err", err))
		_ = j.Drop()
		return
	}
	if _, err := s.sent.Get(ctx, ev.ID); err == nil {
		_ = j.Done() // fanned out before (the same change reported again)
		return
	}
	if err := s.publish(ctx, ev); err != nil {
		s.cfg.Logger.Warn("webhooks: fan-out failed; retrying", slog.String("event", ev.ID), slog.Any("err", err))
		_ = j.Retry(5 * time.Second)
		return
	}
	// Remembered after publishing: a crash in between publishes again,
	// which the deliveries' job IDs de-duplicate.
	if _, err := s.sent.Put(ctx, ev.ID, []byte{1}); err != nil {
		s.cfg.Logger.Warn("webhooks: fan-out not remembered", slog.String("event", ev.ID), slog.Any("err", err))
	}
	_ = j.Done()
}

func (s *Service) publish(ctx context.Context, ev Event) error {
	eps, err := s.eps.list(ctx)
	if err != nil {
		return err
	}
	var body []byte
	for _, ep := range eps {
		if !ep.Wants(ev.Type) {
			continue
		}
		if body == nil {
			data, err := s.cfg.Render(ctx, ev)
			if err != nil {
				return err
			}
			if body, err = json.Marshal(payload{Event: ev, Data: data}); err != nil {
				return err
			}
		}
		if err := s.queueDelivery(ctx, ep.ID, ev, body); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) queueDelivery(ctx context.Context, endpoint string, ev Event, body []byte) error {
	job, _ := json.Marshal(delivery{Endpoint: endpoint, Event: ev, Body: body})
	_, err := s.deliveries.Publish(ctx, ev.ID+"."+endpoint, job)
	return err
}

// Backoff is the wait before attempt n+1 after attempt n failed: 10 s
// doubling, at most an hour.
func Backoff(n int) time.Duration {
	if n > 9 {
		return time.Hour
	}
	return min(10*time.Second<<(n-1), time.Hour)
}

func (s *Service) deliver(ctx context.Context, j *queue.Job) {
	var d delivery
	if err := json.Unmarshal(j.Body(), &d); err != nil {
		s.cfg.Logger.Error("webhooks: unreadable delivery dropped", slog.Any("err", err))
		_ = j.Drop()
		return
	}
	ep, err := s.eps.get(ctx, d.Endpoint)
	if errors.Is(err, ErrNotFound) {
		_ = j.Drop() // the endpoint was deleted
		return
	}
	if err != nil {
		_ = j.Retry(Backoff(1))
		return
	}
	a := s.send(ctx, ep, d, j.Attempt)
	if ctx.Err() != nil {
		return // stopping: the job goes back to the queue unsettled
	}
	switch {
	case a.OK:
		_ = j.Done()
	case s.cfg.Now().Sub(d.Event.CreatedAt)+Backoff(j.Attempt) > s.cfg.RetryFor:
		a.GaveUp = true
		_ = j.Drop()
	default:
		next := s.cfg.Now().Add(Backoff(j.Attempt)).UTC()
		a.NextAttempt = &next
		_ = j.Retry(Backoff(j.Attempt))
	}
	if err := s.record(ctx, ep.ID, a); err != nil {
		s.cfg.Logger.Warn("webhooks: attempt not logged", slog.String("endpoint", ep.ID), slog.Any("err", err))
	}
}

// Attempt is one try at delivering an event, as the log shows it.
type Attempt struct {
	EventID     string     `json:"event_id"`
	Type        string     `json:"type"`
	At          time.Time  `json:"at"`
	Attempt     int        `json:"attempt"`
	OK          bool       `json:"ok"`
	Status      int        `json:"status,omitempty"`
	Error       string     `json:"error,omitempty"`
	DurationMS  int64      `json:"duration_ms"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	GaveUp      bool       `json:"gave_up,omitempty"`
}

func (s *Service) send(ctx context.Context, ep *Endpoint, d delivery, attempt int) Attempt {
	start := s.cfg.Now()
	a := Attempt{EventID: d.Event.ID, Type: d.Event.Type, At: start.UTC(), Attempt: attempt}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Body))
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Streamfront-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(ep.Secret, start, d.Body))
	resp, err := s.cfg.Client.Do(req)
	a.DurationMS = s.cfg.Now().Sub(start).Milliseconds()
	if err != nil {
		a.Error = err.Error()
		return a
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	a.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
	if !a.OK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		a.Error = fmt.Sprintf("the receiver answered %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection reusable
	return a
}

// record puts a at the head of the endpoint's log, keeping logLen.
func (s *Service) record(ctx context.Context, endpoint string, a Attempt) error {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	for range 5 { // another process may update the same log between read and write
		entries, rev, err := s.readLog(ctx, endpoint)
		if err != nil {
			return err
		}
		entries = append([]Attempt{a}, entries...)
		entries = entries[:min(len(entries), logLen)]
		body, _ := json.Marshal(entries)
		if rev == 0 {
			_, err = s.log.Create(ctx, endpoint, body)
		} else {
			_, err = s.log.Update(ctx, endpoint, body, rev)
		}
		if err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
	}
	return errors.New("webhooks: the attempt log kept changing under us")
}

func (s *Service) readLog(ctx context.Context, endpoint string) ([]Attempt, uint64, error) {
	e, err := s.log.Get(ctx, endpoint)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var entries []Attempt
	if err := json.Unmarshal(e.Value(), &entries); err != nil {
		return nil, 0, err
	}
	return entries, e.Revision(), nil
}

// Create registers an endpoint for the event types listed (all if none).
func (s *Service) Create(ctx context.Context, url string, events []string) (*Endpoint, error) {
	return s.eps.create(ctx, url, events, s.cfg.Now())
}

// Get is one endpoint (ErrNotFound if there is none).
func (s *Service) Get(ctx context.Context, id string) (*Endpoint, error) { return s.eps.get(ctx, id) }

// List is every endpoint, oldest first.
func (s *Service) List(ctx context.Context) ([]*Endpoint, error) { return s.eps.list(ctx) }

// Delete removes an endpoint; its queued deliveries are dropped as they
// come up.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.eps.delete(ctx, id); err != nil {
		return err
	}
	if err := s.log.Delete(ctx, id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	return nil
}

// Attempts is the endpoint's log, newest first.
func (s *Service) Attempts(ctx context.Context, id string) ([]Attempt, error) {
	if _, err := s.eps.get(ctx, id); err != nil {
		return nil, err
	}
	entries, _, err := s.readLog(ctx, id)
	if entries == nil {
		entries = []Attempt{}
	}
	return entries, err
}

// SendTest queues a webhook.test event for one endpoint and returns it.
func (s *Service) SendTest(ctx context.Context, id string) (Event, error) {
	if _, err := s.eps.get(ctx, id); err != nil {
		return Event{}, err
	}
	now := s.cfg.Now()
	ev := NewEvent(Test, Object{Type: "webhook", ID: id}, now.Format(time.RFC3339Nano), now)
	body, err := json.Marshal(payload{Event: ev, Data: map[string]string{"message": "This is a test event from Streamfront."}})
	if err != nil {
		return Event{}, err
	}
	return ev, s.queueDelivery(ctx, id, ev, body)
}
