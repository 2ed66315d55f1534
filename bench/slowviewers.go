package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// viewerRecvBuffer is each slow viewer's socket receive buffer: small, as
// on a real slow link, so the server feels the back-pressure instead of
// parking the whole segment in the client's kernel buffer.
const viewerRecvBuffer = 32 << 10

// slowResult is one server's slow-viewer run.
type slowResult struct {
	server             string
	ok, failed         int
	firstErr           error
	bytes              int64
	rssBefore, rssPeak int64
	rssAfter           int64
}

// measureSlowViewers holds many slow viewers on one ~1 MiB segment at
// each server at once and records the server's resident memory.
func (e *env) measureSlowViewers(ctx context.Context) *section {
	s := &section{title: fmt.Sprintf("Memory with %d concurrent slow viewers", e.cfg.Viewers)}
	if err := e.ensureVideos(ctx); err != nil {
		s.err = err
		return s
	}
	if err := e.ensureCaches(ctx); err != nil {
		s.err = err
		return s
	}
	if e.segment == nil {
		seg, _, err := e.pickSegment(ctx)
		if err != nil {
			s.err = fmt.Errorf("choose a ~1 MiB segment: %w", err)
			return s
		}
		e.segment = seg
	}
	// Fill every cache with the whole fixture (all HLS objects and the
	// progressive MP4), so each holds real content when the viewers come.
	filled, err := e.fillCaches(ctx)
	if err != nil {
		s.err = fmt.Errorf("fill the caches with the fixture: %w", err)
		return s
	}
	for _, c := range e.caches.all {
		if err := c.warmAndVerify(ctx, e.segment.path, e.segment.body); err != nil {
			s.err = err
			return s
		}
	}

	var results []slowResult
	for _, c := range e.caches.all {
		e.logf("%d slow viewers on %s", e.cfg.Viewers, c.name)
		time.Sleep(time.Second) // let the previous run's sockets close
		results = append(results, e.slowViewers(ctx, c))
	}

	t := newTable("server", "viewers ok", "read", "RSS before", "RSS peak", "RSS after", "peak − before")
	for _, r := range results {
		ok := fmt.Sprintf("%d / %d", r.ok, r.ok+r.failed)
		if r.failed > 0 {
			ok += fmt.Sprintf(" (first error: %v)", r.firstErr)
		}
		t.add(r.server, ok, fmtBytes(r.bytes), fmtBytes(r.rssBefore), fmtBytes(r.rssPeak), fmtBytes(r.rssAfter), fmtBytes(r.rssPeak-r.rssBefore))
	}
	s.tables = append(s.tables, t)
	ours := results[0]
	limit := e.cfg.EdgeMemoryBytes + 100<<20
	g := newTable("goal (issue)", "ours", "limit", "verdict")
	g.add("edge RSS peak ≤ cache budget + 100 MB", fmtBytes(ours.rssPeak), fmtBytes(limit), verdict(ours.rssPeak <= limit && ours.failed == 0))
	s.tables = append(s.tables, g)

	s.note("Each viewer opens its own connection (receive buffer %s), asks for the %d-byte segment %s and reads it at %s for %s, then hangs up; the %d viewers connect within about a second and overlap fully. RSS is the sum of VmRSS over the server's process group (nginx master + worker, Varnish manager + child), sampled every 100 ms.",
		fmtBytes(viewerRecvBuffer), len(e.segment.body), e.segment.path, fmtRate(float64(e.cfg.ViewerRate)), e.cfg.ViewerDuration, e.cfg.Viewers)
	s.note("Before the viewers, every cache was filled with the whole fixture through it (%s: every playlist and segment, and the progressive MP4). Our edge's memory tier budget is %s; nginx keeps its cache in files (page cache, not in its RSS) and Varnish in malloc storage (in its RSS).",
		fmtBytes(filled), fmtBytes(e.cfg.EdgeMemoryBytes))
	return s
}

// fillCaches requests every object of the fixture through every cache
// and returns the bytes per cache.
func (e *env) fillCaches(ctx context.Context) (int64, error) {
	master := "/videos/" + e.big.ID + "/master.m3u8"
	body, _, err := httpGet(ctx, e.origin.URL+master, nil)
	if err != nil {
		return 0, err
	}
	paths := []string{master}
	playlists, err := playlistURIs(master, body)
	if err != nil {
		return 0, err
	}
	for _, p := range playlists {
		body, _, err := httpGet(ctx, e.origin.URL+p, nil)
		if err != nil {
			return 0, err
		}
		uris, err := playlistURIs(p, body)
		if err != nil {
			return 0, err
		}
		paths = append(paths, p)
		paths = append(paths, uris...)
	}
	name := "src"
	if len(e.big.Renditions) > 0 {
		name = e.big.Renditions[0].Name
	}
	paths = unique(append(paths, "/videos/"+e.big.ID+"/r/"+name+".mp4"))
	var total int64
	for _, c := range e.caches.all {
		e.logf("filling %s with %d objects", c.name, len(paths))
		total = 0
		for _, p := range paths {
			n, err := drain(ctx, c.URL+p)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", c.name, err)
			}
			total += n
		}
	}
	return total, nil
}

// drain GETs url and discards the body, returning its length.
func drain(ctx context.Context, rawURL string) (int64, error) {
	b, _, err := httpGet(ctx, rawURL, nil)
	return int64(len(b)), err
}

// slowViewers runs the viewers against one server, sampling its RSS.
func (e *env) slowViewers(ctx context.Context, c *cacheServer) slowResult {
	res := slowResult{server: c.name, rssBefore: groupRSS(c.proc.pid())}
	u, _ := url.Parse(c.URL)
	var (
		peak     atomic.Int64
		done     = make(chan struct{})
		sampling sync.WaitGroup
	)
	peak.Store(res.rssBefore)
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss := groupRSS(c.proc.pid()); rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()

	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	ramp := time.Second / time.Duration(e.cfg.Viewers)
	for i := range e.cfg.Viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := slowViewer(ctx, u.Host, e.segment.path, e.cfg.ViewerRate, e.cfg.ViewerDuration)
			mu.Lock()
			defer mu.Unlock()
			res.bytes += n
			if err != nil {
				res.failed++
				if res.firstErr == nil {
					res.firstErr = err
				}
				return
			}
			res.ok++
		}()
		if i%10 == 9 {
			time.Sleep(10 * ramp)
		}
	}
	wg.Wait()
	close(done)
	sampling.Wait()
	res.rssPeak = peak.Load()
	res.rssAfter = groupRSS(c.proc.pid())
	return res
}

// slowViewer reads path from addr at rate bytes/s for dur, over a raw
// connection so the pace is the client's and nothing reads ahead.
func slowViewer(ctx context.Context, addr, path string, rate int, dur time.Duration) (int64, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, viewerRecvBuffer)
		})
		return errors.Join(err, serr)
	}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: streamfront-bench-slow-viewer\r\nConnection: close\r\n\r\n", path, addr); err != nil {
		return 0, err
	}
	const tick = 100 * time.Millisecond
	chunk := make([]byte, max(1, rate/int(time.Second/tick)))
	start := time.Now()
	var total int64
	for next := start; time.Since(start) < dur; next = next.Add(tick) {
		time.Sleep(time.Until(next))
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := io.ReadFull(conn, chunk)
		if total == 0 && n > 0 && !bytes.HasPrefix(chunk[:n], []byte("HTTP/1.1 200")) {
			return int64(n), fmt.Errorf("answer starts %q", bytes.SplitN(chunk[:n], []byte("\r\n"), 2)[0])
		}
		total += int64(n)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return total, nil // the whole segment arrived before dur
		}
		if err != nil {
			return total, err
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
	return total, nil
}
