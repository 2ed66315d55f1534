package edge

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/streamfront/streamfront/edge/fastpath"
	"github.com/streamfront/streamfront/internal/httprange"
	"github.com/streamfront/streamfront/internal/usage"
)

// Usage metering (issue "Pay as you go"): with Config.UsageSink set, the
// Edge owns a usage.Meter and counts into it
//
//   - every response to a media path (/videos/…, /live/…) in one place
//     per serving path: the accessLog middleware for net/http (its
//     responseWriter already counts the body bytes written, also of an
//     aborted transfer) and fastAnswerer.Answered for the fast path (the
//     bytes the writev and sendfile calls sent). Both know the cache
//     result; the path gives the video and kind (usage.Classify). The
//     edge's own endpoints (/healthz, /metrics, the invalidation API)
//     and API calls passed through are not deliveries and are not
//     counted.
//   - every upstream body a fill reads (origin.go's watchdogBody, on
//     Close), as origin bytes of the object's video and kind, without a
//     request: collapsed misses share one fill.
//
// Delivered media time: the edge holds neither the index nor the catalog,
// so it takes the object's media duration from the upstream answer's
// X-Streamfront-Media-Duration header (seconds, decimal) when the origin
// sends one, and counts the byte share of it that went out
// (usage.DeliveredShare: a whole segment counts its duration, an MP4
// range its share of the file's duration). Without the header, delivered
// time is zero.
//
// Neither path allocates for metering once a (video, kind, result) key
// has been seen in the current interval: Classify returns a substring of
// the path and the Meter copies a video ID only when it first sees it.

// mediaDurationHeader is the upstream header that carries an object's
// media duration in seconds.
const mediaDurationHeader = "X-Streamfront-Media-Duration"

// usageResults maps the metrics' result index (X-Cache value, then Pass)
// to the usage result.
var usageResults = [xcacheCount + 1]usage.Result{
	xcacheHit:        usage.ResultHit,
	xcacheMiss:       usage.ResultMiss,
	xcacheRefreshHit: usage.ResultRefreshHit,
	xcacheStale:      usage.ResultStale,
	resultPass:       usage.ResultPass,
}

// newMeter starts the Edge's Meter when Config.UsageSink is set.
func newMeter(cfg Config) (*usage.Meter, error) {
	if cfg.UsageSink == nil {
		return nil, nil
	}
	return usage.New(usage.Config{
		Edge: cfg.Name, Sink: cfg.UsageSink, FlushInterval: cfg.UsageInterval,
		Logger: cfg.Logger.With("edge", cfg.Name),
	})
}

// closeMeter flushes what is counted and waits (ShutdownTimeout at most)
// until the Sink has every report, then closes the Sink when it is an
// io.Closer. Called by Close after the fills have stopped.
func (e *Edge) closeMeter() {
	if e.meter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownTimeout)
	defer cancel()
	if err := e.meter.Close(ctx); err != nil {
		e.log.Error("usage reports lost at shutdown", "err", err)
	}
	if c, ok := e.cfg.UsageSink.(io.Closer); ok {
		if err := c.Close(); err != nil {
			e.log.Warn("closing the usage sink", "err", err)
		}
	}
}

// Meter is the Edge's usage meter, nil without Config.UsageSink (tests
// read its Stats and Flush it).
func (e *Edge) Meter() *usage.Meter { return e.meter }

// isMediaPath tells whether a path is one whose answers are deliveries.
func isMediaPath(path string) bool {
	return strings.HasPrefix(path, "/videos/") || strings.HasPrefix(path, "/live/")
}

// meterResponse counts one response answered through net/http; result is
// the metrics' index (resultOf), end when the response ended.
func (e *Edge) meterResponse(r *http.Request, rw *responseWriter, result int, end time.Time) {
	if e.meter == nil || !isMediaPath(r.URL.Path) {
		return
	}
	video, kind := usage.Classify(r.URL.Path)
	ev := usage.Event{Video: video, Kind: kind, Result: usageResults[result], BytesOut: rw.bytes, At: end}
	if rw.pass {
		// A pass-through answer is fetched as it is sent.
		ev.OriginBytes = rw.bytes
	}
	if h := rw.Header(); rw.bytes > 0 && len(h[mediaDurationHeader]) > 0 {
		ev.Delivered = usage.DeliveredShare(rw.bytes, wholeSize(h, rw.status, rw.bytes), mediaDurationOf(h))
	}
	e.meter.Add(ev)
}

// meterFast counts one fast-path answer: a memory hit. The path aliases the
// connection's read buffer; the Meter copies it if it keeps it.
func (e *Edge) meterFast(req *fastpath.Request, a *fastAnswer, sent int64, end time.Time) {
	path := unsafe.String(unsafe.SliceData(req.Path), len(req.Path))
	video, kind := usage.Classify(path)
	ev := usage.Event{Video: video, Kind: kind, Result: usage.ResultHit, BytesOut: sent, At: end}
	if d := a.fb.mediaDuration; d > 0 {
		ev.Delivered = usage.DeliveredShare(sent, a.m.size, d)
	}
	e.meter.Add(ev)
}

// fillCounter returns what a fill's upstream body calls on Close with the
// bytes it read, or nil without metering.
func (e *Edge) fillCounter(requestURI string) func(int64) {
	if e.meter == nil {
		return nil
	}
	return func(n int64) {
		video, kind := usage.Classify(requestURI)
		e.meter.AddFill(video, kind, n, time.Time{})
	}
}

// mediaDurationOf reads X-Streamfront-Media-Duration (seconds); zero when
// absent, not a positive number, or over a year.
func mediaDurationOf(h http.Header) time.Duration {
	v := h[mediaDurationHeader]
	if len(v) == 0 {
		return 0
	}
	s, err := strconv.ParseFloat(strings.TrimSpace(v[0]), 64)
	// Bound it (a year) so a hostile or broken upstream cannot overflow
	// the nanosecond sums.
	if err != nil || !(s > 0) || s > 365*24*3600 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// wholeSize is the size of the whole object a response carried part or
// all of: Content-Range's total for a 206, else Content-Length, else the
// bytes sent.
func wholeSize(h http.Header, status int, sent int64) int64 {
	if status == http.StatusPartialContent {
		if cr := h["Content-Range"]; len(cr) > 0 {
			if _, total, err := httprange.ParseContentRange(cr[0]); err == nil && total > 0 {
				return total
			}
		}
	}
	if cl := h["Content-Length"]; len(cl) > 0 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return sent
}
