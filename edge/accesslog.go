package edge

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// accessLog wraps the route table: it records each request in the
// metrics and, when Config.AccessLog is set, writes one JSON line with
// CloudFront standard log field names.
func (e *Edge) accessLog(next http.Handler) http.Handler {
	var mu sync.Mutex // serializes lines on the shared writer
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
			if e.cfg.AccessLog == nil {
				return
			}
			line := e.accessLogLine(r, rw, start, elapsed, resultLabels[result])
			mu.Lock()
			e.cfg.AccessLog.Write(line)
			mu.Unlock()
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

// accessLogLine formats one access log record.
func (e *Edge) accessLogLine(r *http.Request, rw *responseWriter, start time.Time, elapsed time.Duration, result string) []byte {
	host, port, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	utc := start.UTC()
	status := rw.status // 0: aborted before any status
	rec := map[string]any{
		"date":                        utc.Format("2006-01-02"),
		"time":                        utc.Format("15:04:05"),
		"x-edge-location":             e.cfg.Name,
		"sc-bytes":                    rw.bytes,
		"c-ip":                        host,
		"c-port":                      port,
		"cs-method":                   r.Method,
		"cs(Host)":                    r.Host,
		"cs-uri-stem":                 r.URL.Path,
		"sc-status":                   status,
		"cs(Referer)":                 dashIfEmpty(r.Referer()),
		"cs(User-Agent)":              dashIfEmpty(r.UserAgent()),
		"cs-uri-query":                dashIfEmpty(redactToken(r.URL.RawQuery)),
		"x-edge-result-type":          result,
		"x-edge-response-result-type": result,
		"x-host-header":               r.Host,
		"cs-protocol":                 "http",
		"cs-protocol-version":         r.Proto,
		"cs-bytes":                    max(r.ContentLength, 0),
		"time-taken":                  strconv.FormatFloat(elapsed.Seconds(), 'f', 3, 64),
		"x-forwarded-for":             dashIfEmpty(r.Header.Get("X-Forwarded-For")),
		"sc-content-type":             dashIfEmpty(rw.Header().Get("Content-Type")),
		"sc-content-len":              dashIfEmpty(rw.Header().Get("Content-Length")),
		"sc-range-start":              "-",
		"sc-range-end":                "-",
	}
	if r.TLS != nil {
		rec["cs-protocol"] = "https"
	}
	if cr := rw.Header().Get("Content-Range"); strings.HasPrefix(cr, "bytes ") && !strings.HasPrefix(cr, "bytes */") {
		span, _, _ := strings.Cut(strings.TrimPrefix(cr, "bytes "), "/")
		a, b, _ := strings.Cut(span, "-")
		rec["sc-range-start"], rec["sc-range-end"] = a, b
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
