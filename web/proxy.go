package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/streamfront/streamfront/internal/httperr"
)

// newAPIProxy returns the reverse proxy that forwards /api/ to the origin
// unchanged, so the browser uploads and follows progress on the site's own
// host (no CORS, one cookie-free origin).
//
// Bodies stream both ways: httputil.ReverseProxy copies the request body to
// the upstream as it arrives (an upload of gigabytes never sits in memory
// here), and it flushes each write of a response that has no length, such as
// the text/event-stream of /api/v1/videos/{id}/events, so progress events
// reach the browser as they happen.
func newAPIProxy(target *url.URL, transport http.RoundTripper, logger *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: transport,
		// -1 flushes after every write. ReverseProxy already does so for
		// event streams; this keeps any other long answer streaming too.
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, r.Context().Err()) {
				return // the browser went away; nobody is left to answer
			}
			logger.Warn("api proxy: upstream failed", "method", r.Method, "path", r.URL.Path, "err", err)
			httperr.Write(w, r, http.StatusBadGateway, "The video API did not answer. Check that the origin is running, then try again.")
		},
	}
}
