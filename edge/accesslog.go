package edge

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// accessLog wraps the route table: it records each request in the
// metrics and, when Config.AccessLog is set, writes one JSON line with
// CloudFront standard log field names. The fast path records its answers
// the same way (fastAnswerer.Answered).
func (e *Edge) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &responseWriter{ResponseWriter: w}
		defer func() {
			// Runs on panic(http.ErrAbortHandler) too, so aborted transfers
			// are counted and logged.
			elapsed := time.Since(start)
			result := e.resultOf(rw)
			e.metrics.requests[result].Inc()
			e.metrics.duration[result].Observe(elapsed.Seconds())
			e.metrics.bytesServed.Add(float64(rw.bytes))
			e.meterResponse(r, rw, result, start.Add(elapsed))
			e.live.observeRequest(r, rw.Header())
			if e.cfg.AccessLog == nil {
				return
			}
			e.writeAccessLog(e.accessRecordOf(r, rw, start, elapsed, resultLabels[result]))
		}()
		next.ServeHTTP(rw, r)
	})
}

// resultOf reads the cache result back from the X-Cache header set on the
// response; a response proxied without caching counts as Pass.
func (e *Edge) resultOf(rw *responseWriter) int {
	if rw.pass {
		return resultPass
	}
	v := rw.Header()["X-Cache"]
	if len(v) == 0 {
		return int(xcacheMiss)
	}
	// The values are the precomputed slices: compare pointers, not text.
	for x := range xcacheCount {
		if &v[0] == &e.hdrs.xcache[x][0] {
			return int(x)
		}
	}
	return int(xcacheMiss)
}

// accessRecord is what one access log line tells about a request and its
// answer.
type accessRecord struct {
	start   time.Time
	elapsed time.Duration
	result  string

	remoteAddr                       string
	method, host, path, rawQuery     string
	referer, userAgent, forwardedFor string
	proto                            string
	tls                              bool
	requestBytes                     int64

	status                                   int // 0: aborted before any status
	bytes                                    int64
	contentType, contentLength, contentRange string
}

// accessRecordOf describes a request answered through net/http.
func (e *Edge) accessRecordOf(r *http.Request, rw *responseWriter, start time.Time, elapsed time.Duration, result string) *accessRecord {
	h := rw.Header()
	return &accessRecord{
		start: start, elapsed: elapsed, result: result,
		remoteAddr: r.RemoteAddr,
		method:     r.Method, host: r.Host, path: r.URL.Path, rawQuery: r.URL.RawQuery,
		referer: r.Referer(), userAgent: r.UserAgent(), forwardedFor: r.Header.Get("X-Forwarded-For"),
		proto: r.Proto, tls: r.TLS != nil, requestBytes: max(r.ContentLength, 0),
		status: rw.status, bytes: rw.bytes,
		contentType: h.Get("Content-Type"), contentLength: h.Get("Content-Length"), contentRange: h.Get("Content-Range"),
	}
}

// writeAccessLog writes one line; lines from concurrent requests do not
// interleave.
func (e *Edge) writeAccessLog(rec *accessRecord) {
	line := e.accessLogLine(rec)
	e.accessLogMu.Lock()
	// An access log that cannot be written must not stop serving; the
	// writer (a file, stdout) reports its own trouble.
	_, _ = e.cfg.AccessLog.Write(line)
	e.accessLogMu.Unlock()
}

// accessLogLine formats one access log record.
func (e *Edge) accessLogLine(a *accessRecord) []byte {
	host, port, err := net.SplitHostPort(a.remoteAddr)
	if err != nil {
		host = a.remoteAddr
	}
	utc := a.start.UTC()
	rec := map[string]any{
		"date":                        utc.Format("2006-01-02"),
		"time":                        utc.Format("15:04:05"),
		"x-edge-location":             e.cfg.Name,
		"sc-bytes":                    a.bytes,
		"c-ip":                        host,
		"c-port":                      port,
		"cs-method":                   a.method,
		"cs(Host)":                    a.host,
		"cs-uri-stem":                 a.path,
		"sc-status":                   a.status,
		"cs(Referer)":                 dashIfEmpty(a.referer),
		"cs(User-Agent)":              dashIfEmpty(a.userAgent),
		"cs-uri-query":                dashIfEmpty(redactToken(a.rawQuery)),
		"x-edge-result-type":          a.result,
		"x-edge-response-result-type": a.result,
		"x-host-header":               a.host,
		"cs-protocol":                 "http",
		"cs-protocol-version":         a.proto,
		"cs-bytes":                    a.requestBytes,
		"time-taken":                  strconv.FormatFloat(a.elapsed.Seconds(), 'f', 3, 64),
		"x-forwarded-for":             dashIfEmpty(a.forwardedFor),
		"sc-content-type":             dashIfEmpty(a.contentType),
		"sc-content-len":              dashIfEmpty(a.contentLength),
		"sc-range-start":              "-",
		"sc-range-end":                "-",
	}
	if a.tls {
		rec["cs-protocol"] = "https"
	}
	if cr := a.contentRange; strings.HasPrefix(cr, "bytes ") && !strings.HasPrefix(cr, "bytes */") {
		span, _, _ := strings.Cut(strings.TrimPrefix(cr, "bytes "), "/")
		first, last, _ := strings.Cut(span, "-")
		rec["sc-range-start"], rec["sc-range-end"] = first, last
	}
	line, _ := json.Marshal(rec)
	return append(line, '\n')
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
