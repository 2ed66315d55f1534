package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamfront/streamfront/internal/natsserver"
)

// The live step's sizes: how long hls.js is watched per stream (after a
// warm-up), and the low-latency viewers one edge serves and for how long.
const (
	liveWatchSeconds  = 20
	liveWarmupSeconds = 5
	liveViewers       = 1000
	liveViewerTime    = 20 * time.Second
)

// liveStream is the part of the API's LiveStream JSON the bench reads.
type liveStream struct {
	ID      string `json:"id"`
	RTMPURL string `json:"rtmp_url"`
	HLSURL  string `json:"hls_url"`
	Status  string `json:"status"`
	Error   string `json:"error"`
}

// liveLatency is what livelatency.mjs prints.
type liveLatency struct {
	OK             bool       `json:"ok"`
	Reason         string     `json:"reason"`
	LatencyMs      []float64  `json:"latencyMs"`
	LiveEdgeS      []*float64 `json:"liveEdgeS"`
	TargetS        []*float64 `json:"targetS"`
	AheadS         []*float64 `json:"aheadS"`
	PDTMs          []float64  `json:"pdtMs"`
	Unreadable     int        `json:"unreadable"`
	Stalls         int        `json:"stalls"`
	LowLatencyMode bool       `json:"lowLatencyMode"`
}

// measureLive runs one encoder (ffmpeg -re, a test pattern with its wall
// clock burnt in) into three servers at once through ffmpeg's tee muxer —
// a low-latency and a standard Streamfront live stream (RTMP into the
// origin, HLS out through an edge) and nginx-rtmp (hls_fragment 1s) — then
// plays each in turn with hls.js in Chromium, and last loads the edge with
// low-latency viewers.
func (e *env) measureLive(ctx context.Context) *section {
	s := &section{title: "Live: glass-to-glass latency (hls.js in Chromium) and one edge's cost per 1,000 low-latency viewers"}
	if err := e.ensureS3(ctx); err != nil {
		s.err = err
		return s
	}
	script := filepath.Join(e.cfg.RepoDir, "bench", "livelatency.mjs")
	if _, err := os.Stat(filepath.Join(e.cfg.RepoDir, "player", "node_modules", "playwright-core")); err != nil {
		s.err = errors.New("player/node_modules is not installed, so Chromium cannot be driven: run `make build` (or `cd player && npm ci`)")
		return s
	}
	dir := filepath.Join(e.dir, "live")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.err = err
		return s
	}
	o, rtmpPort, err := startLiveOrigin(ctx, dir, e.bin, e)
	if err != nil {
		s.err = fmt.Errorf("start the live origin: %w", err)
		return s
	}
	defer o.stop()
	edge, err := startEdge(ctx, "live-edge", dir, e.bin, o.URL, e.cfg.EdgeMemoryBytes, "", placement{})
	if err != nil {
		s.err = fmt.Errorf("start the edge: %w", err)
		return s
	}
	defer edge.stop()
	ng, err := startNginxRTMP(ctx, dir)
	if err != nil {
		s.err = fmt.Errorf("start nginx-rtmp: %w", err)
		return s
	}
	defer ng.stop()

	low, err := createLive(ctx, o.URL, "bench live low", "low")
	if err == nil {
		var std liveStream
		std, err = createLive(ctx, o.URL, "bench live standard", "standard")
		if err == nil {
			err = e.runLive(ctx, s, dir, script, o, edge, ng, low, std, rtmpPort)
		}
	}
	if err != nil {
		s.err = o.failed(err)
	}
	return s
}

func (e *env) runLive(ctx context.Context, s *section, dir, script string, o *originProcess, edge *edgeProcess, ng *nginxRTMP, low, std liveStream, rtmpPort int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	enc, err := startEncoder(ctx, dir, []string{low.RTMPURL, std.RTMPURL, ng.rtmpURL})
	if err != nil {
		return err
	}
	defer enc.stop()
	for _, ls := range []liveStream{low, std} {
		if err := waitLive(ctx, o.URL, ls.ID, enc); err != nil {
			return err
		}
	}
	lowURL, stdURL := edge.URL+pathOf(low.HLSURL), edge.URL+pathOf(std.HLSURL)
	ngURL := ng.URL + "/hls/bench.m3u8"
	for _, u := range []string{lowURL, stdURL, ngURL} {
		if err := waitPlaylist(ctx, u, enc); err != nil {
			return err
		}
	}

	t := newTable("server, mode", "p50", "p95", "min … max", "goal", "samples", "stalls", "hls.js live-edge distance p50", "hls.js target latency p50", "buffered ahead p50", "capture → buffered p50", "PDT-based p50")
	type run struct {
		name, url, hlsConfig string
		goal                 time.Duration
	}
	var runs []run
	for _, c := range []struct{ name, json string }{
		{"hls.js defaults", "{}"},
		{"catch-up 1.5×", `{"maxLiveSyncPlaybackRate":1.5}`},
	} {
		runs = append(runs,
			run{"Streamfront edge, low latency (LL-HLS, 200 ms parts); " + c.name, lowURL, c.json, 2 * time.Second},
			run{"Streamfront edge, standard (1 s segments, the default); " + c.name, stdURL, c.json, 6 * time.Second},
			run{"nginx-rtmp, hls_fragment 1s; " + c.name, ngURL, c.json, 0})
	}
	var failed []string
	for _, r := range runs {
		e.logf("live: hls.js plays %s", r.name)
		res, err := watchLatency(ctx, script, r.url, r.hlsConfig)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", r.name, err))
			t.add(r.name, "failed", "", "", "", "", "", "", "", "", "", "")
			continue
		}
		lat := slices.Clone(res.LatencyMs)
		slices.Sort(lat)
		p50, p95 := ms(percentile(lat, 0.5)), ms(percentile(lat, 0.95))
		goal := "—"
		if r.goal > 0 {
			goal = fmt.Sprintf("≤ %s: %s", fmtDuration(r.goal), verdict(p95 <= r.goal))
		}
		edgeCell, targetCell, aheadCell := medianSeconds(res.LiveEdgeS), medianSeconds(res.TargetS), medianSeconds(res.AheadS)
		pdtCell := "— (no PDT)"
		if len(res.PDTMs) > 0 {
			pdt := slices.Clone(res.PDTMs)
			slices.Sort(pdt)
			pdtCell = fmtDuration(ms(percentile(pdt, 0.5)))
		}
		t.add(r.name, fmtDuration(p50), fmtDuration(p95), fmtDuration(ms(lat[0]))+" … "+fmtDuration(ms(lat[len(lat)-1])), goal,
			fmt.Sprintf("%d (+%d unreadable)", len(lat), res.Unreadable), strconv.Itoa(res.Stalls), edgeCell, targetCell, aheadCell, deliveredCell(res), pdtCell)
	}
	s.tables = append(s.tables, t)
	s.note("One encoder feeds all three: `ffmpeg -re` of a 640×360 30 fps test pattern and a sine tone, libx264 `-preset veryfast -tune zerolatency`, a keyframe every second, AAC, pushed over RTMP through ffmpeg's tee muxer to the origin's two streams (latency `low` and `standard`) and to nginx-rtmp at once. Streamfront is played through one edge (origin → edge → browser); nginx-rtmp serves its HLS itself.")
	s.note("Glass to glass = the wall-clock time a frame is presented in the browser (requestVideoFrameCallback's expectedDisplayTime) minus the wall-clock time ffmpeg filtered it, which ffmpeg burns into the frame's top-left corner as a 24-bit barcode of Unix ms (setpts=RTCTIME, geq) before encoding; the page reads it back through a canvas. So the figure includes the encoder's own buffering, RTMP, packaging, the edge, hls.js's buffer and the decoder — everything but a camera and a display — and needs nothing from the server: the same method for all three. Encoder and browser share this machine's clock. Samples: every frame presented during %d s, after %d s of playing.", liveWatchSeconds, liveWarmupSeconds)
	s.note("hls.js %s with its default configuration for all three (lowLatencyMode on by default; it only changes anything with a playlist that has parts). \"Live-edge distance\" is hls.js's `latency` (the playlist's live edge minus the playing position); \"PDT-based\" is the presentation time minus hls.js's `playingDate`, i.e. minus the EXT-X-PROGRAM-DATE-TIME the origin stamps from its own clock when the frames arrive over RTMP (origin/live: anchored at the ingest wall clock), so it leaves out the encoder and RTMP; nginx-rtmp writes no PDT.", hlsVersion(e.cfg.RepoDir))
	s.note("Two player configurations, each on all three streams: hls.js's defaults (what player/ configures, plus lowLatencyMode), under which hls.js never plays faster than 1×, so whatever it fell behind its target latency while starting (or at a stall) stays for good; and the same with `maxLiveSyncPlaybackRate: 1.5`, hls.js's own catch-up (up to 1.5× speed until back at its target latency).")
	s.note("Stalls: the video element's `waiting` events while playing (a rebuffer each). Unreadable: frames whose barcode did not read cleanly (e.g. a frame blended by the decoder), left out.")

	e.logf("live: %d low-latency viewers on the edge for %s", liveViewers, liveViewerTime)
	vt, err := measureLiveViewers(ctx, edge, lowURL, liveViewers, liveViewerTime)
	if err != nil {
		failed = append(failed, "viewers: "+err.Error())
	} else {
		s.tables = append(s.tables, vt)
		s.note("Viewers: %d Go clients on loopback, each at the live edge with blocking playlist reloads (`_HLS_msn`/`_HLS_part` of the next part, as LL-HLS players ask) and a GET of every new part, on the video playlist and the audio rendition's at once (two blocking requests per viewer, as hls.js holds), for %s, against one edge process (its own process, unpinned; CPU from /proc/<pid>/stat utime+stime, peak RSS from VmHWM reset just before the load). The clients run in the bench process and compete with the edge for the same cores.", liveViewers, liveViewerTime)
		s.note("When the viewers receive fewer parts per second than the origin makes, they fell behind: the clients (this process) did not keep up on a busy machine, and the edge served less than a full load; \"edge CPU time per 1,000 parts served\" is the figure that does not depend on that.")
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// deliveredCell is the median, over the samples, of the latency minus the
// media buffered ahead: how long after capture the newest buffered frame
// reached the browser's buffer, whatever the player then waits.
func deliveredCell(res liveLatency) string {
	var xs []float64
	for i, l := range res.LatencyMs {
		if i < len(res.AheadS) && res.AheadS[i] != nil {
			xs = append(xs, l-*res.AheadS[i]*1000)
		}
	}
	if len(xs) == 0 {
		return "—"
	}
	slices.Sort(xs)
	return fmtDuration(ms(percentile(xs, 0.5)))
}

// medianSeconds is the median of hls.js's readings in seconds (null
// before hls.js knows), or a dash.
func medianSeconds(vs []*float64) string {
	var xs []float64
	for _, v := range vs {
		if v != nil {
			xs = append(xs, *v)
		}
	}
	if len(xs) == 0 {
		return "—"
	}
	slices.Sort(xs)
	return fmtDuration(time.Duration(percentile(xs, 0.5) * float64(time.Second)))
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.RawQuery != "" {
		return u.EscapedPath() + "?" + u.RawQuery
	}
	return u.EscapedPath()
}

func hlsVersion(repo string) string {
	b, err := os.ReadFile(filepath.Join(repo, "player", "node_modules", "hls.js", "package.json"))
	if err != nil {
		return "(version unknown)"
	}
	var p struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Version
}

// startLiveOrigin runs an origin with live ingest on (RTMP on a free
// loopback port) and no worker: the bench's streams do not record.
func startLiveOrigin(ctx context.Context, dir, bin string, e *env) (*originProcess, int, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	rtmpPort, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	conf := fmt.Sprintf("live:\n  enabled: true\n  rtmp_addr: 127.0.0.1:%d\n  rtmp_url: rtmp://127.0.0.1:%d/live\nworker:\n  ladder: []\n", rtmpPort, rtmpPort)
	confPath := filepath.Join(dir, "live-origin.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, 0, err
	}
	ns, err := natsserver.Start(natsserver.Config{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		return nil, 0, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	work := filepath.Join(dir, "origin-work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		ns.Close()
		return nil, 0, err
	}
	env := []string{
		"STREAMFRONT_CONFIG=" + confPath,
		"STREAMFRONT_NATS_URL=" + ns.URL(),
		"STREAMFRONT_S3_ENDPOINT=" + e.s3.Endpoint(),
		"STREAMFRONT_S3_BUCKET=streamfront-live",
		"STREAMFRONT_S3_ACCESS_KEY=" + e.s3.AccessKey(),
		"STREAMFRONT_S3_SECRET_KEY=" + e.s3.SecretKey(),
		"STREAMFRONT_S3_PATH_STYLE=true",
		"STREAMFRONT_WORK_DIR=" + work,
		"STREAMFRONT_LOG_LEVEL=warn",
		"STREAMFRONT_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"STREAMFRONT_API_KEY=" + apiKey,
		"STREAMFRONT_MEDIA_URL=" + base,
		"STREAMFRONT_WEB_URL=" + base,
	}
	p, err := startProcess("live-origin", dir, placement{}, env, bin, "origin")
	if err != nil {
		ns.Close()
		return nil, 0, err
	}
	o := &originProcess{process: p, URL: base, nats: ns}
	if err := p.waitHTTP(ctx, base+"/healthz", func(s int) bool { return s == http.StatusOK }); err != nil {
		o.stop()
		return nil, 0, err
	}
	return o, rtmpPort, nil
}

func createLive(ctx context.Context, apiURL, title, latency string) (liveStream, error) {
	body, _ := json.Marshal(map[string]any{"title": title, "latency": latency, "record": false})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/api/v1/live", bytes.NewReader(body))
	if err != nil {
		return liveStream{}, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return liveStream{}, fmt.Errorf("create live stream: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ls liveStream
	if resp.StatusCode/100 != 2 || json.Unmarshal(b, &ls) != nil || ls.RTMPURL == "" || ls.HLSURL == "" {
		return ls, fmt.Errorf("create live stream: status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return ls, nil
}

// waitLive polls the stream until its status is live.
func waitLive(ctx context.Context, apiURL, id string, enc *process) error {
	deadline := time.Now().Add(30 * time.Second)
	var last liveStream
	for time.Now().Before(deadline) {
		b, _, err := httpGet(ctx, apiURL+"/api/v1/live/"+id, nil)
		if err == nil && json.Unmarshal(b, &last) == nil && last.Status == "live" {
			return nil
		}
		select {
		case <-enc.done:
			return enc.failed(errors.New("the encoder exited"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("live stream %s not live after 30 s (status %q, error %q)", id, last.Status, last.Error)
}

// waitPlaylist polls a playlist URL until it answers 200.
func waitPlaylist(ctx context.Context, u string, enc *process) error {
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if _, _, last = httpGet(ctx, u, nil); last == nil {
			return nil
		}
		select {
		case <-enc.done:
			return enc.failed(errors.New("the encoder exited"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("playlist %s not served after 30 s: %v", u, last)
}

// barFilter burns the wall clock (Unix ms mod 2^24) into the top-left
// 384×16 pixels, one 16×16 block per bit, before the encoder sees the frame.
const barFilter = "[0:v]settb=1/1000000,setpts=RTCTIME,split[a][b];" +
	"[b]crop=384:16:0:0,geq=lum='255*mod(floor(mod(floor(T*1000)\\,16777216)/pow(2\\,floor(X/16)))\\,2)':cb=128:cr=128[bar];" +
	"[a][bar]overlay=0:0,setpts=PTS-STARTPTS[v]"

// startEncoder runs ffmpeg -re pushing one encode to every RTMP URL.
func startEncoder(_ context.Context, dir string, urls []string) (*process, error) {
	var outs []string
	for _, u := range urls {
		outs = append(outs, "[f=flv:onfail=ignore]"+u)
	}
	return startProcess("live-encoder", dir, placement{}, nil, "ffmpeg", "-hide_banner", "-loglevel", "warning", "-nostdin",
		"-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-filter_complex", barFilter, "-map", "[v]", "-map", "1:a",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-b:v", "1M",
		"-c:a", "aac", "-b:a", "64k", "-ar", "48000",
		// The tee muxer does not ask the encoders for the global header FLV
		// needs (avcC, AudioSpecificConfig): ask for it here.
		"-flags", "+global_header",
		"-f", "tee", strings.Join(outs, "|"))
}

// watchLatency runs livelatency.mjs on one playlist.
func watchLatency(ctx context.Context, script, u, hlsConfig string) (liveLatency, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, "--url", u, "--seconds", strconv.Itoa(liveWatchSeconds),
		"--warmup-s", strconv.Itoa(liveWarmupSeconds), "--hls-config", hlsConfig, "--timeout-ms", "60000")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res liveLatency
	line := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal(line, &res); err != nil {
		return res, fmt.Errorf("livelatency.mjs printed no result (%v): %s", runErr, strings.TrimSpace(stderr.String()))
	}
	if !res.OK {
		return res, fmt.Errorf("livelatency.mjs: %s", res.Reason)
	}
	return res, nil
}

// nginxRTMP is nginx with the RTMP module writing HLS (hls_fragment 1s)
// and serving it over HTTP.
type nginxRTMP struct {
	*process
	URL     string
	rtmpURL string
}

const nginxRTMPConf = `# Generated by bench/live.go.
load_module %[1]s;
daemon off;
master_process on;
user root;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
rtmp {
    server {
        listen 127.0.0.1:%[3]d;
        application live {
            live on;
            hls on;
            hls_path %[2]s/hls;
            hls_fragment 1s;
            hls_playlist_length 10s;
        }
    }
}
http {
    access_log off;
    sendfile on;
    tcp_nodelay on;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy_temp;
    fastcgi_temp_path %[2]s/fastcgi_temp;
    uwsgi_temp_path %[2]s/uwsgi_temp;
    scgi_temp_path %[2]s/scgi_temp;
    server {
        listen 127.0.0.1:%[4]d;
        location /hls/ {
            alias %[2]s/hls/;
            types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
            add_header Cache-Control no-cache;
        }
    }
}
`

// rtmpModule is Debian's libnginx-mod-rtmp.
const rtmpModule = "/usr/lib/nginx/modules/ngx_rtmp_module.so"

func startNginxRTMP(ctx context.Context, dir string) (*nginxRTMP, error) {
	if _, err := os.Stat(rtmpModule); err != nil {
		return nil, fmt.Errorf("nginx's RTMP module %s is missing: install it with `apt-get install -y libnginx-mod-rtmp`", rtmpModule)
	}
	rtmpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	ndir := filepath.Join(dir, "nginx-rtmp")
	if err := os.MkdirAll(filepath.Join(ndir, "hls"), 0o755); err != nil {
		return nil, err
	}
	confPath := filepath.Join(ndir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(fmt.Sprintf(nginxRTMPConf, rtmpModule, ndir, rtmpPort, httpPort)), 0o644); err != nil {
		return nil, err
	}
	p, err := startProcess("nginx-rtmp", dir, placement{}, nil, "nginx", "-p", ndir, "-c", confPath, "-e", filepath.Join(ndir, "error.log"))
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	if err := p.waitHTTP(ctx, base+"/", nil); err != nil {
		p.stop()
		if b, rerr := os.ReadFile(filepath.Join(ndir, "error.log")); rerr == nil {
			err = fmt.Errorf("%w (error.log: %s)", err, strings.TrimSpace(string(b)))
		}
		return nil, err
	}
	return &nginxRTMP{process: p, URL: base, rtmpURL: fmt.Sprintf("rtmp://127.0.0.1:%d/live/bench", rtmpPort)}, nil
}

// viewerCounts is what the low-latency viewers saw.
type viewerCounts struct {
	playlists, parts, partBytes, errs atomic.Int64
	firstErr                          atomic.Value // string
}

// measureLiveViewers runs n blocking-reload clients against the edge for d
// and reads the edge's CPU time and peak RSS.
func measureLiveViewers(ctx context.Context, edge *edgeProcess, playlistURL string, n int, d time.Duration) (*table, error) {
	mediaURLs, err := mediaPlaylistURLs(ctx, playlistURL)
	if err != nil {
		return nil, err
	}
	idleRSS := groupRSS(edge.pid())
	if err := resetPeakRSS(edge.pid()); err != nil {
		return nil, fmt.Errorf("reset the edge's peak RSS: %w", err)
	}
	tr := &http.Transport{MaxIdleConns: 4 * n, MaxIdleConnsPerHost: 4 * n, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	var c viewerCounts
	cpu0, self0 := groupCPU(edge.pid()), selfCPU()
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for range n {
		for _, m := range mediaURLs { // a viewer follows video and audio
			wg.Add(1)
			go func() {
				defer wg.Done()
				llViewer(lctx, client, m, &c)
			}()
		}
	}
	wg.Wait()
	took := time.Since(start)
	cpu, self := groupCPU(edge.pid())-cpu0, selfCPU()-self0
	peak, err := statusBytes(edge.pid(), "VmHWM")
	if err != nil {
		return nil, err
	}
	if c.parts.Load() == 0 {
		first, _ := c.firstErr.Load().(string)
		return nil, fmt.Errorf("the viewers received no part (%d errors; first: %s)", c.errs.Load(), first)
	}
	per := 1000 / float64(n)
	t := newTable("one edge, low-latency viewers", "value", "per 1,000 viewers")
	t.add("viewers × time", fmt.Sprintf("%d × %s, each following %d media playlists", n, fmtDuration(took.Round(100*time.Millisecond)), len(mediaURLs)), "")
	t.add("edge CPU time", fmt.Sprintf("%.2f s (%.0f%% of a core)", cpu.Seconds(), 100*cpu.Seconds()/took.Seconds()),
		fmt.Sprintf("%.2f s, %.0f%% of a core", cpu.Seconds()*per, 100*cpu.Seconds()*per/took.Seconds()))
	t.add("edge peak RSS (VmHWM)", fmtBytes(peak), fmtBytes(int64(float64(peak-idleRSS)*per))+" above its idle "+fmtBytes(idleRSS))
	t.add("edge CPU time per 1,000 parts served", fmt.Sprintf("%.1f ms", 1000*cpu.Seconds()*1000/float64(c.parts.Load())), "")
	t.add("the clients' CPU time (bench process)", fmt.Sprintf("%.2f s (%.0f%% of a core)", self.Seconds(), 100*self.Seconds()/took.Seconds()), "")
	t.add("playlist responses", fmtCount(float64(c.playlists.Load())), "")
	t.add("parts received", fmt.Sprintf("%s (%s)", fmtCount(float64(c.parts.Load())), fmtBytes(c.partBytes.Load())),
		fmt.Sprintf("%.1f parts/s per viewer (video and audio; the origin makes about %d/s: 200 ms parts × %d playlists)", float64(c.parts.Load())/float64(n)/took.Seconds(), 5*len(mediaURLs), len(mediaURLs)))
	first, _ := c.firstErr.Load().(string)
	errCell := fmtCount(float64(c.errs.Load()))
	if first != "" {
		errCell += " (first: " + first + ")"
	}
	t.add("client errors", errCell, "")
	return t, nil
}

// selfCPU is the CPU time this process (the bench, with its viewers) has
// used so far.
func selfCPU() time.Duration {
	st, err := readStat(os.Getpid())
	if err != nil {
		return 0
	}
	return time.Duration(st.utime+st.stime) * time.Second / clockTicks
}

// mediaPlaylistURLs resolves a multivariant playlist to the media
// playlists one viewer plays: its first variant and the renditions
// (audio) it names with EXT-X-MEDIA.
func mediaPlaylistURLs(ctx context.Context, u string) ([]string, error) {
	b, _, err := httpGet(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte("#EXT-X-TARGETDURATION")) {
		return []string{u}, nil
	}
	base, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	var out []string
	resolve := func(ref string) error {
		r, err := url.Parse(ref)
		if err != nil {
			return fmt.Errorf("multivariant playlist %s: URI %q: %w", u, ref, err)
		}
		out = append(out, base.ResolveReference(r).String())
		return nil
	}
	variant := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#EXT-X-MEDIA:"):
			if _, rest, ok := strings.Cut(line, `URI="`); ok {
				ref, _, _ := strings.Cut(rest, `"`)
				if err := resolve(ref); err != nil {
					return nil, err
				}
			}
		case line != "" && !strings.HasPrefix(line, "#") && !variant:
			variant = true
			if err := resolve(line); err != nil {
				return nil, err
			}
		}
	}
	if !variant {
		return nil, fmt.Errorf("multivariant playlist %s names no media playlist", u)
	}
	return out, nil
}

// llViewer plays a low-latency media playlist the way LL-HLS players do:
// one plain GET to join at the live edge, then blocking reloads asking for
// the next part, fetching every part it has not fetched yet.
func llViewer(ctx context.Context, client *http.Client, mediaURL string, c *viewerCounts) {
	base, err := url.Parse(mediaURL)
	if err != nil {
		return
	}
	fail := func(err error) {
		if ctx.Err() != nil {
			return // the run ended mid-request
		}
		c.errs.Add(1)
		c.firstErr.CompareAndSwap(nil, err.Error())
		select { // not in a tight loop
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	seen := map[string]bool{}
	joined := false
	next := ""
	for ctx.Err() == nil {
		body, err := viewerGet(ctx, client, mediaURL+next, nil)
		if err != nil {
			fail(err)
			continue
		}
		c.playlists.Add(1)
		pl, err := parseLLPlaylist(body)
		if err != nil {
			fail(err)
			continue
		}
		uris := pl.partURIs()
		if !joined && len(uris) > 0 {
			// Join at the newest part, as a player at the live edge does.
			for _, u := range uris[:len(uris)-1] {
				seen[u] = true
			}
			joined = true
		}
		listed := make(map[string]bool, len(uris))
		for _, u := range uris {
			listed[u] = true
			if seen[u] {
				continue
			}
			seen[u] = true
			ref, err := url.Parse(u)
			if err != nil {
				fail(err)
				continue
			}
			n, err := viewerGetLen(ctx, client, base.ResolveReference(ref).String())
			if err != nil {
				fail(err)
				continue
			}
			c.parts.Add(1)
			c.partBytes.Add(n)
		}
		for u := range seen { // bounded by the playlist's parts
			if !listed[u] {
				delete(seen, u)
			}
		}
		next = fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", pl.nextMSN, pl.nextPart)
	}
}

func viewerGet(ctx context.Context, client *http.Client, u string, _ http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // playlists are a few KiB
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return b, nil
}

// viewerGetLen fetches u and discards the body, returning its length.
func viewerGetLen(ctx context.Context, client *http.Client, u string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return n, nil
}
