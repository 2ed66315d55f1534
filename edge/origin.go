package edge

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// newOriginTransport is shared by fills and the pass-through proxy, so both
// reuse the same pool of keep-alive connections to the origin.
func newOriginTransport(cfg Config) *http.Transport {
	dialer := &net.Dialer{Timeout: cfg.OriginConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.OriginConnectTimeout,
		ResponseHeaderTimeout: cfg.OriginFirstByteTimeout,
		ExpectContinueTimeout: time.Second,
		// Fills must see the origin's bytes as sent, so lengths and ranges
		// stay true; compression toward clients is the edge's own job.
		DisableCompression: true,
	}
}

// fetch sends one GET for a fill of the object key: to the object's
// shield when there are shields, falling back to the origin when the
// shield cannot be reached or answers 502/503/504; otherwise to the
// origin.
func (e *Edge) fetch(ctx context.Context, key, requestURI string, setHeaders func(http.Header)) (*http.Response, error) {
	d, path := e.dists.ofKey(key)
	if j := strings.IndexAny(path, "?"+string(sliceKeySep)); j >= 0 {
		path = path[:j] // the object's path: what behaviours match
	}
	origin := d.originFor(path)
	// The shield picks the distribution by Host, as this edge did: it is
	// sent the distribution's first host (any of them selects it), or its
	// own host for a default distribution without hosts.
	if i := e.shields.pick(key); i >= 0 {
		base := e.shieldBases[i]
		resp, err := e.fetchFrom(ctx, &upstream{name: "shield", base: base, host: d.host}, requestURI, setHeaders)
		switch {
		case err != nil:
			e.log.Warn("shield unavailable; falling back to the origin", "shield", base, "key", key, "err", err)
		case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
			resp.Body.Close()
			e.log.Warn("shield failed; falling back to the origin", "shield", base, "key", key, "status", resp.StatusCode)
		default:
			return resp, nil
		}
	}
	return e.fetchFrom(ctx, origin, requestURI, setHeaders)
}

// fetchFrom sends one GET to the upstream's base+requestURI. The response body is wrapped
// so a stall longer than OriginReadTimeout between reads cancels it;
// closing the body releases everything.
func (e *Edge) fetchFrom(ctx context.Context, up *upstream, requestURI string, setHeaders func(http.Header)) (*http.Response, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, up.base+requestURI, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if up.host != "" {
		req.Host = up.host
	}
	req.Header.Set("User-Agent", "streamfront-edge/"+e.cfg.Name)
	req.Header["Via"] = e.hdrs.via
	if setHeaders != nil {
		setHeaders(req.Header)
	}
	if up.s3 != nil {
		if err := up.s3.sign(ctx, req, time.Now()); err != nil {
			cancel()
			return nil, err
		}
	} else {
		e.signUpstream(req)
	}
	start := time.Now()
	resp, err := e.transportFor(requestURI).RoundTrip(req)
	e.metrics.originTTFB.Observe(time.Since(start).Seconds())
	if err != nil {
		cancel()
		return nil, classifyTransportError(err)
	}
	resp.Body = &watchdogBody{rc: resp.Body, d: e.cfg.OriginReadTimeout, cancel: cancel,
		timer: time.AfterFunc(e.cfg.OriginReadTimeout, cancel), counted: e.fillCounter(requestURI)}
	return resp, nil
}

// watchdogBody cancels a stalled origin read: every read that returns
// bytes pushes the deadline forward.
type watchdogBody struct {
	rc     io.ReadCloser
	d      time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
	// read counts the body bytes; counted, when metering, gets them at
	// the first Close (meter.go).
	read    int64
	counted func(int64)
}

func (b *watchdogBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.d)
		b.read += int64(n)
	}
	return n, err
}

func (b *watchdogBody) Close() error {
	if b.counted != nil {
		b.counted(b.read)
		b.counted = nil
	}
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}

// conditionalHeaders makes a revalidation request out of a stored entry.
func conditionalHeaders(prev *entry) func(http.Header) {
	if prev == nil {
		return nil
	}
	return func(h http.Header) {
		if prev.etag != "" {
			h.Set("If-None-Match", prev.etag)
		}
		if prev.lastModified != "" {
			h.Set("If-Modified-Since", prev.lastModified)
		}
	}
}

// requestURIOf is the path and query forwarded to the origin: the token
// of a signed URL stays at the edge.
func requestURIOf(r *http.Request) string {
	uri := r.URL.RequestURI()
	if !strings.HasPrefix(uri, "/") {
		return "/"
	}
	if r.URL.RawQuery != "" {
		if q := withoutToken(r.URL.RawQuery); q != r.URL.RawQuery {
			uri, _, _ = strings.Cut(uri, "?")
			if q != "" {
				uri += "?" + q
			}
		}
	}
	return uri
}
