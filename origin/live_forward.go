package origin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/internal/httperr"
)

// A broadcast's muxer lives in the origin process its encoder reached
// (the host), but edges reach the origins through one URL that may land
// on any of them. A request for a broadcast hosted elsewhere is forwarded
// to its host: the host writes its own URL (Config.PeerURL) into the
// stream's record when the encoder connects, and the record's lease says
// whether that host is alive. The answer is streamed through as it comes
// (parts, blocking playlist reloads), not buffered.
//
// Only requests for live paths look the host up: live files and DVR
// paths, and master.m3u8 after the videos found no video by that ID. A
// lookup is one S3 read per stream per liveHostCacheFor, shared by every
// request for it meanwhile.

// liveForwardedHeader marks a forwarded request, so a host that lost the
// broadcast meanwhile answers it rather than forwarding it on.
const liveForwardedHeader = "Streamfront-Live-Forwarded"

// liveHostCacheFor is how long a stream's host (or that it has none) is
// remembered. A new host after a reconnect is found within it.
const liveHostCacheFor = time.Second

// liveHostCacheMax bounds the remembered hosts; past it they are all
// forgotten (at most one read per stream per second follows).
const liveHostCacheMax = 10000

// liveHosts remembers which origin hosts each stream's broadcast.
type liveHosts struct {
	mu sync.Mutex
	m  map[string]liveHost
}

type liveHost struct {
	url   string // "" for none
	until time.Time
}

// hostOf is the URL of the origin hosting stream id's broadcast, or ""
// when none is on air or its host has stopped renewing its lease.
func (l *liveService) hostOf(ctx context.Context, id string) string {
	now := time.Now()
	l.hostCache.mu.Lock()
	h, ok := l.hostCache.m[id]
	l.hostCache.mu.Unlock()
	if ok && now.Before(h.until) {
		return h.url
	}
	host := ""
	rec, err := l.streams.get(ctx, id)
	switch {
	case err == nil:
		if (rec.Status == liveLive || rec.Status == liveIdle) && rec.Broadcast > 0 && !leaseExpired(rec, now, l.cfg.HostLeaseTTL) {
			host = rec.HostURL
		}
	case errors.Is(err, errNoLiveStream):
	default:
		return "" // S3 trouble: not remembered, the next request asks again
	}
	l.hostCache.mu.Lock()
	if l.hostCache.m == nil || len(l.hostCache.m) >= liveHostCacheMax {
		l.hostCache.m = make(map[string]liveHost)
	}
	l.hostCache.m[id] = liveHost{url: host, until: now.Add(liveHostCacheFor)}
	l.hostCache.mu.Unlock()
	return host
}

// forwardLive forwards r, a request for stream id's live HLS or DVR, to
// the origin hosting the broadcast, and reports whether it did. It does
// not when this origin hosts it, when nobody does, or when r was itself
// forwarded.
func (s *Server) forwardLive(w http.ResponseWriter, r *http.Request, id string) bool {
	if s.live == nil || r.Header.Get(liveForwardedHeader) != "" || s.live.m.Broadcasting(id) {
		return false
	}
	host := s.live.hostOf(r.Context(), id)
	if host == "" || host == s.peerURL {
		return false
	}
	target, err := url.Parse(host)
	if err != nil {
		return false
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Set(liveForwardedHeader, "1")
		},
		Transport:     s.live.forwardTransport,
		FlushInterval: -1, // parts reach viewers as they are made
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				s.log.Warn("live: forward to the hosting origin failed", slog.String("stream", id), slog.String("host", host), slog.Any("err", err))
			}
			s.responder().Respond(w, r, httperr.New(http.StatusBadGateway,
				"The server running this broadcast did not answer; try again in a few seconds."))
		},
	}
	proxy.ServeHTTP(w, r)
	return true
}

// forwardingLive forwards requests for a broadcast hosted on another
// origin there (the DVR's: its window is in the host's memory).
func (s *Server) forwardingLive(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.forwardLive(w, r, chi.URLParam(r, "id")) {
			next.ServeHTTP(w, r)
		}
	})
}

// newForwardTransport is the transport of forwarded live requests: a
// blocking playlist reload waits at the host until the part it asks for
// exists, so there is no response header timeout (the edge's own request
// deadline bounds it), only a connect timeout.
func newForwardTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
}

// peerURLOf is the URL other origins reach a listener at when none is
// configured: its address, when it is a specific one.
func peerURLOf(ln net.Listener) string {
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		return ""
	}
	return "http://" + tcp.String()
}
