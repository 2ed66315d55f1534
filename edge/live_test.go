package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/livehdr"
)

// llPlaylist is a low-latency media playlist with version v.
func llPlaylist(v int, partTarget string, ended bool) string {
	s := fmt.Sprintf("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6\n"+
		"#EXT-X-PART-INF:PART-TARGET=%s\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXTINF:1.0,\nseg%d.mp4\n#EXT-X-PART:DURATION=0.2,URI=\"part%d.mp4\"\n", partTarget, v, v, v)
	if ended {
		s += "#EXT-X-ENDLIST\n"
	} else {
		s += fmt.Sprintf("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part%d.mp4\"\n", v+1)
	}
	return s
}

// versionedPlaylist serves a playlist whose version counts the origin's
// answers, with the given Cache-Control.
func versionedPlaylist(cacheControl, partTarget string, ended bool) (http.HandlerFunc, *atomic.Int64) {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		v := n.Add(1)
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", cacheControl)
		w.Header().Set(livehdr.Kind, livehdr.KindPlaylist)
		fmt.Fprint(w, llPlaylist(int(v), partTarget, ended))
	}, &n
}

// A live low-latency playlist asked without a blocking query is kept for
// one part target (read from the playlist), not the whole second its
// max-age says, and never served stale; a finished one, and the answer
// to a blocking reload, keep the origin's lifetime.
func TestLive_PlaylistFreshForOnePartTargetOnly(t *testing.T) {
	o := newTestOrigin(t)
	clock := newTestClock()
	liveH, liveN := versionedPlaylist("public, max-age=1, stale-while-revalidate=5, stale-if-error=60", "0.3", false)
	endedH, endedN := versionedPlaylist("public, max-age=1", "0.3", true)
	o.handle("/videos/L1/v_stream.m3u8", liveH)
	o.handle("/videos/L1/ended_stream.m3u8", endedH)
	_, base := startEdge(t, o.URL(), func(c *Config) { c.Now = clock.Now })
	c := testClient(t)

	for _, step := range []struct {
		advance time.Duration
		path    string
		xcache  string
		fetches int64
		n       *atomic.Int64
	}{
		{0, "/videos/L1/v_stream.m3u8", "Miss", 1, liveN},
		{200 * time.Millisecond, "/videos/L1/v_stream.m3u8", "Hit", 1, liveN},
		// 350 ms after the fetch: older than the part target (0.3 s), so
		// asked again, though max-age=1 and stale-while-revalidate would
		// allow the copy.
		{150 * time.Millisecond, "/videos/L1/v_stream.m3u8", "Miss", 2, liveN},
		{0, "/videos/L1/ended_stream.m3u8", "Miss", 1, endedN},
		{350 * time.Millisecond, "/videos/L1/ended_stream.m3u8", "Hit", 1, endedN},
		{0, "/videos/L1/v_stream.m3u8?_HLS_msn=9&_HLS_part=0", "Miss", 3, liveN},
		{350 * time.Millisecond, "/videos/L1/v_stream.m3u8?_HLS_msn=9&_HLS_part=0", "Hit", 3, liveN},
	} {
		clock.advance(step.advance)
		r := get(t, c, base+step.path)
		wantStatus(t, r, http.StatusOK)
		if !strings.HasPrefix(r.header.Get("X-Cache"), step.xcache) {
			t.Errorf("%s after %v: X-Cache %q, want %s", step.path, step.advance, r.header.Get("X-Cache"), step.xcache)
		}
		if got := step.n.Load(); got != step.fetches {
			t.Errorf("%s: %d origin fetches, want %d", step.path, got, step.fetches)
		}
	}
}

// A live playlist revalidated with 304 stays limited to one part target.
func TestLive_PlaylistRevalidatedKeepsThePartTargetLimit(t *testing.T) {
	o := newTestOrigin(t)
	clock := newTestClock()
	o.handle("/videos/L4/v_stream.m3u8", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=1")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		fmt.Fprint(w, llPlaylist(1, "0.3", false))
	})
	_, base := startEdge(t, o.URL(), func(c *Config) { c.Now = clock.Now })
	c := testClient(t)
	for i, want := range []string{"Miss", "RefreshHit", "RefreshHit"} {
		if i > 0 {
			clock.advance(350 * time.Millisecond)
		}
		r := get(t, c, base+"/videos/L4/v_stream.m3u8")
		if !strings.HasPrefix(r.header.Get("X-Cache"), want) {
			t.Errorf("request %d: X-Cache %q, want %s", i, r.header.Get("X-Cache"), want)
		}
	}
}

// The origin holds a blocking playlist reload until the part it names
// exists, longer than OriginFirstByteTimeout: the edge waits for it
// (BlockingReloadTimeout), and every viewer asking for the same part
// shares the one origin request.
func TestLive_BlockingReloadHeldPastFirstByteTimeoutAndCollapsed(t *testing.T) {
	o := newTestOrigin(t)
	release := make(chan struct{})
	var mu sync.Mutex
	asked := map[string]int{}
	o.handle("/videos/L2/v_stream.m3u8", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked[r.URL.RawQuery]++
		mu.Unlock()
		<-release // the part the request waits for is being made
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprint(w, llPlaylist(5, "0.2", false))
	})
	_, base := startEdge(t, o.URL(), func(c *Config) {
		c.OriginFirstByteTimeout = 50 * time.Millisecond
		c.BlockingReloadTimeout = 10 * time.Second
	})
	c := testClient(t)

	// Without a blocking query the same hold is a timeout.
	go func() {
		time.Sleep(300 * time.Millisecond) // past the first-byte timeout
		close(release)
	}()
	plain := get(t, c, base+"/videos/L2/v_stream.m3u8")
	wantStatus(t, plain, http.StatusGatewayTimeout)

	const viewers = 50
	var wg sync.WaitGroup
	results := make([]result, viewers)
	release2 := make(chan struct{})
	o.handle("/videos/L2/v_stream.m3u8", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked[r.URL.RawQuery]++
		mu.Unlock()
		<-release2
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprint(w, llPlaylist(5, "0.2", false))
	})
	for i := range viewers {
		wg.Go(func() { results[i] = get(t, c, base+"/videos/L2/v_stream.m3u8?_HLS_msn=5&_HLS_part=1") })
	}
	waitFor(t, "the blocking reload at the origin", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return asked["_HLS_msn=5&_HLS_part=1"] > 0
	})
	time.Sleep(200 * time.Millisecond) // hold it past the first-byte timeout
	close(release2)
	wg.Wait()
	for i, r := range results {
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "#EXT-X-PART-INF") {
			t.Fatalf("viewer %d: %d %s", i, r.status, r.body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := asked["_HLS_msn=5&_HLS_part=1"]; n != 1 {
		t.Errorf("the origin was asked %d times for the blocking reload %d viewers waited on, want 1", n, viewers)
	}
}

// A blocking reload the origin refuses (a part too far ahead: 400) does
// not turn the URL into a pass-through: once the part is near, the
// viewers waiting for it share one origin request again.
func TestLive_RefusedBlockingReloadIsNotPassedThroughLater(t *testing.T) {
	o := newTestOrigin(t)
	var mu sync.Mutex
	asked := 0
	release := make(chan struct{})
	o.handle("/videos/L5/v_stream.m3u8", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked++
		first := asked == 1
		mu.Unlock()
		if first {
			w.Header().Set("Cache-Control", "public, max-age=1")
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		<-release
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprint(w, llPlaylist(9, "0.2", false))
	})
	_, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	const uri = "/videos/L5/v_stream.m3u8?_HLS_msn=9&_HLS_part=0"
	wantStatus(t, get(t, c, base+uri), http.StatusBadRequest)

	const viewers = 20
	var wg sync.WaitGroup
	results := make([]result, viewers)
	for i := range viewers {
		wg.Go(func() { results[i] = get(t, c, base+uri) })
	}
	waitFor(t, "the held reload at the origin", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return asked >= 2
	})
	time.Sleep(100 * time.Millisecond) // let every viewer reach the edge
	close(release)
	wg.Wait()
	for _, r := range results {
		wantStatus(t, r, http.StatusOK)
	}
	mu.Lock()
	defer mu.Unlock()
	if asked != 2 {
		t.Errorf("the origin was asked %d times (one refusal, then %d viewers), want 2", asked, viewers)
	}
}

// A part the origin sends as it is made (chunked, no length; the path is
// one the edge slices, *.mp4 under /videos/) is one origin request, and
// every viewer that asked gets its first bytes before the origin sent
// the rest.
func TestLive_PartStreamsToEveryViewerWhileItArrives(t *testing.T) {
	o := newTestOrigin(t)
	release := make(chan struct{})
	var asked atomic.Int64
	o.handle("/videos/L6/abc_video1_part3.mp4", func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set(livehdr.Kind, livehdr.KindPart)
		fmt.Fprint(w, "first half;")
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, "second half")
	})
	_, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	const viewers = 10
	bodies := make([]*http.Response, viewers)
	for i := range viewers {
		resp, err := c.Get(base + "/videos/L6/abc_video1_part3.mp4")
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		first := make([]byte, len("first half;"))
		if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first half;" {
			t.Fatalf("viewer %d: first bytes %q, %v", i, first, err)
		}
		bodies[i] = resp
	}
	close(release)
	for i, resp := range bodies {
		rest, err := io.ReadAll(resp.Body)
		if err != nil || string(rest) != "second half" {
			t.Errorf("viewer %d: rest %q, %v", i, rest, err)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the origin was asked %d times for the part, want 1", n)
	}
}

// Parts and live playlists the origin marks are counted per stream on
// /metrics; distinct players are the viewers, whose count the edge sends
// upstream on its playlist fills in place of any value a viewer sent.
func TestLive_PartsAndViewersCountedAndReportedUpstream(t *testing.T) {
	o := newTestOrigin(t)
	clock := newTestClock()
	var mu sync.Mutex
	var reports []string
	o.handle("/videos/L3/v_stream.m3u8", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reports = append(reports, strings.Join(r.Header.Values(livehdr.Viewers), "|"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set(livehdr.Kind, livehdr.KindPlaylist)
		fmt.Fprint(w, llPlaylist(1, "0.2", false))
	})
	for i := range 3 {
		o.handle(fmt.Sprintf("/videos/L3/part%d.mp4", i), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "video/mp4")
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			w.Header().Set(livehdr.Kind, livehdr.KindPart)
			fmt.Fprint(w, "part bytes")
		})
	}
	e, base := startEdge(t, o.URL(), func(c *Config) { c.Now = clock.Now })
	c := testClient(t)
	getAs := func(path, ua string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("User-Agent", ua)
		req.Header.Set(livehdr.Viewers, "forged=1000000")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	for _, ua := range []string{"a", "b", "c", "a"} {
		getAs("/videos/L3/v_stream.m3u8?_HLS_msn=1&_HLS_part=0", ua)
	}
	for i := range 3 {
		getAs(fmt.Sprintf("/videos/L3/part%d.mp4", i), "a")
		getAs(fmt.Sprintf("/videos/L3/part%d.mp4", i), "b") // a hit, counted too
	}
	// An answer is counted once it is sent, which the client may see
	// first: wait for the counts (they must reach exactly these values).
	waitMetric(t, e, "streamfront_edge_live_viewers", "L3", 3)
	waitMetric(t, e, "streamfront_edge_live_parts_served_total", "L3", 6)

	// The next fill carries this edge's count, and only it.
	getAs("/videos/L3/v_stream.m3u8?_HLS_msn=1&_HLS_part=1", "d")
	mu.Lock()
	got := reports[len(reports)-1]
	mu.Unlock()
	if got != "test-edge=3" {
		t.Errorf("fill reported %q upstream, want %q", got, "test-edge=3")
	}

	// Players that stopped asking age out of the count.
	clock.advance(liveViewerWindow + time.Second)
	getAs("/videos/L3/v_stream.m3u8?_HLS_msn=1&_HLS_part=0", "e")
	waitMetric(t, e, "streamfront_edge_live_viewers", "L3", 1)
}

// waitMetric waits until the edge's live series for stream reads want.
func waitMetric(t *testing.T, e *Edge, name, stream string, want float64) {
	t.Helper()
	var got float64
	deadline := time.Now().Add(10 * time.Second) // a guard against hanging
	for time.Now().Before(deadline) {
		if got = liveMetric(t, e, name, stream); got == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s{stream=%q} is %v, want %v", name, stream, got, want)
}

// The players remembered are bounded over all streams; those that went
// quiet make room for new ones.
func TestLive_PlayersRememberedAreBounded(t *testing.T) {
	clock := newTestClock()
	l := newLiveState(Config{Name: "e", Now: clock.Now})
	l.maxPlayers = 100
	ip := netip.MustParseAddr("192.0.2.1")
	for i := range 150 {
		l.observe(fmt.Sprintf("/videos/S%d/v.m3u8", i%3), livehdr.KindPlaylist, ip, fmt.Sprint("ua", i))
	}
	if l.players != 100 {
		t.Fatalf("%d players remembered, want the bound 100", l.players)
	}
	clock.advance(liveViewerWindow + time.Second)
	l.observe("/videos/S0/v.m3u8", livehdr.KindPlaylist, ip, "late")
	l.mu.Lock()
	n := l.viewers(l.streams["S0"], clock.Now().UnixNano())
	l.mu.Unlock()
	if n != 1 {
		t.Errorf("viewers of S0 after the others went quiet: %d, want 1", n)
	}
	if l.players > 100 {
		t.Errorf("%d players remembered, over the bound", l.players)
	}
}

func TestLivePartTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want time.Duration
		ok   bool
	}{
		{"live", llPlaylist(1, "0.2", false), 200 * time.Millisecond, true},
		{"quoted and CRLF", "#EXTM3U\r\n#EXT-X-PART-INF:FOO=\"a,b\",PART-TARGET=1.5\r\n", 1500 * time.Millisecond, true},
		{"ended", llPlaylist(1, "0.2", true), 0, false},
		{"no part-inf", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n", 0, false},
		{"garbage", "#EXT-X-PART-INF:PART-TARGET=abc\n", 0, false},
		{"zero", "#EXT-X-PART-INF:PART-TARGET=0\n", 0, false},
		{"negative", "#EXT-X-PART-INF:PART-TARGET=-1\n", 0, false},
		{"huge", "#EXT-X-PART-INF:PART-TARGET=1e9\n", 0, false},
		{"NaN", "#EXT-X-PART-INF:PART-TARGET=NaN\n", 0, false},
		{"unterminated quote", "#EXT-X-PART-INF:X=\"abc\n", 0, false},
		{"missing attribute", "#EXT-X-PART-INF:OTHER=1\n", 0, false},
	} {
		got, ok := livePartTarget([]byte(tc.body))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: livePartTarget = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIsBlockingReload(t *testing.T) {
	for q, want := range map[string]bool{
		"":                           false,
		"_HLS_msn=5":                 true,
		"_HLS_msn=5&_HLS_part=2":     true,
		"_HLS_part=2&_HLS_msn=5":     true,
		"_HLS_skip=YES":              false,
		"x_HLS_msn=5":                false,
		"token=abc&_HLS_msn=1":       true,
		"_HLS_msnx=1":                false,
		"_HLS_skip=YES&_HLS_msn=7&a": true,
	} {
		if got := isBlockingReload(q); got != want {
			t.Errorf("isBlockingReload(%q) = %v, want %v", q, got, want)
		}
	}
}

// FuzzLivePartTarget: playlists are untrusted bytes; any answer is a
// positive duration within maxPartTarget, or none.
func FuzzLivePartTarget(f *testing.F) {
	f.Add([]byte(llPlaylist(1, "0.2", false)))
	f.Add([]byte(llPlaylist(1, "0.33334", true)))
	f.Add([]byte("#EXT-X-PART-INF:A=\"x,y\",PART-TARGET=2\n"))
	f.Add([]byte("#EXT-X-PART-INF:PART-TARGET=1e-9"))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, ok := livePartTarget(body)
		if ok && (d <= 0 || d > maxPartTarget) {
			t.Fatalf("livePartTarget = %v, true", d)
		}
		if !ok && d != 0 {
			t.Fatalf("livePartTarget = %v, false", d)
		}
	})
}
