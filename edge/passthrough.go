package edge

import (
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/streamfront/streamfront/internal/urlsign"
)

// newPassThroughProxy proxies requests that are not cached (API calls,
// POSTs, uncacheable answers) to the origin over the shared transport, so
// connections are reused. Upstream requests are signed like fills and
// lose the token of a signed URL; an answer the origin marks as needing a
// token is checked against the incoming request before it is passed on
// (such answers are only passed through when uncacheable, e.g. too large).
func (e *Edge) newPassThroughProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The origin of the path's behaviour in the Host's distribution.
			up := e.dists.forRequest(pr.In).originFor(pr.In.URL.Path)
			pr.SetURL(up.url)
			pr.SetXForwarded()
			pr.Out.URL.RawQuery = withoutToken(pr.Out.URL.RawQuery)
			pr.Out.Header["Via"] = e.hdrs.via
			pr.Out = pr.Out.WithContext(withInbound(pr.Out.Context(), pr.In))
			if up.s3 != nil {
				if err := up.s3.sign(pr.Out.Context(), pr.Out, time.Now()); err != nil {
					e.log.Warn("pass-through to S3 unsigned", "origin", up.name, "err", err)
				}
				return
			}
			e.signUpstream(pr.Out)
		},
		Transport: e.transport,
		// -1 flushes every write: Server-Sent Events (upload progress)
		// must not sit in a buffer.
		FlushInterval: -1,
		ModifyResponse: func(resp *http.Response) error {
			if v := resp.Header.Get(urlsign.AccessHeader); v != "" {
				if in := inboundOf(resp.Request); in != nil {
					m := &entry{header: resp.Header}
					m.setAccess()
					if _, err := e.checkAccess(in, m, e.fromPeerEdge(in)); err != nil {
						return err
					}
				}
			}
			if in := inboundOf(resp.Request); in != nil {
				e.invalidateAfterUnsafe(in, resp)
			}
			e.setEdgeHeaders(resp.Header, xcacheMiss, 0)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if !errors.Is(err, errAccessDenied) {
				err = classifyTransportError(err)
			}
			e.writeError(w, r, err)
		},
	}
}

// passThrough proxies one request uncached. The write deadline is lifted:
// a pass-through answer may be a long event stream, and the origin side
// has its own timeouts. A request body (an upload of gigabytes through the
// site) may take as long as it keeps arriving: the read deadline moves
// ReadTimeout ahead at each read, so only a body that stalls that long is
// cut.
func (e *Edge) passThrough(w http.ResponseWriter, r *http.Request) error {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &movingDeadlineBody{ReadCloser: r.Body, rc: rc, idle: e.cfg.ReadTimeout}
	}
	e.metrics.passThrough.Inc()
	if rw, ok := w.(*responseWriter); ok {
		rw.pass = true
	}
	e.proxy.ServeHTTP(w, r)
	return nil
}

// movingDeadlineBody pushes the connection's read deadline forward before
// each read of a request body.
type movingDeadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (b *movingDeadlineBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	return b.ReadCloser.Read(p)
}
