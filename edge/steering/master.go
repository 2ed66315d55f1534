package steering

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/urlsign"
)

// serveMaster answers GET /videos/{id}/master.m3u8 with the content-steered
// master: the edges' master playlist, one copy of every stream per edge,
// the best edge first.
func (rt *Router) serveMaster(w http.ResponseWriter, r *http.Request, id string) error {
	order := orderPathways(rt.statuses(), viewerReport{}, -1)
	pathAndQuery := r.URL.EscapedPath()
	query := safeQuery(r.URL.RawQuery)
	if query != "" {
		pathAndQuery += "?" + query
	}
	// A signed cookie is the viewer's credential for the edge as much as a
	// query token is: pass it on, and never share what it opened.
	cookie := ""
	if c, err := r.Cookie(urlsign.CookieName); err == nil && c.Value != "" {
		cookie = c.Value
	}
	playlist, err := rt.master(r.Context(), pathAndQuery, cookie, order)
	if err != nil {
		return err
	}
	body, err := playlist.steer(steerTarget{
		masterPath: r.URL.EscapedPath(),
		pathways:   rt.edgesByName(order),
		rebaseFrom: rt.edgeURLs,
		serverURI:  "/steer/" + id,
		query:      query,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errBadMaster, err)
	}
	h := w.Header()
	rt.setCommonHeaders(h)
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	// The answer is a routing decision for this viewer at this moment,
	// and may carry the viewer's token: for no cache to keep or share.
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Steering-Pathway", order[0])
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// master returns the parsed master playlist at pathAndQuery, from the
// cache or from the first edge in order that answers it, asked with the
// viewer's signed cookie when there is one. Concurrent misses for one key
// share one fetch. The key is the path, the query and the cookie: a
// playlist fetched with one viewer's token is never given to another.
func (rt *Router) master(ctx context.Context, pathAndQuery, cookie string, order []string) (*masterPlaylist, error) {
	key := pathAndQuery
	if cookie != "" {
		key += "\x00cookie=" + cookie
	}
	if p, ok := rt.masters.get(key, time.Now()); ok {
		return p, nil
	}
	ch := rt.flights.DoChan(key, func() (any, error) {
		// Re-check inside the flight. Between this caller's miss above and
		// DoChan, an earlier flight for the key may have finished: it
		// stored its playlist and left the group, so DoChan started a new
		// flight instead of joining it. Without this check that flight
		// would fetch again what is already cached.
		if p, ok := rt.masters.get(key, time.Now()); ok {
			return p, nil
		}
		// The fetch serves every caller that joins it, so one leaving must
		// not cancel it: it runs on the Router's context (Close ends it),
		// bounded by EdgeFetchTimeout per edge.
		p, ttl, err := rt.fetchMaster(rt.ctx, pathAndQuery, cookie, order)
		if err == nil {
			rt.masters.put(key, p, ttl, time.Now())
		}
		return p, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*masterPlaylist), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetchMaster asks the edges in order until one answers: a connection
// failure, a timeout or a 5xx moves on to the next edge; a 4xx is the
// answer (the edges share the origin, so the others would say the same).
func (rt *Router) fetchMaster(ctx context.Context, pathAndQuery, cookie string, order []string) (*masterPlaylist, time.Duration, error) {
	var errs []error
	for _, e := range rt.edgesByName(order) {
		p, ttl, err := rt.fetchMasterFrom(ctx, e, pathAndQuery, cookie)
		if err == nil {
			return p, ttl, nil
		}
		var se edgeStatusError
		if errors.As(err, &se) || errors.Is(err, errBadMaster) {
			return nil, 0, err
		}
		rt.log.Warn("master playlist fetch failed; trying the next edge", "edge", e.Name, "path", pathAndQuery, "err", err)
		errs = append(errs, err)
	}
	return nil, 0, fmt.Errorf("%w: %w", errEdgesFailed, errors.Join(errs...))
}

// fetchMasterFrom fetches and parses the master from one edge, with how
// long it may be cached.
func (rt *Router) fetchMasterFrom(ctx context.Context, e Edge, pathAndQuery, cookie string) (*masterPlaylist, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, rt.cfg.EdgeFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.internal()+pathAndQuery, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/vnd.apple.mpegurl, audio/mpegurl;q=0.9, */*;q=0.1")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: urlsign.CookieName, Value: cookie})
	}
	resp, err := rt.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("edge %s: %w", e.Name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return nil, 0, fmt.Errorf("edge %s answered %d", e.Name, resp.StatusCode)
	case resp.StatusCode >= 400:
		return nil, 0, edgeStatusError{edge: e.Name, status: resp.StatusCode}
	case resp.StatusCode != http.StatusOK:
		return nil, 0, fmt.Errorf("%w: edge %s answered %d", errBadMaster, e.Name, resp.StatusCode)
	}
	limit := rt.cfg.MaxMasterBytes
	if resp.ContentLength > limit {
		return nil, 0, fmt.Errorf("%w: edge %s sent %d bytes, more than MaxMasterBytes %d", errBadMaster, e.Name, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, 0, fmt.Errorf("edge %s: reading the body: %w", e.Name, err)
	}
	if int64(len(body)) > limit {
		return nil, 0, fmt.Errorf("%w: edge %s sent more than MaxMasterBytes %d", errBadMaster, e.Name, limit)
	}
	p, err := parseMaster(body)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: from edge %s: %w", errBadMaster, e.Name, err)
	}
	return p, freshness(resp.Header, rt.cfg.MasterCacheTTL), nil
}

// safeQuery returns a request's raw query ready to be copied into playlist
// URIs and a Location: double quotes, spaces and control bytes, which
// would break an attribute or a line, are percent-encoded. Everything else
// is kept byte for byte, in order, since a signature may cover it.
func safeQuery(raw string) string {
	if !strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f }) {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c == '"' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
