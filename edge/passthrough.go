package edge

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// newPassThroughProxy proxies requests that are not cached (API calls,
// POSTs, uncacheable answers) to the origin over the shared transport, so
// connections are reused.
func (e *Edge) newPassThroughProxy() *httputil.ReverseProxy {
	target, _ := url.Parse(e.cfg.Origin) // validated in withDefaults
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header["Via"] = e.hdrs.via
		},
		Transport: e.transport,
		// -1 flushes every write: Server-Sent Events (upload progress)
		// must not sit in a buffer.
		FlushInterval: -1,
		ModifyResponse: func(resp *http.Response) error {
			e.setEdgeHeaders(resp.Header, xcacheMiss, 0)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			e.writeError(w, r, classifyTransportError(err))
		},
	}
}

// passThrough proxies one request uncached. The write deadline is lifted:
// a pass-through answer may be a long event stream, and the origin side
// has its own timeouts.
func (e *Edge) passThrough(w http.ResponseWriter, r *http.Request) error {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	e.metrics.passThrough.Inc()
	if rw, ok := w.(*responseWriter); ok {
		rw.pass = true
	}
	e.proxy.ServeHTTP(w, r)
	return nil
}
