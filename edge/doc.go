// Package edge is Streamfront's caching reverse proxy: it sits between
// viewers and the origin and serves HLS playlists, segments and progressive
// MP4 downloads from a two-tier cache.
//
// The pieces, each in its own file:
//
//   - config.go: Config, its defaults and validation.
//   - edge.go: Edge, the route table (route), Run, Serve, Close, and the
//     origin-health flag that lets stale copies answer at once.
//   - cache.go, cache_memory.go, cache_disk.go (over internal/disktier):
//     the memory tier (W-TinyLFU
//     via otter, byte budget) over the disk tier (one file per item with a
//     header, written to a temp name then renamed, index rebuilt by a scan
//     on start, length checked at rebuild and on every open).
//   - entry.go, freshness.go: cached metadata and RFC 9111 freshness
//     (Cache-Control, Expires, Age, TTL floor/ceiling, negative TTL,
//     stale-while-revalidate, stale-if-error).
//   - internal/flight: deduplication of concurrent fills of one key.
//   - fill.go, fill_buffer.go: one origin fetch whose body is streamed to
//     every waiting client while it arrives, then stored; a broken body is
//     never stored and breaks every client's connection.
//   - slice.go: large objects (MP4) cached as aligned slices fetched with
//     Range, with one slice of read-ahead.
//   - serve.go, serve_range.go: hit/stale/refresh/miss decisions and
//     answers from cache (304, If-Range, Range → 206/416, HEAD).
//   - compress.go: brotli and gzip variants of text hits, made once per item and coding.
//   - origin.go, rendezvous.go: upstream fetches with timeouts and a stall
//     watchdog; the shield for each object by rendezvous hashing, with
//     fallback to the origin. A fill through a shield sends its
//     distribution's first host as Host, so the shield (with the same
//     distributions) fills for the same one.
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
//   - meter.go: usage metering (Config.UsageSink): every answer to a
//     media path counted per video, hour, kind and cache result into a
//     usage.Meter the Edge owns — from the accessLog middleware and from
//     the fast path's Answered, with no allocation per request — and the
//     bytes fills read upstream; Close flushes it.
//   - errors.go: the one place where errors become statuses and JSON.
//   - fastpath_answer.go: the edge's answers on the fast path for memory
//     hits (below), whose serving loop is package edge/fastpath.
//   - behavior.go: per-path behaviours (Config.Behaviors), each with a
//     caching Policy and an origin — the seam for CloudFront-like path
//     behaviours.
//   - distribution.go, origin_s3.go: distributions (Config.Distributions)
//     chosen by Host, each with its origins (HTTP, or S3 signed with
//     SigV4) and behaviours; a fill or pass-through asks the origin of its
//     path's behaviour.
//   - live.go: live HLS. Blocking playlist reloads (_HLS_msn) wait for
//     the origin up to BlockingReloadTimeout instead of
//     OriginFirstByteTimeout and are collapsed like any fill; a live
//     low-latency playlist asked without one is fresh for at most its
//     PART-TARGET (read in the playlist: max-age cannot say less than a
//     second), never stale; parts and viewers counted per stream on
//     /metrics from the origin's Streamfront-Live mark, and the viewer
//     count reported upstream on playlist fills (internal/livehdr).
//   - vary.go, forward.go, invalidate_unsafe.go: Vary in the cache key,
//     the viewer fields a fill forwards (and the hop-by-hop ones it does
//     not), invalidation by unsafe methods.
//
// Routes: GET/HEAD of a path whose policy caches it (behavior.go
// policyFor: /videos/... by the video policy; every other path by RFC 9111
// unless Config.DisableCacheAll is set or a behaviour says pass) cached; OPTIONS answered here (CORS
// preflight); /healthz; /metrics; POST /api/v1/invalidations; everything
// else is passed through to the path's origin uncached (and an unsafe method
// that succeeds invalidates what the cache holds for its URI, RFC 9111
// §4.4).
//
// Caching by the RFCs (PolicyRFC9111, and the video policy where it does
// not say otherwise). A fill forwards the end-to-end fields of the viewer
// request that started it (not the hop-by-hop ones, nor those its
// Connection names, nor conditionals, Range and Accept-Encoding, which
// the fill sets itself). Stored answers keep every end-to-end field but
// hop-by-hop ones and those named in Connection; the origin's Date is kept
// (PolicyRFC9111). Vary: the stored answer remembers the values its
// request had for the named fields; a request with other values is a
// miss that replaces it; "Vary: *" is never stored. A 304 updates the
// stored fields except Content-Encoding, Content-MD5, ETag and Set-Cookie.
// Freshness: s-maxage, then max-age, then Expires (an invalid date is
// already stale), all from Streamfront-Cache-Control, CDN-Cache-Control
// or Surrogate-Control instead when one of them holds a valid directive
// (RFC 9213 §2.1, first in that order wins); else heuristic, a tenth of
// the time since Last-Modified, for the statuses §4.2.2 allows; else none
// (stored stale, revalidated on use). Age: one line of digits, anything
// else makes the answer stale; with Date, the corrected initial age of
// §4.2.3. An answer to a request with Authorization is stored only with
// public, s-maxage or must-revalidate (§3.5), and such requests share a
// fill only with the same credentials. must-understand stores only
// statuses RFC 9110 defines, and then overrides no-store.
//
// Deliberate differences from RFC 9111 (and the suite at cache-tests.fyi):
//   - Set-Cookie: an answer that sets a cookie is passed to its request
//     and not stored (§3.1 would store it; a shared cache that replays one
//     viewer's cookie to others is a session leak). nginx and Varnish do
//     the same.
//   - One variant per URL: another Vary variant replaces the stored one.
//     Requests that join a fill before its Vary is known and turn out not
//     to match it fetch for themselves (no wrong variant, one more fetch),
//     as do those that joined a fill whose answer is not for sharing
//     (private, Set-Cookie, an unstorable status); a 5xx is shared.
//   - Vary: Origin (and Accept-Encoding) do not split the key: the edge
//     answers CORS and compression itself.
//   - Age: "0, 0" and "0,7200" (lists in one line) are both stale; §5.1
//     would read the first member.
//   - no-cache="field" is read as plain no-cache (revalidate every time).
//   - The request's own Cache-Control (no-cache, max-age, only-if-cached)
//     is not obeyed: a viewer cannot make the edge go to the origin.
//   - Stale answers under PolicyRFC9111 only where the origin allows
//     them (stale-while-revalidate, stale-if-error); the video policy
//     serves stale on origin errors for StaleIfError by default.
//   - CDN-Cache-Control and Streamfront-Cache-Control are forwarded to
//     viewers as received (RFC 9213 lets a CDN remove them; kept, so a
//     shield's answers carry them to the edges behind it).
//   - Transfer codings other than chunked are refused by Go's HTTP client
//     (502), where RFC 9112 §6.3 would read such a body to the close.
//   - 103 Early Hints reach the viewer of a request passed through
//     (httputil.ReverseProxy forwards 1xx answers) and the viewer that
//     started a fill (fill.hints), not viewers that joined the fill, and
//     hits have none: hints are not stored.
//   - Server-Sent Events (text/event-stream) are never stored, whatever
//     their Cache-Control: each client is proxied on its own.
//   - Surrogate-Control targeting ("max-age=60;name") is not supported:
//     such a value is an invalid delta-seconds, read as already stale.
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
// The fast path. Serve does not give the listener to net/http: each
// connection starts in a small loop of the edge's own (package fastpath) that
// reads requests with a strict HTTP/1.1 reader (fastpath/reader.go) and
// answers a request itself when it is a GET or HEAD, of any distribution
// (chosen by Host as net/http's path chooses it) and any path, that is a
// fresh, public, whole memory-tier hit with status 200, a Content-Type and
// no Vary, asked without a token in the query and without this edge in
// Via (a memory entry exists only for paths whose behaviour caches them,
// so a hit is also a path the behaviour lets the cache answer). An entry
// stored under PolicyRFC9111 keeps the origin's Date, which the fast path
// then sends instead of its own, as net/http does. Such an answer is what net/http and writeObject would send for
// the same hit — same status (200, 206, 304, 416), headers (made once per
// cached representation by http.Header.Write, plus Age, X-Cache, Date,
// Content-Range/Content-Length and Connection: close per request), Range,
// If-Range, If-None-Match and If-Modified-Since through the same helpers,
// the brotli or gzip variant for clients that accept one, HEAD, keep-alive,
// pipelining — written with one writev of header and body (a body of
// 64 KiB or more that the disk tier holds in the same version goes out
// from the disk copy with sendfile after a head sent with MSG_MORE, as
// nginx sends from its cache files with tcp_nopush: fastpath/sendfile.go;
// the file is opened and checked once and kept open beside the memory
// item until it leaves the memory tier, as nginx's open_file_cache does:
// fastpath_files.go), and counted in the same
// metrics and access log. TestFastPath_SameAnswersAsNetHTTP
// holds the two paths to that. The loop knows nothing of the cache: it
// asks the edge's fastpath.Handler (fastpath_answer.go) for each request
// and gets back the status and header lines and a body (with the disk
// copy's file, for sendfile), or "not mine".
//
// Everything else is handed over: at the first request the fast path does
// not answer — outside the strict subset (any other method or version,
// absolute-form, percent-escapes in the path, obs-fold, bare CR or LF,
// Transfer-Encoding, a Content-Length other than 0, Expect, Upgrade, a
// repeated Host, Range or If-* header, a head over 8 KiB...), or not such
// a hit (a miss, stale, disk-only, sliced, signed or pass-through object,
// /healthz, /metrics, the API, OPTIONS) — the connection, with every byte
// read so far replayed first, goes to the edge's http.Server through a
// listener (fastpath/handoff.go) and stays there for the rest of its
// life. So every other behaviour is net/http's and writeObject's, exactly
// as without the fast path; the reader never answers an error itself.
// TLS connections are handed over before a byte is read (net/http does
// the handshake and HTTP/2), and so are h2c upgrades and prior-knowledge
// HTTP/2 (not GET/HEAD HTTP/1.1). The fast path exists because a hit of a
// small playlist is mostly net/http's own per-request work (a Request,
// header maps, sorting and writing headers, several deadline timers);
// without it the edge peaks near nginx, with it well above.
//
// Fast path timeouts: one SetDeadline per request, when its head is in:
// now+WriteTimeout for reading and writing. Bodies over 256 KiB push the
// write deadline forward before each further 256 KiB, as bodyWriter does.
// The same read deadline bounds the wait for the next request; when it
// fires on an idle connection that is younger than IdleTimeout, the
// deadline moves to the end of IdleTimeout (a second call, only on
// connections idle for longer than WriteTimeout). A head that arrives in
// pieces gets ReadHeaderTimeout from its first piece (a slowloris is cut
// then, however it trickles); the first request gets ReadHeaderTimeout
// from accept. Shutdown stops accepting, closes idle fast connections at
// once, lets answers being written finish (within ShutdownTimeout; they
// carry Connection: close, as net/http's do while shutting down), then
// shuts the http.Server down as before. Config.DisableFastPath turns the
// fast path off: net/http then serves the listener itself, as it used to.
//
// Write timeout choice: the http.Server keeps a WriteTimeout as a safety net
// for small answers, but every body write extends the connection's write
// deadline by Config.WriteTimeout first (http.ResponseController), so a
// multi-gigabyte progressive download runs as long as the viewer keeps
// reading, while a viewer that stops reading is cut after WriteTimeout.
package edge
