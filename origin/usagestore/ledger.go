package usagestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/store"
)

// Config configures a Ledger.
type Config struct {
	// Store is the bucket. Required.
	Store *store.Store
	// Horizon is how long after its end an hour may still receive reports:
	// the edges' usage.Config.MaxReportAge plus their FlushInterval and
	// some slack for clocks. Past it an hour is final and its day is
	// folded into one object. It defaults to 25 h (the Meter's default
	// MaxReportAge is 24 h).
	Horizon time.Duration
	// CompactEvery is how often Run folds new reports; a report that
	// arrives more than an hour late shows in queries after the next round
	// (the last two hours are always read with their raw reports). Each
	// round reads every hour of the days not final yet (24 to 50 hours with
	// the default Horizon): one GET and one LIST per 1,000 reports of the
	// hour, plus the new reports. It defaults to 5 min.
	CompactEvery time.Duration
	// DayLookback is how many closed days before the horizon Run checks for
	// a missing day object (after an origin was down). It defaults to 3.
	DayLookback int
	// Parallel bounds the S3 reads of one query or compaction in flight. It
	// defaults to 8.
	Parallel int
	// MaxObjectBytes bounds what is read of one hour or day object. It
	// defaults to 256 MiB.
	MaxObjectBytes int64
	// Now is the clock (tests move it). It defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// maxRawBytes bounds one raw report read (a Meter's report is far below).
const maxRawBytes = 64 << 20

// Ledger is usage kept in S3: it stores reports (Sink), compacts them
// (CompactHour, CompactDay, Run) and answers queries (Query).
type Ledger struct {
	cfg Config
	log *slog.Logger
}

// New builds a Ledger; it does not touch the network.
func New(cfg Config) (*Ledger, error) {
	if cfg.Store == nil {
		return nil, errors.New("usagestore: Store is required")
	}
	if cfg.Horizon <= 0 {
		cfg.Horizon = 25 * time.Hour
	}
	if cfg.CompactEvery <= 0 {
		cfg.CompactEvery = 5 * time.Minute
	}
	if cfg.DayLookback <= 0 {
		cfg.DayLookback = 3
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.MaxObjectBytes <= 0 {
		cfg.MaxObjectBytes = 256 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Ledger{cfg: cfg, log: cfg.Logger}, nil
}

// Sink is where reports go when this process writes them itself.
func (l *Ledger) Sink() *Sink { return &Sink{Store: l.cfg.Store} }

// hourObject is usage/hourly/{hour}.json.
type hourObject struct {
	Hour    time.Time      `json:"hour"`
	Folded  seqSet         `json:"folded"`
	Records []usage.Record `json:"records"`
}

// dayObject is usage/daily/{day}.json: the day's records, hour by hour.
type dayObject struct {
	Day     time.Time      `json:"day"`
	Records []usage.Record `json:"records"`
}

// hourState is an hour as S3 has it now: its object (empty when none yet)
// and the raw reports that object does not fold yet.
type hourState struct {
	obj   hourObject
	etag  string // "" when the object does not exist
	fresh []freshReport
	// unreadable are raw keys whose content is not the report the key
	// names: CompactHour marks them folded so they are not read again.
	unreadable []rawID
}

type freshReport struct {
	id rawID
	r  *usage.Report
}

func (st *hourState) records() []usage.Record {
	out := slices.Clip(st.obj.Records) // appends never write into the object's array
	for _, f := range st.fresh {
		out = append(out, f.r.Records()...)
	}
	return out
}

// readHour reads the hour's object and, when listRaw or there is no
// object yet, the raw reports it does not fold yet.
func (l *Ledger) readHour(ctx context.Context, hour time.Time, listRaw bool) (*hourState, error) {
	st := &hourState{obj: hourObject{Hour: hour, Folded: seqSet{}}}
	body, etag, err := l.cfg.Store.Get(ctx, hourlyKey(hour), l.cfg.MaxObjectBytes)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(body, &st.obj); err != nil {
			return nil, fmt.Errorf("usagestore: %s: %w", hourlyKey(hour), err)
		}
		if st.obj.Folded == nil {
			st.obj.Folded = seqSet{}
		}
		st.etag = etag
		if !listRaw {
			return st, nil
		}
	}
	prefix := rawPrefix(hour)
	var todo []rawID
	var todoKeys []string
	after := ""
	for {
		keys, more, err := l.cfg.Store.ListPage(ctx, prefix, after, "", 1000)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if id, ok := parseRawKey(prefix, k); ok && !st.obj.Folded.has(id) {
				todo = append(todo, id)
				todoKeys = append(todoKeys, k)
			}
		}
		if !more || len(keys) == 0 {
			break
		}
		after = keys[len(keys)-1]
	}
	fresh := make([]freshReport, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.cfg.Parallel)
	for i, id := range todo {
		g.Go(func() error {
			r, err := l.readRaw(gctx, todoKeys[i], hour, id)
			fresh[i] = freshReport{id: id, r: r}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, f := range fresh {
		if f.r != nil {
			st.fresh = append(st.fresh, f)
		} else {
			st.unreadable = append(st.unreadable, f.id)
		}
	}
	return st, nil
}

// readRaw reads one report; nil (no error) for one that is not what its
// key says, which is logged and left out rather than counted wrongly.
func (l *Ledger) readRaw(ctx context.Context, key string, hour time.Time, id rawID) (*usage.Report, error) {
	body, _, err := l.cfg.Store.Get(ctx, key, maxRawBytes)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // removed since the listing (an expiry rule)
	}
	if err != nil {
		return nil, err
	}
	var r usage.Report
	// A report that does not decode, or fails Validate, is ignored below.
	if err = json.Unmarshal(body, &r); err == nil {
		err = r.Validate()
	}
	if err != nil || r.Edge != id.edge || r.Run != id.run || r.Seq != id.seq || !r.Hour.Equal(hour) {
		l.log.Error("usage report ignored: not what its key says", slog.String("key", key), slog.Any("err", err))
		return nil, nil
	}
	return &r, nil
}

// maxCompactTries bounds how often a compaction that lost the race to
// another is tried again.
const maxCompactTries = 20

// CompactHour folds the hour's new raw reports into its object. It is
// idempotent and safe to run in several processes at once: the object
// names every report it folds, and it is replaced only if unchanged since
// read (If-Match), else read again.
func (l *Ledger) CompactHour(ctx context.Context, hour time.Time) error {
	hour = usage.HourOf(hour)
	for attempt := 0; ; attempt++ {
		st, err := l.readHour(ctx, hour, true)
		if err != nil {
			return err
		}
		if len(st.fresh) == 0 && len(st.unreadable) == 0 {
			return nil
		}
		for _, f := range st.fresh {
			st.obj.Folded.add(f.id)
		}
		for _, id := range st.unreadable {
			st.obj.Folded.add(id) // considered, counted as nothing
		}
		st.obj.Records = usage.Fold(st.records())
		body, err := json.Marshal(st.obj)
		if err != nil {
			return err
		}
		if st.etag == "" {
			_, err = l.cfg.Store.PutIfAbsent(ctx, hourlyKey(hour), body, "application/json")
		} else {
			_, err = l.cfg.Store.PutIfMatch(ctx, hourlyKey(hour), body, "application/json", st.etag)
		}
		if errors.Is(err, store.ErrPrecondition) && attempt < maxCompactTries {
			// Another compactor wrote first: fold on top of its object,
			// after a random pause so two that keep meeting drift apart
			// (five immediate tries lost all five under -race).
			pause := time.Duration(1+rand.IntN(10*(attempt+1))) * time.Millisecond
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
			continue
		}
		return err
	}
}

// dayFinal tells whether no report can reach day any more.
func (l *Ledger) dayFinal(day time.Time) bool {
	return !day.Add(24 * time.Hour).Add(l.cfg.Horizon).After(l.cfg.Now())
}

// ErrNotFinal means a day may still receive reports (see Config.Horizon).
var ErrNotFinal = errors.New("usagestore: the day may still receive reports")

// CompactDay writes the day's object from its hours (objects and raw
// reports), once the day is final; a day already written is left alone.
func (l *Ledger) CompactDay(ctx context.Context, day time.Time) error {
	day = usage.DayOf(day)
	if !l.dayFinal(day) {
		return fmt.Errorf("usagestore: compact %s: %w", day.Format(dayFormat), ErrNotFinal)
	}
	if _, err := l.cfg.Store.Head(ctx, dailyKey(day)); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hours := make([][]usage.Record, 24)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.cfg.Parallel)
	for i := range hours {
		g.Go(func() error {
			st, err := l.readHour(gctx, day.Add(time.Duration(i)*time.Hour), true)
			if err == nil {
				hours[i] = st.records()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	body, err := json.Marshal(dayObject{Day: day, Records: usage.Fold(hours...)})
	if err != nil {
		return err
	}
	_, err = l.cfg.Store.PutIfAbsent(ctx, dailyKey(day), body, "application/json")
	if errors.Is(err, store.ErrPrecondition) {
		return nil // another process wrote the same day
	}
	return err
}

// Run compacts every CompactEvery until ctx is done: the hours that may
// still change, then the closed days missing their object.
func (l *Ledger) Run(ctx context.Context) error {
	t := time.NewTicker(l.cfg.CompactEvery)
	defer t.Stop()
	for {
		l.CompactRecent(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// CompactRecent is one round of Run; failures are logged and retried by
// the next round.
func (l *Ledger) CompactRecent(ctx context.Context) {
	now := l.cfg.Now()
	// Every hour of the days not final yet: queries read those days hour
	// by hour, so each hour should be one object.
	for h := usage.DayOf(now.Add(-l.cfg.Horizon)); !h.After(now); h = h.Add(time.Hour) {
		if err := l.CompactHour(ctx, h); err != nil && ctx.Err() == nil {
			l.log.Warn("usage: compact hour", slog.Time("hour", h), slog.Any("err", err))
		}
	}
	last := usage.DayOf(now.Add(-l.cfg.Horizon)).Add(-24 * time.Hour)
	for d := last.AddDate(0, 0, -l.cfg.DayLookback); !d.After(last); d = d.AddDate(0, 0, 1) {
		if !l.dayFinal(d) {
			continue
		}
		if err := l.CompactDay(ctx, d); err != nil && ctx.Err() == nil {
			l.log.Warn("usage: compact day", slog.Time("day", d), slog.Any("err", err))
		}
	}
}

// Query answers q from S3: a closed day's object where there is one, else
// the day's hour objects, plus the raw reports not folded yet of the last
// two hours, so answers are current to the last flush of every edge.
func (l *Ledger) Query(ctx context.Context, q usage.Query) (usage.Answer, error) {
	q, err := q.Normalize()
	if err != nil {
		return usage.Answer{}, err
	}
	now := l.cfg.Now()
	var days []time.Time
	for day := usage.DayOf(q.From); day.Before(q.To); day = day.Add(24 * time.Hour) {
		days = append(days, day)
	}
	// First the closed days' objects, then the hours of the days without
	// one: two rounds, since a task of a limited errgroup must not wait
	// for a slot of the same group.
	// Objects are summed into the answer as they arrive: the query holds
	// its rows and the objects being read, not the whole period's records.
	var mu sync.Mutex
	agg := usage.NewAggregator(q)
	add := func(rs []usage.Record) {
		mu.Lock()
		agg.Add(rs)
		mu.Unlock()
	}
	missing := make([]bool, len(days))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.cfg.Parallel)
	for i, day := range days {
		if !l.dayFinal(day) {
			missing[i] = true
			continue
		}
		g.Go(func() error {
			body, _, err := l.cfg.Store.Get(gctx, dailyKey(day), l.cfg.MaxObjectBytes)
			if errors.Is(err, store.ErrNotFound) {
				missing[i] = true // not compacted yet: read its hours
				return nil
			}
			if err != nil {
				return err
			}
			var d dayObject
			if err := json.Unmarshal(body, &d); err != nil {
				return fmt.Errorf("usagestore: %s: %w", dailyKey(day), err)
			}
			add(d.Records)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return usage.Answer{}, err
	}
	var hours []time.Time
	for i, day := range days {
		if !missing[i] {
			continue
		}
		end := day.Add(24 * time.Hour)
		if q.To.Before(end) {
			end = q.To
		}
		h := day
		if h.Before(q.From) {
			h = q.From
		}
		for ; h.Before(end) && !h.After(now); h = h.Add(time.Hour) {
			hours = append(hours, h)
		}
	}
	// Raw reports are listed for the last two hours only (and for hours
	// with no object yet): older ones are in their hour's object, or will
	// be after the Compactor's next round (a late report).
	recent := usage.HourOf(now).Add(-time.Hour)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(l.cfg.Parallel)
	for _, h := range hours {
		g.Go(func() error {
			st, err := l.readHour(gctx, h, !h.Before(recent))
			if err == nil {
				add(st.records())
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return usage.Answer{}, err
	}
	return agg.Answer(), nil
}
