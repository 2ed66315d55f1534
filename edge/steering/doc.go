// Package steering is Streamfront's router: it sends every viewer to the
// edge with the lowest latency, by HLS Content Steering for players and by
// HTTP redirect for plain downloads.
//
// The pieces, each in its own file:
//
//   - config.go: Config and Edge, their defaults and validation; an Edge
//     has the URL viewers use and, optionally, an InternalURL the router
//     uses (containers, private networks).
//   - edges_flag.go: ParseEdges, the "name=URL,..." form for flags and
//     environment variables.
//   - router.go: Router, the route table, Run, Serve, Close, /edges and
//     /healthz.
//   - health.go: per-edge health checks (GET {edge}/healthz; FailAfter
//     consecutive failures mark an edge down, RecoverAfter passes up) and
//     latency probes; the round-trip time is the time from the request
//     written to the first response byte, folded into a moving average.
//   - pathway.go: the ranking of edges for one viewer (orderPathways).
//   - master.go, master_cache.go: GET /videos/{id}/master.m3u8 (and any
//     master-*.m3u8, such as the MPEG-TS master-ts.m3u8) fetches the
//     edges' master (best edge first, falling over on errors), keeps it
//     parsed in memory as long as its Cache-Control allows (at most
//     MasterCacheTTL), one fetch per key at a time (singleflight).
//   - master_rewrite.go (attribute lists: internal/hlsattr): the
//     content-steered master. One copy
//     of every EXT-X-MEDIA, EXT-X-STREAM-INF and EXT-X-I-FRAME-STREAM-INF
//     per edge, with absolute URIs on that edge, PATHWAY-ID="<edge name>"
//     and rendition groups renamed per edge ("audio@edge-1");
//     EXT-X-CONTENT-STEERING names the steering manifest and the best edge;
//     one EXT-X-SESSION-DATA per edge gives the player a URL to time
//     (DATA-ID="com.streamfront.rtt-probe.<edge>", VALUE="<edge>/healthz").
//     The best edge's copies come first, so a client that ignores
//     PATHWAY-ID plays from it.
//   - steer.go: GET /steer/{id}, the steering manifest: VERSION 1, TTL,
//     RELOAD-URI (carrying the viewer's measurements), PATHWAY-PRIORITY.
//   - redirect.go: every other GET under /videos/ is a 302 to the best
//     edge with the query string kept.
//   - errors.go: the one place where errors become statuses and JSON.
//
// How an edge is chosen (orderPathways): edges up before edges down (down
// ones stay, last, as a fallback); then by the viewer's own round-trip
// time when the player reported it (rtt.<edge>=<ms> query parameters on
// the steering request; the Streamfront player measures them by timing
// fetches of each edge's /healthz); then by the router's round-trip time;
// then configuration order. A player stays on its current pathway
// (_HLS_pathway) unless another edge is better by more than SwitchMargin.
//
// Why copies per edge rather than PATHWAY-CLONES: hls.js 1.7 applies a
// clone's URI-REPLACEMENT HOST by setting the URL's hostname only, so
// edges that differ by port (two edges on one machine) cannot be cloned,
// and it clones variants and audio/subtitle renditions but not I-frame
// variants. Explicit copies work with every player and with ffmpeg.
package steering
