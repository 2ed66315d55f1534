package edge

import (
	"bytes"
	"hash/fnv"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamfront/streamfront/internal/hlsattr"
	"github.com/streamfront/streamfront/internal/livehdr"
)

// Live HLS at the edge (issue "Live streaming", part 4). What the generic
// cache already does right for low-latency HLS, and what this file adds:
//
//   - Blocking playlist reloads (?_HLS_msn=N&_HLS_part=P, maybe
//     _HLS_skip=YES) name the playlist version they wait for, and the query
//     is part of the cache key, so every viewer waiting for the same part
//     joins one fill (flight.Group): one origin request per edge, held by
//     the origin until the part exists, then stored for the lifetime the
//     origin gives (60 s from Streamfront's origin) and served to later
//     viewers as hits. Added here: the origin may hold such a request
//     longer than OriginFirstByteTimeout (the LL-HLS spec lets a server
//     wait three target durations before it answers 503), so blocking
//     reloads go through a transport of their own whose header timeout is
//     Config.BlockingReloadTimeout (transportFor). A refused reload (a
//     part too far ahead: 400) does not make its URL hit-for-pass
//     (passMarkable). The _HLS_ parameters are keyed in one order
//     (distribution.keyOf), so players that order them differently share
//     a fill.
//   - Parts and segments are immutable and uniquely named: a miss is one
//     fill whose body is streamed to every viewer that joined it while it
//     arrives (fill.go, streamBuffer), which includes the preload-hint
//     part the origin holds until it is complete.
//   - A live playlist requested without a blocking query changes with
//     every part, but Cache-Control can only say whole seconds (RFC 9111
//     §1.2.2 delta-seconds): max-age=1 would serve it up to five parts
//     old. The edge reads the playlist's own EXT-X-PART-INF PART-TARGET
//     (capLivePlaylist) and keeps it fresh for at most one part target,
//     with no stale serving; so it is never served older than one part
//     target, and the origin is asked for it at most about once per part,
//     which is how often it changes. This was chosen over a sub-second
//     header of our own because any LL-HLS origin states the part target
//     in the playlist, and over "collapse only, never fresh" because that
//     costs the origin one request per round trip of viewers' arrivals,
//     not one per update.
//   - Visible (part 7): answers the origin marks with livehdr.Kind are
//     counted per stream: parts served, and viewers — distinct players
//     (remote address and User-Agent) that asked for a live playlist in
//     the last liveViewerWindow — on /metrics; the viewer count rides to
//     the origin on live playlist fills (livehdr.Viewers), so the
//     origin can show the sum over its edges in the stream's JSON.

const (
	// liveViewerWindow is how recently a player must have asked for a live
	// playlist to count as a viewer: low-latency players ask every part,
	// standard ones every target duration (2–6 s).
	liveViewerWindow = 10 * time.Second
	// liveMaxStreams bounds the streams tracked (one map entry and two
	// series each); streams beyond it are not counted.
	liveMaxStreams = 4096
	// liveMaxPlayers bounds the players remembered over all streams (a
	// map entry of 16 bytes each, about 40 MiB at most with the map's
	// overhead); past it new players are not counted until others age out.
	liveMaxPlayers = 1 << 20
	// livePruneEvery is how often a stream's players are swept for those
	// gone quiet (at most; sooner when the bound is reached).
	livePruneEvery = time.Second
	// liveIdleStream is how long a stream nobody asked for stays on
	// /metrics.
	liveIdleStream = 10 * time.Minute
)

// isBlockingReload reports whether a query asks for a blocking playlist
// reload (_HLS_msn, with or without _HLS_part and _HLS_skip).
func isBlockingReload(rawQuery string) bool {
	for rawQuery != "" {
		var p string
		p, rawQuery, _ = strings.Cut(rawQuery, "&")
		if strings.HasPrefix(p, "_HLS_msn=") {
			return true
		}
	}
	return false
}

// newBlockingTransport is the transport of blocking reloads: the origin's
// transport with a header timeout long enough for the origin to hold the
// request until the part it waits for exists.
func newBlockingTransport(cfg Config) *http.Transport {
	t := newOriginTransport(cfg)
	t.ResponseHeaderTimeout = cfg.BlockingReloadTimeout
	return t
}

// transportFor is the transport of a fill of requestURI.
func (e *Edge) transportFor(requestURI string) *http.Transport {
	if _, q, ok := strings.Cut(requestURI, "?"); ok && isBlockingReload(q) {
		return e.live.blocking
	}
	return e.transport
}

// passMarkable reports whether an unstorable answer for key may mark the
// key hit-for-pass. Not for a blocking reload: its URL names a part that
// may not exist yet (the origin refuses one too far ahead with a 400), and
// a pass marker would then send every viewer who later waits for that
// part to the origin on their own, at the live edge of the stream. The
// next request starts a new collapsed fill instead.
func passMarkable(key string) bool {
	_, q, ok := strings.Cut(key, "?")
	return !ok || !isBlockingReload(q)
}

// capLivePlaylist limits the freshness of a live low-latency playlist
// fetched without a blocking query to one part target, with no stale
// serving, and marks the entry live. Other answers are left as they are.
// body is the whole answer (at most MaxObjectBytes).
func capLivePlaylist(m *entry, key string, body []byte) {
	if m.status != http.StatusOK || !isPlaylist(m.header.Get("Content-Type"), keyPath(key)) {
		return
	}
	if _, q, ok := strings.Cut(key, "?"); ok && isBlockingReload(q) {
		return
	}
	target, ok := livePartTarget(body)
	if !ok {
		return
	}
	m.freshFor = min(m.freshFor, target)
	m.swr, m.sie = 0, 0
}

// isPlaylist reports whether an answer is an HLS playlist, by its type or,
// failing that, its path.
func isPlaylist(contentType, path string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl":
		return true
	}
	p, _, _ := strings.Cut(path, "?")
	return strings.HasSuffix(p, ".m3u8")
}

// maxPartTarget bounds what a playlist may claim as its part target; the
// spec's parts are a fraction of a segment, and a bigger value would only
// keep a live playlist longer.
const maxPartTarget = 10 * time.Second

// livePartTarget reads PART-TARGET from the EXT-X-PART-INF tag of a media
// playlist that is still live (no EXT-X-ENDLIST). The body is untrusted:
// only those two tags are looked at, line by line, and a missing, garbled
// or out-of-range value means "not a live low-latency playlist". The
// attribute list is read by internal/hlsattr, as every HLS attribute list
// at the edge is.
func livePartTarget(body []byte) (time.Duration, bool) {
	var target time.Duration
	found := false
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		line = bytes.TrimRight(line, "\r \t")
		if bytes.Equal(line, []byte("#EXT-X-ENDLIST")) {
			return 0, false
		}
		attrs, ok := bytes.CutPrefix(line, []byte("#EXT-X-PART-INF:"))
		if !ok || found {
			continue
		}
		list, err := hlsattr.Parse(string(attrs))
		if err != nil {
			return 0, false
		}
		v, ok := list.Raw("PART-TARGET") // a decimal-floating-point: never quoted
		if !ok {
			return 0, false
		}
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || !(secs > 0) || secs > maxPartTarget.Seconds() {
			return 0, false
		}
		target, found = time.Duration(secs*float64(time.Second)), true
	}
	return target, found && target > 0
}

// liveState is the Edge's live machinery: the blocking-reload transport
// and the per-stream counts behind /metrics and livehdr.Viewers.
type liveState struct {
	blocking *http.Transport
	name     string
	now      func() time.Time

	mu         sync.Mutex
	streams    map[string]*liveStream
	players    int // the players remembered over all streams
	maxPlayers int // liveMaxPlayers (tests set less)

	partsDesc, viewersDesc *prometheus.Desc
}

// liveStream is what the edge counts for one stream. Guarded by
// liveState.mu.
type liveStream struct {
	parts   uint64
	players map[uint64]int64 // player hash → last request, unix ns
	// peers are the reports of edges behind this one (their viewers).
	peers    map[string]peerReport
	lastSeen int64 // unix ns
	prunedAt int64 // unix ns
}

type peerReport struct {
	viewers int
	at      int64 // unix ns
}

var _ prometheus.Collector = (*liveState)(nil)

func newLiveState(cfg Config) *liveState {
	return &liveState{
		blocking:   newBlockingTransport(cfg),
		name:       cfg.Name,
		now:        cfg.Now,
		streams:    make(map[string]*liveStream),
		maxPlayers: liveMaxPlayers,
		partsDesc: prometheus.NewDesc("streamfront_edge_live_parts_served_total",
			"Low-latency HLS parts answered by this edge, by live stream.", []string{"stream"}, nil),
		viewersDesc: prometheus.NewDesc("streamfront_edge_live_viewers",
			"Distinct players (remote address and User-Agent) that asked this edge for a live playlist in the last 10 s, plus those reported by edges behind it, by live stream.",
			[]string{"stream"}, nil),
	}
}

func (l *liveState) close() { l.blocking.CloseIdleConnections() }

// liveStreamID is the stream of a path under /videos/{id}/, or "".
func liveStreamID(path string) string {
	rest, ok := strings.CutPrefix(keyPath(path), "/videos/")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, "/")
	if !ok || id == "" || len(id) > 64 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return ""
		}
	}
	return id
}

// stream returns the record of id, making it if there is room. l.mu held.
func (l *liveState) stream(id string, now int64) *liveStream {
	s := l.streams[id]
	if s == nil {
		if len(l.streams) >= liveMaxStreams {
			return nil
		}
		s = &liveStream{players: make(map[uint64]int64)}
		l.streams[id] = s
	}
	s.lastSeen = now
	return s
}

// observe counts one answer to path whose livehdr.Kind value is kind,
// sent to the player identified by ip and userAgent. Players behind one
// address with one browser count once: an estimate, on the low side.
func (l *liveState) observe(path, kind string, ip netip.Addr, userAgent string) {
	if kind != livehdr.KindPart && kind != livehdr.KindPlaylist {
		return
	}
	id := liveStreamID(path)
	if id == "" {
		return
	}
	now := l.now().UnixNano()
	var player uint64
	if kind == livehdr.KindPlaylist {
		// The same address reads the same on both serving paths: 16
		// bytes, IPv4 unmapped first.
		a := ip.Unmap().As16()
		h := fnv.New64a()
		_, _ = h.Write(a[:])
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(userAgent))
		player = h.Sum64()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stream(id, now)
	if s == nil {
		return
	}
	if kind == livehdr.KindPart {
		s.parts++
		return
	}
	if _, ok := s.players[player]; !ok {
		if l.players >= l.maxPlayers {
			l.prune(s, now, true)
			if l.players >= l.maxPlayers {
				return
			}
		}
		l.players++
	}
	s.players[player] = now
}

// observeRequest is observe for an answer through net/http.
func (l *liveState) observeRequest(r *http.Request, h http.Header) {
	kind := h[livehdr.Kind]
	if len(kind) == 0 {
		return
	}
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ip = ap.Addr()
	}
	l.observe(r.URL.Path, kind[0], ip, r.Header.Get("User-Agent"))
}

// observeFast is observe for a fast-path answer of the cached header h.
func (l *liveState) observeFast(path []byte, h http.Header, remote net.Addr, userAgent []byte) {
	kind := h[livehdr.Kind]
	if len(kind) == 0 {
		return
	}
	var ip netip.Addr
	if a, ok := remote.(*net.TCPAddr); ok {
		ip = a.AddrPort().Addr()
	}
	l.observe(string(path), kind[0], ip, string(userAgent))
}

// notePeerReport keeps the viewer count a peer edge (verified by the
// caller) sent for the stream of path.
func (l *liveState) notePeerReport(path string, values []string) {
	id := liveStreamID(path)
	if id == "" {
		return
	}
	now := l.now().UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range values {
		name, n, ok := livehdr.ParseViewers(v)
		if !ok {
			continue
		}
		s := l.stream(id, now)
		if s == nil {
			return
		}
		if _, known := s.peers[name]; !known && len(s.peers) >= liveMaxPeers {
			continue
		}
		if s.peers == nil {
			s.peers = make(map[string]peerReport)
		}
		s.peers[name] = peerReport{viewers: n, at: now}
	}
}

// liveMaxPeers bounds the peer edges remembered per stream.
const liveMaxPeers = 256

// reportViewers sets livehdr.Viewers on an upstream request for key
// when it is a playlist of a stream with viewers, replacing whatever a
// client sent.
func (l *liveState) reportViewers(key string, h http.Header) {
	h.Del(livehdr.Viewers)
	path := keyPath(key)
	if p, _, _ := strings.Cut(path, "?"); !strings.HasSuffix(p, ".m3u8") {
		return
	}
	id := liveStreamID(path)
	if id == "" {
		return
	}
	now := l.now().UnixNano()
	l.mu.Lock()
	s := l.streams[id]
	n := 0
	if s != nil {
		n = l.viewers(s, now)
	}
	l.mu.Unlock()
	if s != nil {
		h.Set(livehdr.Viewers, livehdr.FormatViewers(l.name, n))
	}
}

// prune forgets the players of s not seen within the window and stale
// peer reports, unless it did so less than livePruneEvery ago and force
// is not set. l.mu held.
func (l *liveState) prune(s *liveStream, now int64, force bool) {
	if !force && now-s.prunedAt < int64(livePruneEvery) {
		return
	}
	s.prunedAt = now
	cutoff := now - int64(liveViewerWindow)
	for p, at := range s.players {
		if at < cutoff {
			delete(s.players, p)
			l.players--
		}
	}
	for name, r := range s.peers {
		if r.at < cutoff {
			delete(s.peers, name)
		}
	}
}

// viewers is the current estimate for s: its own recent players and the
// recent reports of the edges behind this one. l.mu held.
func (l *liveState) viewers(s *liveStream, now int64) int {
	l.prune(s, now, false)
	n := len(s.players)
	for _, r := range s.peers {
		n += r.viewers
	}
	return n
}

// Describe implements prometheus.Collector.
func (l *liveState) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.partsDesc
	ch <- l.viewersDesc
}

// Collect implements prometheus.Collector; it also forgets streams idle
// for liveIdleStream.
func (l *liveState) Collect(ch chan<- prometheus.Metric) {
	now := l.now().UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, s := range l.streams {
		if now-s.lastSeen > int64(liveIdleStream) {
			l.players -= len(s.players)
			delete(l.streams, id)
			continue
		}
		ch <- prometheus.MustNewConstMetric(l.partsDesc, prometheus.CounterValue, float64(s.parts), id)
		ch <- prometheus.MustNewConstMetric(l.viewersDesc, prometheus.GaugeValue, float64(l.viewers(s, now)), id)
	}
}
