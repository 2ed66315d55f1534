package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/andybalholm/brotli"
)

// The site step: hits on a small HTML page and a 100 KiB script through a
// distribution with several behaviours, our edge beside nginx proxy_cache
// and Varnish, each caching by the origin's Cache-Control (issue
// "Distributions": ≥ 1.2× nginx).

// siteOrigin serves a website: /index.html (about 5 KiB, cacheable for 5
// minutes), /static/app.js (100 KiB, immutable) and /api/* (never stored).
type siteOrigin struct {
	URL      string
	html, js []byte
	srv      *http.Server
	done     chan struct{}
}

func startSiteOrigin() (*siteOrigin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	html.WriteString("<!doctype html><html lang=en><head><meta charset=utf-8><title>Streamfront bench</title>" +
		`<link rel=stylesheet href="/static/site.css"><script defer src="/static/app.js"></script></head><body><main>`)
	for i := 0; html.Len() < 5*1024; i++ {
		fmt.Fprintf(&html, "<article><h2>Video %d</h2><p>A paragraph of the library page, long enough to look like one.</p></article>", i)
	}
	html.WriteString("</main></body></html>\n")
	o := &siteOrigin{URL: "http://" + ln.Addr().String(), html: html.Bytes(), js: siteScript(100 * 1024), done: make(chan struct{})}
	o.srv = &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		defer close(o.done)
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // seen as cache errors
		}
	}()
	return o, nil
}

// siteScript returns n bytes that compress about as a minified script
// does (gzip -6 to about 27%, brotli 6 to 26%; React's production build
// gives 32% and 28%): statements made of a few hundred property names and
// one-letter locals, drawn unevenly by a seeded generator, so every run
// serves the same bytes. A repeated short pattern would compress a
// hundredfold and make per-request compression look free.
func siteScript(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	syll := []string{"get", "set", "on", "el", "ment", "state", "props", "node", "child", "ren", "update", "render",
		"key", "value", "list", "item", "index", "length", "type", "handler", "event", "target", "style", "class",
		"name", "data", "fetch", "load", "error", "call", "back", "query", "select", "or", "push", "pop", "map",
		"filter", "time", "out", "id", "is", "has", "create", "remove", "attr", "view", "model", "store", "route",
		"path", "url", "video", "player", "seek", "play", "pause"}
	names := make([]string, 400)
	for i := range names {
		w := syll[r.IntN(len(syll))]
		for k := r.IntN(3); k > 0; k-- {
			s := syll[r.IntN(len(syll))]
			w += strings.ToUpper(s[:1]) + s[1:]
		}
		names[i] = w
	}
	prop := func() string { return names[int(float64(len(names))*r.Float64()*r.Float64())] }
	local := func() string { return string("etnriaoslucdf"[int(13*r.Float64()*r.Float64())]) }
	num := func() string { return strconv.Itoa(r.IntN(1 << uint(1+r.IntN(12)))) }
	stmts := []func() string{
		func() string {
			return "var " + local() + "=" + local() + "." + prop() + "(" + local() + "," + num() + ");"
		},
		func() string { return "if(" + local() + "." + prop() + "===" + local() + ")return " + local() + ";" },
		func() string { return local() + "." + prop() + "=function(" + local() + "," + local() + "){" },
		func() string { return "return " + local() + "&&" + local() + "." + prop() + "(" + local() + ")}" },
		func() string {
			return "for(var " + local() + "=0;" + local() + "<" + local() + ".length;" + local() + "++)"
		},
		func() string { return local() + "[" + num() + "]=" + local() + "." + prop() + "||\"" + prop() + "\";" },
		func() string { return "function " + prop() + "(" + local() + "){" },
		func() string { return "throw new Error(\"" + prop() + " " + prop() + "\")}" },
		func() string { return local() + "." + prop() + "(\"" + prop() + "\"," + local() + ");" },
		func() string { return "}" },
	}
	var b bytes.Buffer
	b.WriteString("/*! app.js | Streamfront bench */\n")
	for b.Len() < n {
		b.WriteString(stmts[r.IntN(len(stmts))]())
	}
	return b.Bytes()[:n]
}

func (o *siteOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch {
	case r.URL.Path == "/index.html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", `"index-1"`)
		h.Set("Content-Length", strconv.Itoa(len(o.html)))
		_, _ = w.Write(o.html)
	case r.URL.Path == "/static/app.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", `"app-1"`)
		h.Set("Content-Length", strconv.Itoa(len(o.js)))
		_, _ = w.Write(o.js)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"ok":true}`))
	default:
		http.NotFound(w, r)
	}
}

func (o *siteOrigin) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = o.srv.Shutdown(ctx)
	<-o.done
}

// siteEdgeConfig is our edge's deployment file: one distribution, its
// behaviours as a site's would be.
var siteEdgeConfig = template.Must(template.New("site.yaml").Parse(`# Generated by bench/sitehits.go.
log_level: warn
edges:
  - {name: edge-site, url: "{{.URL}}"}
distributions:
  - name: site
    origins:
      - {name: www, url: "{{.Origin}}"}
    behaviors:
      - {pattern: "/api/**", policy: pass}
      - {pattern: "/static/**", policy: rfc9111}
      - {pattern: "/videos/**", policy: videos}
      - {pattern: "/admin/**", policy: pass}
`))

// siteLocations cache by the origin's headers (nginx's default when no
// proxy_cache_valid is given) and pass /api/ through. Text is gzipped as
// a site turns it on (gzip on, gzip_types): nginx then compresses every
// answer to a client that accepts gzip, from the cached identity copy,
// at its default level 1 (h5bp's widely copied config says 5, which
// would cost nginx more CPU per answer).
const siteLocations = `        gzip on;
        gzip_vary on;
        gzip_proxied any;
        gzip_types text/css text/javascript application/javascript application/json image/svg+xml;
        location /api/ {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache videos;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status;
        }`

// siteVarnishVCL is Varnish's built-in VCL (cache by the origin's headers,
// requests with cookies or credentials passed), with only a backend.
var siteVarnishVCL = template.Must(template.New("site.vcl").Parse(`# Generated by bench/sitehits.go.
vcl 4.1;

backend origin {
    .host = "127.0.0.1";
    .port = "{{.OriginPort}}";
}
`))

// measureSiteHits compares cache-hit throughput on a website's page and
// script through our edge's distribution, nginx and Varnish.
func (e *env) measureSiteHits(ctx context.Context) *section {
	s := &section{title: "Site hits through a distribution: Streamfront edge vs nginx proxy_cache vs Varnish"}
	o, err := startSiteOrigin()
	if err != nil {
		s.err = err
		return s
	}
	defer o.close()
	u, _ := url.Parse(o.URL)
	originPort, _ := strconv.Atoi(u.Port())
	pl, count := placement{nice: e.cfg.Nice}, runtime.NumCPU()
	if e.cfg.Pin {
		pl.cpus, count = e.cfg.ServerCPUs, max(1, len(parseCPUList(e.cfg.ServerCPUs)))
	}

	var servers []*cacheServer
	defer func() {
		for _, c := range servers {
			c.proc.stop()
		}
	}()
	ours, err := e.startSiteEdge(ctx, o.URL, pl)
	if err != nil {
		s.err = fmt.Errorf("start our edge: %w", err)
		return s
	}
	servers = append(servers, ours)
	n, err := startNginxWith(ctx, siteLocations, "nginx-site", e.dir, u.Host, pl, count)
	if err != nil {
		s.err = fmt.Errorf("start nginx: %w", err)
		return s
	}
	servers = append(servers, n)
	v, err := startVarnishWith(ctx, siteVarnishVCL, "varnish-site", e.dir, originPort, pl)
	if err != nil {
		s.err = fmt.Errorf("start Varnish: %w", err)
		return s
	}
	servers = append(servers, v)

	objects := []hitObject{
		{fmt.Sprintf("HTML page (%d B)", len(o.html)), object{path: "/index.html", body: o.html}},
		{fmt.Sprintf("script (%d B), no Accept-Encoding", len(o.js)), object{path: "/static/app.js", body: o.js, rounds: decidingRounds}},
		{fmt.Sprintf("script (%d B), browser's Accept-Encoding", len(o.js)), object{path: "/static/app.js", body: o.js, acceptEncoding: browserAcceptEncoding}},
	}
	// The identity script again with one congestion control for every
	// server (congestion.go), when the machine's is another and may be
	// changed.
	congestionNote := ""
	identity := 1 // the identity script cell the next ones copy
	if machine := machineCongestion(); machine != sameCongestion {
		if restore, err := setCongestion(sameCongestion); err != nil {
			congestionNote = fmt.Sprintf("The identity script was not measured again with %s for every server: %v.", sameCongestion, err)
		} else {
			restore()
			// This cell decides the script's goal now (congestionWhy).
			objects[1].obj.rounds = 0
			objects = append(objects, hitObject{fmt.Sprintf("script (%d B), no Accept-Encoding, %s for every server", len(o.js), sameCongestion),
				object{path: "/static/app.js", body: o.js, congestion: sameCongestion, rounds: decidingRounds}})
			identity = len(objects) - 1
			congestionNote = fmt.Sprintf("The machine's TCP congestion control is %s; every cell uses it except \"…, %s for every server\", whose connections (every server's, and wrk's) are made with %s. %s",
				machine, sameCongestion, sameCongestion, congestionWhy)
		}
	}
	// And once more with every server held to the same share of a core,
	// below what wrk can take (cpucap.go): that cell decides the script's
	// goal when the machine allows it.
	capNote := ""
	if cg, err := newCPUCap("streamfront-bench-cap", siteCPUShare); err != nil {
		capNote = fmt.Sprintf("The identity script was not measured with every server held to %.0f%% of a core: %v.", 100*siteCPUShare, err)
	} else {
		cg.remove()
		capped := objects[identity]
		objects[identity].obj.rounds = 0
		capped.label += fmt.Sprintf(", every server held to %.0f%% of a core", 100*siteCPUShare)
		capped.obj.cpuShare, capped.obj.rounds = siteCPUShare, decidingRounds
		objects = append(objects, capped)
		capNote = fmt.Sprintf("\"…, every server held to %.0f%% of a core\": wrk, on its own core, runs out of CPU at about 17,000 script answers a second, before any of these servers does, so in the other script cells both rates are wrk's, and each server's CPU per answer includes its wake-ups from idle, which cost the less busy server more. In this cell the kernel's CFS bandwidth control (a cgroup with a quota of %.0f%% of every %d ms) holds each server's processes to the same share of a core, below what wrk needs, so each server runs out of CPU first and its rate is its own; the script's goals rest on this cell. Its req/s goal is inconclusive when nginx did not use at least %.0f%% of its share (then something other than CPU held it back: with 64 connections and throttled, nginx's answers stall for about 40 ms at a time, measured by hand), or when ours fell short without using it.",
			100*siteCPUShare, 100*siteCPUShare, cpuCapPeriod/1000, 100*saturated)
	}
	encodings := newTable("server", "Content-Encoding", "bytes sent", "of the script's")
	for _, ob := range objects {
		for _, c := range servers {
			if ob.obj.acceptEncoding == "" {
				if err := c.warmAndVerify(ctx, ob.obj.path, ob.obj.body); err != nil {
					s.err = fmt.Errorf("verify cache hits before measuring: %w", err)
					return s
				}
				continue
			}
			coding, n, err := c.warmAndVerifyEncoded(ctx, ob.obj)
			if err != nil {
				s.err = fmt.Errorf("verify cache hits before measuring: %w", err)
				return s
			}
			encodings.add(c.name, coding, fmt.Sprint(n), fmt.Sprintf("%.0f%%", 100*float64(n)/float64(len(ob.obj.body))))
		}
	}
	fastBefore, err := fastPathCounts(ctx, ours.URL)
	if err != nil {
		s.err = err
		return s
	}
	cells, cellOf, extra, err := e.runHitCells(ctx, objects, servers)
	if err != nil {
		s.err = err
		return s
	}
	fastAfter, err := fastPathCounts(ctx, ours.URL)
	if err != nil {
		s.err = err
		return s
	}
	var oursCompleted int64 // requests wrk saw answered by our edge
	for _, c := range cells {
		if c.server == ours.name {
			for _, r := range c.runs {
				oursCompleted += r.res.Requests
			}
		}
	}
	browser := objects[2].obj
	check, err := checkFastCompressed(ctx, ours.URL, browser)
	if err != nil {
		s.err = err
		return s
	}
	s.tables = append(s.tables, e.hitTable(cells, cellOf), hitGoalsFor(cells, cellOf, ours.name, e.cfg.WrkDuration, func(string) float64 { return 1.2 }), encodings)
	s.note("Each row is the best run of `wrk -t%d -cN -d%s --latency URL` over %d round(s) (%d for the cell the script's goal rests on: the last identity-script cell), the servers' order rotated each round, after each server answered a hit with the origin's bytes; %d re-runs of disturbed cells were needed (see the edge hits section for how runs are judged).",
		e.cfg.WrkThreads, e.cfg.WrkDuration, e.cfg.Rounds, max(e.cfg.Rounds, decidingRounds), extra)
	s.note("A req/s goal is inconclusive rather than not met when wrk used at least %.0f%% of its core in both servers' best runs while our edge had CPU to spare: the client then set both rates, and requests per server CPU-second decide.", 100*clientBound)
	s.note("%s", ceilingNote)
	s.note("The origin: /index.html with `Cache-Control: public, max-age=300`, /static/app.js with `public, max-age=31536000, immutable`, /api/* with `no-store`. Our edge: one distribution with behaviours /api/** pass, /static/** rfc9111, /videos/** videos, /admin/** pass, every other path by RFC 9111. nginx: proxy_cache by the origin's headers, /api/ passed, one worker per CPU it gets. Varnish: the built-in VCL with a backend only (caches by the origin's headers).")
	s.note("Which cell is which: \"HTML page\" and \"script …, no Accept-Encoding\" are wrk as before, sending no Accept-Encoding, so every server sends the bytes as the origin gave them (the script's goal rests on the last of the identity cells, the other goal rows are there to read). \"script …, browser's Accept-Encoding\" is wrk sending `Accept-Encoding: %s` as Chrome and Firefox do for a script; the last table says what each server answered it with before measuring (one request, the body decoded and compared with the origin's bytes).", browserAcceptEncoding)
	s.note("The script is %d bytes that compress as a minified script does (gzip -6 to about 27%%, brotli 6 to about 26%%). Our edge makes its brotli variant once per cached item and keeps it in memory (edge/compress.go); nginx (gzip on, level 1) compresses the cached identity copy for every answer; Varnish with its built-in VCL asks the backend for gzip (http_gzip_support), but this origin sends identity, which Varnish stores and sends to everyone: it compresses only if VCL sets beresp.do_gzip.", len(o.js))
	s.note("Our edge's fast path: over all runs it answered %d requests and handed %d connections to net/http (%s), for %d requests wrk completed against our edge (wrk does not count answers in flight when a run ends; a connection handed over is served by net/http for the rest of its life, so once the page's 5 minutes of freshness run out during the step, the first stale hit moves every connection of that run to net/http). Checked after the runs on one keep-alive connection with the browser's Accept-Encoding: %s.",
		int64(fastAfter.answered-fastBefore.answered), int64(fastAfter.handovers-fastBefore.handovers), fastAfter.handoverReasons(fastBefore), oursCompleted, check)
	for _, n := range []string{congestionNote, capNote} {
		if n != "" {
			s.note("%s", n)
		}
	}
	s.note("Our edge runs with a disk tier (-cache-dir) as nginx caches on disk: bodies of 64 KiB or more (the identity script) go out from the disk copy with sendfile, the file kept open (edge/fastpath_files.go).")
	return s
}

// siteCPUShare is the share of one core each server gets in the capped
// script cell: our edge and nginx each need more than that for the
// 17,000 answers a second wrk can take (about 25–35 µs of CPU each).
const siteCPUShare = 0.4

// decidingRounds is how many rounds the cell the script's goal rests on
// gets: runs of the same server differed by up to 30% from one to the
// next on this 2-core VM (by hand, machine idle).
const decidingRounds = 4

// browserAcceptEncoding is what Chrome and Firefox send for a script.
const browserAcceptEncoding = "gzip, deflate, br"

// warmAndVerifyEncoded requests ob with its Accept-Encoding from s until
// it answers a hit, checks that the decoded body is the origin's, and
// returns the answer's Content-Encoding and body length as sent.
func (s *cacheServer) warmAndVerifyEncoded(ctx context.Context, ob object) (coding string, n int, err error) {
	header := http.Header{"Accept-Encoding": {ob.acceptEncoding}}
	var last string
	for range 3 {
		body, h, err := httpGet(ctx, s.URL+ob.path, header)
		if err != nil {
			return "", 0, fmt.Errorf("%s: %w", s.name, err)
		}
		hit, why := s.hit(h)
		last = why
		if !hit {
			continue
		}
		coding = first(h, "Content-Encoding")
		plain, err := decodeBody(coding, body)
		if err != nil {
			return "", 0, fmt.Errorf("%s: %s with Accept-Encoding %q: %w", s.name, ob.path, ob.acceptEncoding, err)
		}
		if !bytes.Equal(plain, ob.body) {
			return "", 0, fmt.Errorf("%s: the cache hit for %s with Accept-Encoding %q decodes to %d bytes, not the origin's %d",
				s.name, ob.path, ob.acceptEncoding, len(plain), len(ob.body))
		}
		if coding == "" {
			coding = "(none)"
		}
		return coding, len(body), nil
	}
	return "", 0, fmt.Errorf("%s: %s with Accept-Encoding %q was not a cache hit after 3 requests (last %s)", s.name, ob.path, ob.acceptEncoding, last)
}

// decodeBody undoes a Content-Encoding the servers may send.
func decodeBody(coding string, body []byte) ([]byte, error) {
	var r io.Reader
	switch coding {
	case "":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return nil, fmt.Errorf("unexpected Content-Encoding %q", coding)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 16<<20)) // the script is 100 KiB
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", coding, err)
	}
	return plain, nil
}

// fastCounts are our edge's fast-path counters on /metrics.
type fastCounts struct {
	answered, handovers float64
	byReason            map[string]float64 // hand-overs by reason label
}

// handoverReasons says how many connections went to net/http since
// before, by reason ("not_hit 3, route 1"), or "none".
func (c fastCounts) handoverReasons(before fastCounts) string {
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(c.byReason)) {
		if n := c.byReason[r] - before.byReason[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, int64(n)))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// fastPathCounts reads the fast path's counters from our edge's /metrics
// (a request net/http answers, on a connection of its own).
func fastPathCounts(ctx context.Context, base string) (fastCounts, error) {
	body, _, err := httpGet(ctx, base+"/metrics", nil)
	if err != nil {
		return fastCounts{}, fmt.Errorf("read our edge's metrics: %w", err)
	}
	c := fastCounts{byReason: map[string]float64{}}
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case name == "streamfront_edge_fastpath_requests_total":
			c.answered += v
		case strings.HasPrefix(name, "streamfront_edge_fastpath_handovers_total{"):
			c.handovers += v
			reason := strings.TrimSuffix(strings.TrimPrefix(name, `streamfront_edge_fastpath_handovers_total{reason="`), `"}`)
			c.byReason[reason] += v
		}
	}
	return c, nil
}

// checkFastCompressed sends ob's request, with its Accept-Encoding, 100
// times on one keep-alive connection to our edge, and checks that every
// answer is a compressed hit the fast path counted (and no connection was
// handed over); it returns what it saw, as a sentence.
func checkFastCompressed(ctx context.Context, base string, ob object) (string, error) {
	const n = 100
	before, err := fastPathCounts(ctx, base)
	if err != nil {
		return "", err
	}
	// One connection, its own: the default client would also ask for gzip
	// on its own and decode, hiding Content-Encoding.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	codings := map[string]int{}
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+ob.path, nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Accept-Encoding", ob.acceptEncoding)
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("check our edge's compressed answers: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("check our edge's compressed answers: %w", err)
		}
		coding := resp.Header.Get("Content-Encoding")
		if plain, err := decodeBody(coding, body); err != nil || !bytes.Equal(plain, ob.body) || !strings.HasPrefix(resp.Header.Get("X-Cache"), "Hit") {
			return "", fmt.Errorf("check our edge's compressed answers: %s answered %q, X-Cache %q, a body that is not the origin's script (%v)",
				ob.path, coding, resp.Header.Get("X-Cache"), err)
		}
		codings[coding]++
	}
	after, err := fastPathCounts(ctx, base)
	if err != nil {
		return "", err
	}
	answered, handed := after.answered-before.answered, after.handovers-before.handovers
	if codings["br"] != n || answered != n || handed != 0 {
		return "", fmt.Errorf("check our edge's compressed answers: of %d requests with Accept-Encoding %q, %d came back br-encoded (%v), the fast path counted %v answers and %v hand-overs; want all %d br from the fast path",
			n, ob.acceptEncoding, codings["br"], codings, answered, handed, n)
	}
	return fmt.Sprintf("all %d answers were hits with Content-Encoding: br, and the fast path counted %d answers and no hand-over", n, n), nil
}

// startSiteEdge runs our edge with the site's distribution.
func (e *env) startSiteEdge(ctx context.Context, originURL string, pl placement) (*cacheServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var conf strings.Builder
	if err := siteEdgeConfig.Execute(&conf, map[string]any{"URL": base, "Origin": originURL}); err != nil {
		return nil, err
	}
	path := filepath.Join(e.dir, "edge-site.yaml")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		return nil, err
	}
	p, err := startProcess("edge-site", e.dir, pl, []string{"STREAMFRONT_USAGE=false"}, e.bin, "edge",
		"-config", path, "-name", "edge-site", "-addr", "127.0.0.1:"+strconv.Itoa(port),
		"-cache-dir", filepath.Join(e.dir, "edge-site-cache"),
		"-memory-size", strconv.FormatInt(e.cfg.EdgeMemoryBytes, 10))
	if err != nil {
		return nil, err
	}
	if err := p.waitHTTP(ctx, base+"/healthz", func(s int) bool { return s == http.StatusOK }); err != nil {
		p.stop()
		return nil, err
	}
	return &cacheServer{name: "streamfront edge", URL: base, proc: p,
		hit: func(h map[string][]string) (bool, string) {
			v := first(h, "X-Cache")
			return v == "Hit from edge-site", "X-Cache: " + v
		}}, nil
}
