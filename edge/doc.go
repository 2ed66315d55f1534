// Package edge is Streamfront's caching reverse proxy: it sits between
// viewers and the origin and serves HLS playlists, segments and progressive
// MP4 downloads from a two-tier cache.
//
// The pieces, each in its own file:
//
//   - config.go: Config, its defaults and validation.
//   - edge.go: Edge, the route table (ServeHTTP), Run and Serve.
//   - cache_memory.go, cache_disk.go, cache.go: the memory tier (W-TinyLFU
//     via otter, byte budget) over the disk tier (files with a header,
//     written to a temp name then renamed, index rebuilt on start).
//   - flight.go: deduplication of concurrent fills of one key.
//   - fill.go: one origin fetch whose body is streamed to every waiting
//     client while it arrives, then stored.
//   - slice.go: large objects cached as aligned slices fetched with Range.
//   - freshness.go: RFC 9111 freshness (Cache-Control, Expires, TTL limits).
//   - serve.go, serve_range.go: answering from cache (conditionals, Range,
//     HEAD) and the miss/refresh/stale decisions.
//   - passthrough.go: uncached requests, proxied with connection reuse.
//   - errors.go: the one place where errors become statuses and JSON.
//
// Write timeout choice: the http.Server keeps a WriteTimeout as a safety net
// for small answers, but every body write extends the connection's write
// deadline by Config.WriteTimeout first (http.ResponseController), so a
// multi-gigabyte progressive download runs as long as the viewer keeps
// reading, while a viewer that stops reading is cut after WriteTimeout.
package edge
