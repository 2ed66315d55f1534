package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// hitRun is one wrk run against one cache.
type hitRun struct {
	object, server string
	conns          int
	res            wrkResult
	serverCPU      time.Duration
}

// measureEdgeHits compares cache-hit throughput and latency of our edge,
// nginx proxy_cache and Varnish for a small playlist and a ~1 MiB segment.
func (e *env) measureEdgeHits(ctx context.Context) *section {
	s := &section{title: "Edge cache hits: Streamfront edge vs nginx proxy_cache vs Varnish"}
	if err := e.ensureVideos(ctx); err != nil {
		s.err = err
		return s
	}
	if err := e.ensureCaches(ctx); err != nil {
		s.err = err
		return s
	}
	playlistBody, _, err := httpGet(ctx, e.origin.URL+e.clip.playlistPath(), nil)
	if err != nil {
		s.err = fmt.Errorf("fetch the clip's playlist from the origin: %w", err)
		return s
	}
	playlist := object{path: e.clip.playlistPath(), body: playlistBody}
	if e.segment == nil {
		e.logf("choosing the segment closest to 1 MiB")
		seg, n, err := e.pickSegment(ctx)
		if err != nil {
			s.err = fmt.Errorf("choose a ~1 MiB segment: %w", err)
			return s
		}
		e.segment = seg
		s.note("The segment is the one closest to 1 MiB of the fixture's %d video segments.", n)
	}
	objects := []struct {
		label string
		obj   object
	}{
		{fmt.Sprintf("media playlist (%d B)", len(playlist.body)), playlist},
		{fmt.Sprintf("segment (%d B)", len(e.segment.body)), *e.segment},
	}

	// Verify first: every server must answer a hit with the origin's bytes.
	for _, o := range objects {
		for _, c := range e.caches.all {
			if err := c.warmAndVerify(ctx, o.obj.path, o.obj.body); err != nil {
				s.err = fmt.Errorf("verify cache hits before measuring: %w", err)
				return s
			}
		}
	}

	cpus := ""
	if e.cfg.Pin {
		cpus = e.cfg.ClientCPUs
	}
	var runs []hitRun
	for _, o := range objects {
		for _, conns := range e.cfg.WrkConnections {
			for _, c := range e.caches.all {
				e.logf("wrk -c%d %s on %s", conns, o.label, c.name)
				cpuBefore := groupCPU(c.proc.pid())
				res, err := runWrk(ctx, wrkRun{URL: c.URL + o.obj.path, Threads: e.cfg.WrkThreads, Connections: conns, Duration: e.cfg.WrkDuration, CPUs: cpus})
				if err != nil {
					s.err = fmt.Errorf("wrk against %s: %w", c.name, err)
					return s
				}
				runs = append(runs, hitRun{object: o.label, server: c.name, conns: conns, res: res, serverCPU: groupCPU(c.proc.pid()) - cpuBefore})
				// Let TIME_WAIT and the servers' idle-connection cleanup
				// settle before the next run.
				time.Sleep(time.Second)
			}
		}
	}

	t := newTable("object", "conns", "server", "req/s", "vs nginx", "p50", "p99", "transfer/s", "server CPU", "wrk CPU", "errors")
	nginx := map[string]hitRun{}
	for _, r := range runs {
		if r.server == "nginx" {
			nginx[fmt.Sprint(r.object, r.conns)] = r
		}
	}
	for _, r := range runs {
		ref := nginx[fmt.Sprint(r.object, r.conns)]
		secs := e.cfg.WrkDuration.Seconds()
		errs := "0"
		if r.res.SocketErrors+r.res.Non2xx3xx > 0 {
			errs = fmt.Sprintf("**%d socket, %d non-2xx**", r.res.SocketErrors, r.res.Non2xx3xx)
		}
		t.add(r.object, fmt.Sprint(r.conns), r.server, fmtCount(r.res.RequestsPerS), fmtRatio(r.res.RequestsPerS/ref.res.RequestsPerS),
			fmtDuration(r.res.P50), fmtDuration(r.res.P99), fmtRate(r.res.TransferPerS),
			fmt.Sprintf("%.0f%%", 100*r.serverCPU.Seconds()/secs), fmt.Sprintf("%.0f%%", 100*r.res.CPU.Seconds()/secs), errs)
	}
	s.tables = append(s.tables, t)

	goals := newTable("goal (issue)", "conns", "ours", "nginx", "ours ÷ nginx", "verdict")
	for _, r := range runs {
		if r.server != e.caches.all[0].name {
			continue
		}
		ref := nginx[fmt.Sprint(r.object, r.conns)]
		want := 1.0
		if strings.HasPrefix(r.object, "media playlist") {
			want = 1.2
		}
		ratio := r.res.RequestsPerS / ref.res.RequestsPerS
		goals.add(fmt.Sprintf("%s: req/s ≥ %.1f× nginx", r.object, want), fmt.Sprint(r.conns),
			fmtCount(r.res.RequestsPerS), fmtCount(ref.res.RequestsPerS), fmtRatio(ratio), verdict(ratio >= want))
		goals.add(r.object+": p99 no worse than nginx", fmt.Sprint(r.conns),
			fmtDuration(r.res.P99), fmtDuration(ref.res.P99), fmtRatio(r.res.P99.Seconds()/ref.res.P99.Seconds()), verdict(r.res.P99 <= ref.res.P99))
	}
	s.tables = append(s.tables, goals)

	s.note("Each cell is one `wrk -t%d -cN -d%s --latency URL` run after warming; before measuring, each server answered a cache hit (our X-Cache: Hit, nginx X-Cache-Status: HIT, Varnish X-Varnish with two ids) whose bytes equal the origin's.",
		e.cfg.WrkThreads, e.cfg.WrkDuration)
	s.note("All three are separate processes in front of the same origin process. Our edge: `streamfront edge`, memory tier %s plus a disk tier. nginx: proxy_cache on disk with sendfile, proxy_cache_lock, keepalive upstream, access_log off, one worker per CPU it gets, keepalive_requests raised so connections are not recycled every 1000 requests. Varnish: malloc,1G, VCL caching everything under /videos/ for 1 h, unjailed (-j none, we run as root).",
		fmtBytes(e.cfg.EdgeMemoryBytes))
	s.note("server CPU and wrk CPU are CPU time over the run's wall time (100%% = one core). When the servers are pinned to one core, a server at ~100%% is CPU-bound; when wrk is near 100%% too, the client may be what limits the rate, and the ratios understate the differences.")
	s.note("wrk sends no Accept-Encoding, so every server sends the playlist uncompressed.")
	return s
}
