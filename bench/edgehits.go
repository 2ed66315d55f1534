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
	serverCPU      time.Duration // the server's process group
	serverKernel   time.Duration // the kernel's part of serverCPU
	// otherOnServer and otherOnClient are the CPU time other work got on
	// the server's and on wrk's CPUs (when pinned; otherwise all of it is
	// in otherOnServer).
	otherOnServer, otherOnClient time.Duration
	// disturbed: other work took more than disturbedShare of a core from
	// the server's CPUs during the run, so the server waited for its CPU.
	disturbed bool
}

// disturbedShare is how much of a core other work may use on the server's
// CPUs during a run before the run counts as disturbed. The origin, S3 and
// this program are idle during hit runs, so what shows there is other
// people's work (or kernel threads).
const disturbedShare = 0.2

// maxRunsPerCell bounds the re-runs of a disturbed cell.
const maxRunsPerCell = 4

// hitCell is every round of one (object, connections, server) cell.
type hitCell struct {
	object, server string
	conns          int
	obj            object
	cache          *cacheServer
	runs           []hitRun
}

// best is the undisturbed run with the highest request rate, or the
// fastest run when all were disturbed.
func (c *hitCell) best() hitRun {
	var b *hitRun
	for i := range c.runs {
		r := &c.runs[i]
		switch {
		case b == nil,
			b.disturbed && !r.disturbed,
			b.disturbed == r.disturbed && r.res.RequestsPerS > b.res.RequestsPerS:
			b = r
		}
	}
	return *b
}

// perCPUSecond is the requests served per second of the server's own CPU
// time over every run of the cell: a figure that holds up when neighbours
// take CPU from the server, since a starved server serves fewer requests
// but also uses less CPU.
func (c *hitCell) perCPUSecond(d time.Duration) float64 {
	var reqs float64
	var cpu time.Duration
	for _, r := range c.runs {
		reqs += r.res.RequestsPerS * d.Seconds()
		cpu += r.serverCPU
	}
	if cpu <= 0 {
		return 0
	}
	return reqs / cpu.Seconds()
}

// perAnswer is the server's CPU time and its kernel part per request
// served, over every run of the cell.
func (c *hitCell) perAnswer(d time.Duration) (cpu, kernel time.Duration) {
	var reqs float64
	for _, r := range c.runs {
		reqs += r.res.RequestsPerS * d.Seconds()
		cpu += r.serverCPU
		kernel += r.serverKernel
	}
	if reqs <= 0 {
		return 0, 0
	}
	return time.Duration(float64(cpu) / reqs), time.Duration(float64(kernel) / reqs)
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
		s.note("The segment is the one closest to 1 MiB (1048576 B) of the fixture's %d video segments; the playlist is the video playlist of the %d s clip.", n, e.fx.ClipSeconds)
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

	var hitObjs []hitObject
	for _, o := range objects {
		hitObjs = append(hitObjs, hitObject{o.label, o.obj})
	}
	cells, cellOf, extra, err := e.runHitCells(ctx, hitObjs, e.caches.all)
	if err != nil {
		s.err = err
		return s
	}
	s.tables = append(s.tables, e.hitTable(cells, cellOf), e.hitGoals(cells, cellOf))
	if mt := e.meteringCost(cells, cellOf); mt != nil {
		s.tables = append(s.tables, mt)
		s.note("Metering: %q is our edge again (its own process and cache), with usage metering on, reporting through the origin's NATS every 10 s; \"streamfront edge\" runs with it off (STREAMFRONT_USAGE=false). Cost is 1 − metered ÷ unmetered, of the best runs' req/s and of requests per server CPU-second; the goal is at most %.0f%%.", meteredName, 100*maxMeteringCost)
	}

	s.note("Each row is the best run of `wrk -t%d -cN -d%s --latency URL` over %d round(s), the servers' order rotated each round, after warming. Before measuring, each server answered a cache hit (our X-Cache: Hit, nginx X-Cache-Status: HIT, Varnish X-Varnish with two ids) whose bytes equal the origin's.",
		e.cfg.WrkThreads, e.cfg.WrkDuration, e.cfg.Rounds)
	s.note("Neighbours: a run during which other work used more than %.0f%% of a core on the server's CPU is *disturbed* (marked * in the req/s column); the best undisturbed run is reported, and a cell with no undisturbed run was re-run (up to %d runs per cell, %d extra runs in all; %d were needed). A row marked ⚠ had no undisturbed run, and a goal that depends on it is inconclusive.",
		100*disturbedShare, maxRunsPerCell, max(0, e.cfg.ExtraRuns), extra)
	s.note("All three are separate processes in front of the same origin process. Our edge: `streamfront edge`, memory tier %s plus a disk tier. nginx: proxy_cache on disk with sendfile, proxy_cache_lock, keepalive upstream, access_log off, one worker per CPU it gets, keepalive_requests raised so connections are not recycled every 1000 requests. Varnish: malloc,1G, VCL caching everything under /videos/ for 1 h, unjailed (-j none, we run as root).",
		fmtBytes(e.cfg.EdgeMemoryBytes))
	s.note("CPU columns are CPU time over the run's wall time (100%% = one core): the server's process group (with the part spent in the kernel, from /proc/<pid>/stat stime), wrk, and other work on the server's CPU and on wrk's CPU (the origin, S3 and this program are idle, so that is other people's work or the kernel's). A pinned server near 100%% is CPU-bound; wrk near 100%% means the client limits the rate and the ratios understate differences.")
	s.note("%s", ceilingNote)
	s.note("req per server CPU-s divides every run's requests by the CPU time the server's processes used: it does not depend on how much CPU neighbours left the server, so it is the steadier comparison on a busy machine, but it says nothing about latency or about using more cores, and it shifts with load (a saturated server does more work per wake-up), so it is best read between servers at similar server CPU.")
	s.note("Under contention Linux shares a core per thread, not per process, which favours Varnish (a thread per connection) over nginx (one worker) and our edge (GOMAXPROCS = 1 on one CPU); the raised priority (nice) and the disturbed-run check are there to keep that from deciding the comparison.")
	s.note("wrk sends no Accept-Encoding, so every server sends the playlist uncompressed.")
	return s
}

func (e *env) hitTable(cells []*hitCell, cellOf map[string]*hitCell) *table {
	t := newTable("object", "conns", "server", "req/s", "vs nginx", "p50", "p99", "transfer/s", "server CPU", "wrk CPU", "others on server CPU", "others on wrk CPU", "req/s of every run", "req per server CPU-s (all runs)", "vs nginx", "errors")
	secs := e.cfg.WrkDuration.Seconds()
	pct := func(d time.Duration) string { return fmt.Sprintf("%.0f%%", 100*d.Seconds()/secs) }
	for _, c := range cells {
		b := c.best()
		refCell := cellOf[fmt.Sprint(c.object, c.conns, "nginx")]
		ref := refCell.best()
		eff, refEff := c.perCPUSecond(e.cfg.WrkDuration), refCell.perCPUSecond(e.cfg.WrkDuration)
		var each []string
		var sockErrs, non2xx int64
		for _, r := range c.runs {
			mark := ""
			if r.disturbed {
				mark = "*"
			}
			each = append(each, fmtCount(r.res.RequestsPerS)+mark)
			sockErrs += r.res.SocketErrors
			non2xx += r.res.Non2xx3xx
		}
		errs := "0"
		if sockErrs+non2xx > 0 {
			errs = fmt.Sprintf("**%d socket, %d non-2xx**", sockErrs, non2xx)
		}
		server := c.server
		if b.disturbed {
			server = "⚠ " + server
		}
		t.add(c.object, fmt.Sprint(c.conns), server, fmtCount(b.res.RequestsPerS), fmtRatio(b.res.RequestsPerS/ref.res.RequestsPerS),
			fmtDuration(b.res.P50), fmtDuration(b.res.P99), fmtRate(b.res.TransferPerS),
			fmt.Sprintf("%s (kernel %s)", pct(b.serverCPU), pct(b.serverKernel)), pct(b.res.CPU), pct(b.otherOnServer), pct(b.otherOnClient), strings.Join(each, " / "),
			fmtCount(eff), fmtRatio(eff/refEff), errs)
	}
	return t
}

// hitGoals checks the goals: ≥1.2× nginx's rate on playlists,
// ≥1.0× on segments, p99 no worse.
func (e *env) hitGoals(cells []*hitCell, cellOf map[string]*hitCell) *table {
	return hitGoalsFor(cells, cellOf, e.caches.all[0].name, e.cfg.WrkDuration, func(object string) float64 {
		if strings.HasPrefix(object, "media playlist") {
			return 1.2
		}
		return 1.0
	})
}

// hitGoalsFor checks ours against nginx, cell by cell: req/s and requests
// per server CPU-second at least want(object) times nginx's, p99 no worse.
func hitGoalsFor(cells []*hitCell, cellOf map[string]*hitCell, ours string, d time.Duration, want func(object string) float64) *table {
	goals := newTable("goal (issue)", "conns", "ours", "nginx", "ours ÷ nginx", "verdict")
	for _, c := range cells {
		if c.server != ours {
			continue
		}
		b := c.best()
		refCell := cellOf[fmt.Sprint(c.object, c.conns, "nginx")]
		ref := refCell.best()
		w := want(c.object)
		ratio := b.res.RequestsPerS / ref.res.RequestsPerS
		judge := func(ok bool) string {
			if b.disturbed || ref.disturbed {
				return "inconclusive (" + verdict(ok) + " on disturbed runs)"
			}
			return verdict(ok)
		}
		rateVerdict := judge(ratio >= w)
		if wb, wr := b.res.CPU.Seconds()/d.Seconds(), ref.res.CPU.Seconds()/d.Seconds(); ratio < w && min(wb, wr) >= clientBound && b.serverCPU.Seconds()/d.Seconds() < clientBound {
			// Ours had CPU to spare and wrk had none: the rates measure
			// wrk, and requests per CPU-second decide.
			rateVerdict = fmt.Sprintf("inconclusive (%s while wrk used %.0f%% and %.0f%% of its core: the client set both rates)", verdict(false), 100*wb, 100*wr)
		}
		if share := c.obj.cpuShare; share > 0 {
			// A server that did not use its share was limited by something
			// else (wrk, or its own stalls): nginx so limited makes any
			// ratio unfair; ours so limited only makes a shortfall unproven.
			ourUse, refUse := b.serverCPU.Seconds()/d.Seconds(), ref.serverCPU.Seconds()/d.Seconds()
			if refUse < saturated*share || ratio < w && ourUse < saturated*share {
				rateVerdict = fmt.Sprintf("inconclusive (%s, but ours used %.0f%% and nginx %.0f%% of a core, each allowed %.0f%%: a server below its share was not limited by it)", verdict(ratio >= w), 100*ourUse, 100*refUse, 100*share)
			}
		}
		goals.add(fmt.Sprintf("%s: req/s ≥ %.1f× nginx", c.object, w), fmt.Sprint(c.conns),
			fmtCount(b.res.RequestsPerS), fmtCount(ref.res.RequestsPerS), fmtRatio(ratio), rateVerdict)
		goals.add(c.object+": p99 no worse than nginx", fmt.Sprint(c.conns),
			fmtDuration(b.res.P99), fmtDuration(ref.res.P99), fmtRatio(b.res.P99.Seconds()/ref.res.P99.Seconds()), judge(b.res.P99 <= ref.res.P99))
		eff, refEff := c.perCPUSecond(d), refCell.perCPUSecond(d)
		goals.add(fmt.Sprintf("%s: requests per server CPU-second ≥ %.1f× nginx (holds up under neighbours)", c.object, w), fmt.Sprint(c.conns),
			fmtCount(eff), fmtCount(refEff), fmtRatio(eff/refEff), verdict(eff/refEff >= w))
		if eff/refEff < w {
			// How far user-space work could take ours: were all of it
			// gone, our edge would still spend its kernel time per answer.
			_, kernel := c.perAnswer(d)
			refCPU, _ := refCell.perAnswer(d)
			ceiling := refCPU.Seconds() / kernel.Seconds()
			reach := "within reach of user-space work"
			if ceiling < w {
				reach = "out of reach: our edge's kernel time alone costs more"
			}
			goals.add(fmt.Sprintf("%s: ceiling of that ratio (nginx's CPU per answer ÷ our edge's kernel CPU per answer)", c.object), fmt.Sprint(c.conns),
				fmtDuration(kernel)+" kernel", fmtDuration(refCPU), fmtRatio(ceiling), fmt.Sprintf("%.1f× is %s", w, reach))
		}
	}
	return goals
}

// ceilingNote explains the ceiling rows hitGoalsFor adds.
const ceilingNote = "Where a per-CPU-second goal is not met, a ceiling row follows it: nginx's CPU time per answer divided by our edge's kernel time per answer (every run of the cell). On loopback the server's kernel time carries most of the TCP work of both ends (the receiver's softirq runs in the sender's system call), so most of it is work no server avoids; a ceiling below the goal means that even with no user-space work at all our edge would miss the goal, and only fewer system calls and wake-ups per answer could close the rest."

// saturated is the part of its CPU share a capped server must use for
// its rate to count as its own.
const saturated = 0.9

// clientBound is wrk's share of its core above which a run's rate is
// wrk's, not the server's.
const clientBound = 0.95

// maxMeteringCost is the bound on what usage metering may cost
// hit throughput.
const maxMeteringCost = 0.03

// meteringCost compares our edge with metering on and off, cell by cell;
// nil when the metered edge did not run.
func (e *env) meteringCost(cells []*hitCell, cellOf map[string]*hitCell) *table {
	ours := e.caches.all[0].name
	t := newTable("object", "conns", "metered req/s", "unmetered req/s", "cost (req/s)", "cost (per CPU-second)", "verdict (≤ 3 %)")
	rows := 0
	for _, c := range cells {
		if c.server != meteredName {
			continue
		}
		refCell := cellOf[fmt.Sprint(c.object, c.conns, ours)]
		if refCell == nil {
			continue
		}
		b, ref := c.best(), refCell.best()
		cost := 1 - b.res.RequestsPerS/ref.res.RequestsPerS
		eff, refEff := c.perCPUSecond(e.cfg.WrkDuration), refCell.perCPUSecond(e.cfg.WrkDuration)
		cpuCost := 1 - eff/refEff
		v := verdict(cost <= maxMeteringCost || cpuCost <= maxMeteringCost)
		if b.disturbed || ref.disturbed {
			v = "inconclusive (" + v + " on disturbed runs)"
		}
		t.add(c.object, fmt.Sprint(c.conns), fmtCount(b.res.RequestsPerS), fmtCount(ref.res.RequestsPerS),
			fmt.Sprintf("%+.1f %%", 100*cost), fmt.Sprintf("%+.1f %%", 100*cpuCost), v)
		rows++
	}
	if rows == 0 {
		return nil
	}
	return t
}

// hitObject is one object measured, with its row label.
type hitObject struct {
	label string
	obj   object
}

// runHitCells runs wrk against every server for every object and
// connection count, e.cfg.Rounds times (or the object's own rounds, when
// more) with the servers' order rotated,
// then again for cells whose every run other work disturbed (within
// e.cfg.ExtraRuns). It returns the cells in order, by key (label, conns,
// server), and how many extra runs were needed.
func (e *env) runHitCells(ctx context.Context, objects []hitObject, servers []*cacheServer) ([]*hitCell, map[string]*hitCell, int, error) {
	client := placement{nice: e.cfg.Nice}
	var serverCPUs, clientCPUs []int // nil: the whole machine
	if e.cfg.Pin {
		client.cpus = e.cfg.ClientCPUs
		serverCPUs, clientCPUs = parseCPUList(e.cfg.ServerCPUs), parseCPUList(e.cfg.ClientCPUs)
	}
	var cells []*hitCell
	cellOf := map[string]*hitCell{}
	measure := func(label string, obj object, conns int, c *cacheServer) error {
		_ = flushTCPMetrics(ctx) // the machine table says whether it can
		userBefore, kernelBefore := groupCPUSplit(c.proc.pid())
		serverBusy, clientBusy := cpuBusy(serverCPUs), cpuBusy(clientCPUs)
		run := wrkRun{URL: c.URL + obj.path, Threads: e.cfg.WrkThreads, Connections: conns, Duration: e.cfg.WrkDuration, Placement: client}
		if obj.acceptEncoding != "" {
			run.Header = []string{"Accept-Encoding: " + obj.acceptEncoding}
		}
		if obj.cpuShare > 0 {
			cg, err := newCPUCap("streamfront-bench-cap", obj.cpuShare)
			if err != nil {
				return err
			}
			defer cg.remove()
			pids := groupMembers(c.proc.pid())
			if err := cg.hold(pids); err != nil {
				return err
			}
			defer cg.release(pids)
		}
		if obj.congestion != "" {
			restore, err := setCongestion(obj.congestion)
			if err != nil {
				return err
			}
			defer restore()
		}
		res, err := runWrk(ctx, run)
		if err != nil {
			return fmt.Errorf("wrk against %s: %w", c.name, err)
		}
		user, kernel := groupCPUSplit(c.proc.pid())
		serverKernel := kernel - kernelBefore
		serverCPU := user - userBefore + serverKernel
		var onServer, onClient time.Duration
		if e.cfg.Pin {
			onServer = max(0, cpuBusy(serverCPUs)-serverBusy-serverCPU)
			onClient = max(0, cpuBusy(clientCPUs)-clientBusy-res.CPU)
		} else {
			onServer = max(0, cpuBusy(nil)-serverBusy-serverCPU-res.CPU)
		}
		key := fmt.Sprint(label, conns, c.name)
		cell := cellOf[key]
		if cell == nil {
			cell = &hitCell{object: label, server: c.name, conns: conns, obj: obj, cache: c}
			cellOf[key] = cell
			cells = append(cells, cell)
		}
		cell.runs = append(cell.runs, hitRun{object: label, server: c.name, conns: conns, res: res, serverCPU: serverCPU, serverKernel: serverKernel,
			otherOnServer: onServer, otherOnClient: onClient,
			disturbed: onServer.Seconds() > disturbedShare*e.cfg.WrkDuration.Seconds()})
		// Let TIME_WAIT and the servers' idle-connection cleanup settle
		// before the next run.
		time.Sleep(time.Second)
		return nil
	}
	roundsOf := func(o hitObject) int { return max(e.cfg.Rounds, o.obj.rounds) }
	rounds := 0
	for _, o := range objects {
		rounds = max(rounds, roundsOf(o))
	}
	for round := range rounds {
		for _, o := range objects {
			if round >= roundsOf(o) {
				continue
			}
			for _, conns := range e.cfg.WrkConnections {
				for i := range servers {
					c := servers[(i+round)%len(servers)]
					e.logf("round %d/%d: wrk -c%d %s on %s", round+1, roundsOf(o), conns, o.label, c.name)
					if err := measure(o.label, o.obj, conns, c); err != nil {
						return nil, nil, 0, err
					}
				}
			}
		}
	}
	// A cell whose every run was disturbed by other processes is run
	// again, one pass over such cells at a time so the bounded budget of
	// extra runs is shared among them.
	extra := 0
	for again := true; again && extra < e.cfg.ExtraRuns; {
		again = false
		for _, cell := range cells {
			if !cell.best().disturbed || len(cell.runs) >= maxRunsPerCell || extra >= e.cfg.ExtraRuns {
				continue
			}
			extra++
			again = true
			e.logf("re-run %d/%d (every run so far disturbed): wrk -c%d %s on %s", extra, e.cfg.ExtraRuns, cell.conns, cell.object, cell.server)
			if err := measure(cell.object, cell.obj, cell.conns, cell.cache); err != nil {
				return nil, nil, 0, err
			}
		}
	}
	return cells, cellOf, extra, nil
}
