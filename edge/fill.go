package edge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"time"
)

// errShuttingDown refuses new fills once the edge is closing.
var errShuttingDown = errors.New("edge is shutting down")

// fillOutcome is what a fill found out once the origin answered.
type fillOutcome uint8

const (
	// outcomeStream: a new answer; its body streams through fill.body.
	outcomeStream fillOutcome = iota
	// outcomeCached: the re-check found a fresh copy in the cache.
	outcomeCached
	// outcomeRefreshed: the origin answered 304; fill.hit is the
	// refreshed copy.
	outcomeRefreshed
	// outcomeFailed: no usable answer; fill.err says why.
	outcomeFailed
	// outcomePass: the answer is too large to cache; each client fetches
	// it for itself.
	outcomePass
)

// fill is one origin fetch that any number of clients wait on. Its fields
// are written by the fill's goroutine before ready is closed and only read
// after, except body, which is safe for concurrent use.
type fill struct {
	ready   chan struct{}
	outcome fillOutcome
	meta    *entry // outcomeStream: the answer
	hit     cached // outcomeCached, outcomeRefreshed
	err     error  // outcomeFailed
	body    *streamBuffer
	// slice fills: the slice index body holds, when hasSlice.
	slice    int64
	hasSlice bool

	flightKey string // the key of this fill in Edge.flights
	gen       uint64 // Edge.invalGen when the fill started
	keyGen    uint64 // Edge.keyInval's count when the fill started
	// req is the header of the viewer request that started a whole fill
	// (nil for slice fills and revalidations without one): its end-to-end
	// fields are forwarded, and Vary and Authorization are judged by it.
	req http.Header
	// starter is that request, so serveKey can tell it from requests that
	// joined.
	starter *http.Request
	// hints carries the origin's 103 Early Hints to the starter, who
	// alone has asked for this answer before it is known to be shared;
	// hints that find it full are dropped.
	hints chan http.Header
}

// newFill returns a constructor for flight.Group.Join. It records the
// invalidation generation, so a fill that started before an invalidation
// does not store what it fetched (see storeIfCurrent).
func (e *Edge) newFill(flightKey string) func() *fill {
	return func() *fill {
		return &fill{ready: make(chan struct{}), flightKey: flightKey, gen: e.invalGen.Load(), keyGen: e.keyInval.gen.Load()}
	}
}

// failFill leaves the flight group before failing f, so no request can
// join a fill that has already failed: it starts a fresh one instead.
func (e *Edge) failFill(f *fill, err error) {
	e.flights.Leave(f.flightKey, f)
	f.fail(err)
}

// finishBroken is failFill for a fill whose body already streams.
func (e *Edge) finishBroken(f *fill, err error) {
	e.flights.Leave(f.flightKey, f)
	f.body.finish(err)
}

// storeIfCurrent runs store unless an invalidation of key ran since f
// started, and undoes it (removes key) if one ran meanwhile: together with
// invalidate recording itself before removing, no interleaving leaves an
// answer fetched before an invalidation in the cache.
func (e *Edge) storeIfCurrent(f *fill, key string, store func()) bool {
	if e.invalidatedSince(f, key) {
		return false
	}
	store()
	if e.invalidatedSince(f, key) {
		e.remove(key)
		return false
	}
	return true
}

// wait blocks until the fill knows its outcome or ctx ends.
func (f *fill) wait(ctx context.Context) error {
	select {
	case <-f.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxEarlyHints bounds the 103 answers a fill keeps for its starter.
const maxEarlyHints = 4

// waitHinting is wait for the viewer request r, which, when it started the
// fill, is sent the origin's 103 Early Hints as they arrive.
func (f *fill) waitHinting(w http.ResponseWriter, r *http.Request) error {
	if f.hints == nil || f.starter != r {
		return f.wait(r.Context())
	}
	for {
		select {
		case h := <-f.hints:
			writeEarlyHints(w, h)
		case <-f.ready:
			return nil
		case <-r.Context().Done():
			return r.Context().Err()
		}
	}
}

// writeEarlyHints sends one 103 answer with the origin's fields (less
// hop-by-hop ones). net/http sends the whole header map with a 1xx and
// keeps it, so the map is swapped for the hint's and put back after.
func writeEarlyHints(w http.ResponseWriter, hint http.Header) {
	wh := w.Header()
	saved := wh.Clone()
	clear(wh)
	maps.Copy(wh, storedHeader(hint))
	w.WriteHeader(http.StatusEarlyHints)
	clear(wh)
	maps.Copy(wh, saved)
}

func (f *fill) resolve(o fillOutcome, hit cached) {
	f.outcome, f.hit = o, hit
	close(f.ready)
}

func (f *fill) fail(err error) {
	f.outcome, f.err = outcomeFailed, err
	close(f.ready)
}

func (f *fill) startStream(meta *entry, body *streamBuffer) {
	f.outcome, f.meta, f.body = outcomeStream, meta, body
	close(f.ready)
}

// goFill runs fn on a goroutine the Edge owns (Close waits for it), or
// reports false once the Edge is closing.
func (e *Edge) goFill(fn func(ctx context.Context)) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn(e.ctx)
	}()
	return true
}

// joinWholeFill joins or starts the fill of a non-sliced object for the
// viewer request r. prev is the stale copy to revalidate, if any; stored
// is what the cache holds for key (nil for nothing), whose Vary decides
// which requests may share the fill.
func (e *Edge) joinWholeFill(key, uri string, prev *cached, r *http.Request, stored *entry) *fill {
	flightKey := wholeFlightKey(key, r.Header, stored)
	newFill := e.newFill(flightKey)
	f, started := e.flights.Join(flightKey, func() *fill {
		f := newFill()
		f.req, f.starter = r.Header.Clone(), r
		f.hints = make(chan http.Header, maxEarlyHints)
		return f
	})
	if started && !e.goFill(func(ctx context.Context) { e.runWholeFill(ctx, f, key, uri, prev) }) {
		e.failFill(f, errShuttingDown)
	}
	return f
}

// wholeFlightKey is the flight of a whole fill: the cache key, plus what
// keeps requests that may not share one answer apart. Requests with
// Authorization share only with the same credentials (the answer may be
// theirs alone, §3.5); when the stored answer varies, only requests with
// the same values of its Vary fields share. (Before any answer is stored,
// its Vary is not known: the requests that join the first fill get its
// answer only if they match it, see serveKey.)
func wholeFlightKey(key string, req http.Header, stored *entry) string {
	fk := key
	if auth, ok := req["Authorization"]; ok {
		fk += "\x00auth\x00" + strings.Join(auth, "\x00")
	}
	if stored != nil && len(stored.vary) > 0 {
		fk += "\x00vary\x00" + varyKeyOf(stored.vary, req)
	}
	return fk
}

func (e *Edge) runWholeFill(ctx context.Context, f *fill, key, uri string, prev *cached) {
	defer e.flights.Leave(f.flightKey, f)
	now := e.cfg.Now()
	// Re-check the cache inside the flight. The race it closes: request A
	// misses (or finds a stale copy) and heads for join; meanwhile the
	// previous flight for this key stores its fresh answer and leaves the
	// group; A then finds no flight and starts this one. Without the check
	// A would fetch what the cache already holds, once per such latecomer.
	// Because every fill stores before it leaves (the deferred leave runs
	// after store), a flight that starts after another left always sees
	// that one's result here.
	if c, ok := e.lookup(key); ok && c.meta.kind != kindPass && c.meta.fresh(now) && c.meta.varyMatches(f.req) {
		f.resolve(outcomeCached, c)
		return
	}
	var prevMeta *entry
	if prev != nil {
		prevMeta = prev.meta
	}
	e.metrics.originFetches.Inc()
	cond := conditionalHeaders(prevMeta)
	if f.hints != nil {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			if code == http.StatusEarlyHints {
				select {
				case f.hints <- http.Header(h).Clone():
				default:
				}
			}
			return nil
		}})
	}
	resp, err := e.fetch(ctx, key, uri, func(h http.Header) {
		forwardTo(h, fillRequestHeader(f.req))
		e.live.reportViewers(key, h)
		if cond != nil {
			cond(h)
		}
	})
	if err != nil {
		e.noteOriginFailure(err, e.cfg.Now())
		e.failFill(f, err)
		return
	}
	e.noteOriginAnswer(resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		resp.Body.Close()
		f.resolve(outcomeRefreshed, e.refresh(f, *prev, resp.Header, now))
	case resp.StatusCode >= 500 && prev != nil && prev.meta.usableOnError(now):
		resp.Body.Close()
		e.failFill(f, originStatusError{resp.StatusCode})
	default:
		e.streamWhole(f, key, resp, now)
	}
}

// streamWhole streams a whole answer into f and stores it when complete.
func (e *Edge) streamWhole(f *fill, key string, resp *http.Response, now time.Time) {
	defer resp.Body.Close()
	meta := e.newEntry(key, kindWhole, resp.StatusCode, resp.Header, now)
	meta.setVary(f.req)
	cl := resp.ContentLength
	if cl > e.cfg.MaxObjectBytes || isEventStream(resp.Header) {
		// Too large to hold, or an event stream (Server-Sent Events, such
		// as the API's upload progress behind an edge that caches every path), which
		// never ends: each client is proxied on its own, without a buffer.
		e.storePass(key, now)
		f.resolve(outcomePass, cached{})
		return
	}
	meta.setSize(cl)
	meta = withCodingVary(meta)
	switch {
	case meta.storable && len(f.req["Authorization"]) > 0 && !meta.sharedAuthOK:
		// An answer to a request with credentials, not marked as fit for
		// everyone (§3.5): served to its request only. No pass marker:
		// the URL may well be cacheable for requests without credentials.
		meta.storable = false
	case !meta.storable && resp.StatusCode < 500 && passMarkable(key):
		// no-store, private, Set-Cookie, Vary: *, or an uncacheable
		// status: later requests skip the flight and go straight to the
		// origin for a while (hit-for-pass), so they are not collapsed onto
		// one answer. Clients that already joined this flight share it.
		e.storePass(key, now)
	}
	body := newStreamBuffer(max(cl, 0))
	f.startStream(meta, body)
	var stored *entry
	storeComplete := func(b []byte) {
		final := *meta
		final.setSize(int64(len(b)))
		capLivePlaylist(&final, key, b)
		stored = withCodingVary(&final)
		e.storeIfCurrent(f, key, func() { e.storeMemory(stored, b) })
	}
	n, err := body.readFrom(resp.Body, e.cfg.MaxObjectBytes, cl, storeComplete)
	if err == nil && cl >= 0 && n != cl {
		err = fmt.Errorf("%w: got %d of %d bytes", errOriginBody, n, cl)
	}
	switch {
	case errors.Is(err, errTooLarge):
		e.storePass(key, now)
	case err != nil && !errors.Is(err, errOriginBody):
		err = fmt.Errorf("%w: %w", errOriginBody, err)
	}
	if err != nil {
		if stored != nil {
			e.remove(key) // cannot happen with net/http bodies; stay safe
		}
		e.finishBroken(f, err)
		e.log.Warn("fill broke mid-body; not cached", "key", key, "err", err)
		return
	}
	done, _ := body.bytes()
	if stored == nil { // length was unknown until EOF
		storeComplete(done)
	}
	body.finish(nil)
	e.storeIfCurrent(f, key, func() { e.storeDisk(stored, done) })
}

// refresh stores the result of a 304 unless an invalidation intervened;
// either way the revalidated copy answers the waiting clients.
func (e *Edge) refresh(f *fill, prev cached, h http.Header, now time.Time) cached {
	out := prev
	e.storeIfCurrent(f, prev.meta.key, func() { out = e.storeRefreshed(prev, h, now) })
	return out
}

// isEventStream reports whether an answer is a Server-Sent Events stream.
func isEventStream(h http.Header) bool {
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}
