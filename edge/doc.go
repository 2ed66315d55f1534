// Package edge is Streamfront's caching reverse proxy: it sits between
// viewers and the origin and serves HLS playlists, segments and progressive
// MP4 downloads from a two-tier cache.
//
// The pieces, each in its own file:
//
//   - config.go: Config, its defaults and validation.
//   - edge.go: Edge, the route table (route), Run, Serve, Close, and the
//     origin-health flag that lets stale copies answer at once.
//   - cache.go, cache_memory.go, cache_disk.go: the memory tier (W-TinyLFU
//     via otter, byte budget) over the disk tier (one file per item with a
//     header, written to a temp name then renamed, index rebuilt by a scan
//     on start, length checked at rebuild and on every open).
//   - entry.go, freshness.go: cached metadata and RFC 9111 freshness
//     (Cache-Control, Expires, Age, TTL floor/ceiling, negative TTL,
//     stale-while-revalidate, stale-if-error).
//   - flight.go: deduplication of concurrent fills of one key.
//   - fill.go, fill_buffer.go: one origin fetch whose body is streamed to
//     every waiting client while it arrives, then stored; a broken body is
//     never stored and breaks every client's connection.
//   - slice.go: large objects (MP4) cached as aligned slices fetched with
//     Range, with one slice of read-ahead.
//   - serve.go, serve_range.go: hit/stale/refresh/miss decisions and
//     answers from cache (304, If-Range, Range → 206/416, HEAD).
//   - gzip.go: gzip variants of text hits, made once per item.
//   - origin.go, rendezvous.go: upstream fetches with timeouts and a stall
//     watchdog; the shield for each object by rendezvous hashing, with
//     fallback to the origin.
//   - passthrough.go: uncached requests, proxied with connection reuse.
//   - invalidate.go: POST /api/v1/invalidations (admin token).
//   - access.go, access_rewrite.go: signed access to private videos. The
//     origin marks their answers "X-Streamfront-Access: signed"; the edge
//     keeps that with the object and wants a token (internal/urlsign) in
//     "?token=" or the Streamfront-Token cookie before serving a hit or a
//     miss (403 JSON otherwise, never stored). Playlists and storyboards
//     served to a query token carry it to every relative URI inside, on
//     the way out; a master playlist also sets the cookie. Upstream
//     requests are signed with OriginSecret (Origin Access Control), and
//     requests signed so by peer edges skip the viewer check.
//   - metrics.go, accesslog.go, response_writer.go: Prometheus metrics on
//     the Edge's own registry, JSON access log with CloudFront field names.
//   - errors.go: the one place where errors become statuses and JSON.
//
// Routes: GET/HEAD /videos/... cached; OPTIONS answered here (CORS
// preflight); /healthz; /metrics; POST /api/v1/invalidations; everything
// else is passed through to the origin uncached.
//
// What the origin must do: send X-Streamfront-Access: signed on every
// answer of a private video (and accept the X-Streamfront-Edge-Auth
// signature when it has an EdgeSecret); send Content-Length on cacheable answers (a
// chunked answer is streamed but cannot be ranged until cached); answer
// "Range: bytes=a-b" on sliced paths (*.mp4 under /videos/ by default)
// with 206 and "Content-Range: bytes a-b/total" (a 200 still works, at the
// cost of reading the body up to the slice); send ETag and/or
// Last-Modified and answer If-None-Match / If-Modified-Since with 304 so
// expired entries are refreshed without a body; use Cache-Control max-age
// (or s-maxage) for lifetimes, "immutable" for segments and finished
// playlists. The same ETag must be sent on every slice of one version.
//
// Write timeout choice: the http.Server keeps a WriteTimeout as a safety net
// for small answers, but every body write extends the connection's write
// deadline by Config.WriteTimeout first (http.ResponseController), so a
// multi-gigabyte progressive download runs as long as the viewer keeps
// reading, while a viewer that stops reading is cut after WriteTimeout.
package edge
