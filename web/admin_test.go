package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

const testAdminKey = "admin-test-key-0123456789"

// adminSite is a site in front of an adminOrigin.
func adminSite(t *testing.T, publicURL string) (*Server, *adminOrigin) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Hour)
	priv := readyVideo(videoID(2), fixtureTime(1))
	priv.Visibility, priv.Title = "private", "Private rehearsal"
	processing := readyVideo(videoID(3), fixtureTime(2))
	processing.Status, processing.Stage, processing.Percent, processing.QueuePosition = statusProcessing, "waiting for a worker", 0, 2
	o := startAdminOrigin(t, testAdminKey, []video{readyVideo(videoID(1), fixtureTime(0)), priv, processing}, []usageRow{
		{Start: now.Add(-2 * time.Hour), Video: videoID(1), Edge: "edge-1", usageTotals: usageTotals{BytesOut: 5_000_000, Requests: 40, OriginBytes: 1_000_000}},
		{Start: now.Add(-1 * time.Hour), Video: videoID(2), Edge: "edge-2", usageTotals: usageTotals{BytesOut: 2_000_000, Requests: 12, OriginBytes: 2_000_000}},
	})
	s, err := New(Config{APIURL: o.URL, PublicURL: publicURL, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

// serve runs one request through the site.
func serve(s http.Handler, method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// signIn signs in with the right key and returns the session cookie and
// the form token.
func signIn(t *testing.T, s *Server) (*http.Cookie, string) {
	t.Helper()
	rec := serve(s, http.MethodPost, "/admin/sign-in", url.Values{"api_key": {testAdminKey}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("sign-in set %d cookies, want 1", len(cookies))
	}
	page := serve(s, http.MethodGet, "/admin/invalidations", nil, cookies[0])
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.Body.String())
	if page.Code != http.StatusOK || m == nil {
		t.Fatalf("no form token on the invalidations page: %d", page.Code)
	}
	return cookies[0], m[1]
}

// adminRoutes lists every route under /admin but the sign-in form, from
// the router itself, so a route added later is covered too.
func listAdminRoutes(t *testing.T, s *Server) (gets, posts []string) {
	t.Helper()
	err := chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if !strings.HasPrefix(route, "/admin") || strings.HasPrefix(route, "/admin/sign-in") {
			return nil
		}
		route = strings.ReplaceAll(route, "{id}", videoID(1))
		route = strings.TrimSuffix(route, "/*")
		switch method {
		case http.MethodGet:
			gets = append(gets, route)
		case http.MethodPost:
			posts = append(posts, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(gets) < 5 || len(posts) < 4 {
		t.Fatalf("found %d pages and %d forms under /admin; the walk missed some", len(gets), len(posts))
	}
	return gets, posts
}

func TestAdmin_EveryPageAndFormRefusesWithoutASession(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	gets, posts := listAdminRoutes(t, s)
	forged := &http.Cookie{Name: sessionCookieSecure, Value: "made-up-session-id"}
	for _, cookies := range [][]*http.Cookie{nil, {forged}} {
		for _, path := range gets {
			rec := serve(s, http.MethodGet, path, nil, cookies...)
			loc := rec.Header().Get("Location")
			if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/sign-in?next=") {
				t.Errorf("GET %s without a session (cookies %v): %d to %q, want 303 to the sign-in form", path, cookies, rec.Code, loc)
			}
		}
		for _, path := range posts {
			rec := serve(s, http.MethodPost, path, url.Values{"csrf": {"x"}, "paths": {"/videos/*"}, "confirm": {"yes"}, "title": {"t"}, "visibility": {"public"}}, cookies...)
			if rec.Code != http.StatusForbidden {
				t.Errorf("POST %s without a session (cookies %v): %d, want 403", path, cookies, rec.Code)
			}
		}
	}
	if o.keyed != 0 || len(o.deleted) != 0 || len(o.invalidated) != 0 || len(o.edits) != 0 || len(o.liveReset) != 0 || len(o.liveDeleted) != 0 {
		t.Errorf("the origin got %d keyed calls (%d deletes, %d invalidations, %d edits, %d key resets, %d live deletes) without a session",
			o.keyed, len(o.deleted), len(o.invalidated), len(o.edits), len(o.liveReset), len(o.liveDeleted))
	}
}

func TestAdmin_FormsNeedTheSessionsToken(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	cookie, token := signIn(t, s)
	_, posts := listAdminRoutes(t, s)
	for _, path := range posts {
		for _, bad := range []string{"", "wrong", token + "x"} {
			rec := serve(s, http.MethodPost, path, url.Values{"csrf": {bad}, "paths": {"/videos/*"}, "confirm": {"yes"}}, cookie)
			if rec.Code != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d, want 403", path, bad, rec.Code)
			}
		}
	}
	// A browser that says the form came from another site is refused even
	// with the right token (it could only have it by a leak).
	req := httptest.NewRequest(http.MethodPost, "/admin/invalidations", strings.NewReader(url.Values{"csrf": {token}, "paths": {"/x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", rec.Code)
	}
	if len(o.deleted)+len(o.invalidated)+len(o.edits) != 0 {
		t.Errorf("a refused form reached the origin: %v %v %v", o.deleted, o.invalidated, o.edits)
	}
}

func TestAdmin_SignInRefusesAWrongKey(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	for _, tc := range []struct {
		key  string
		want int
	}{{"not-the-key", http.StatusUnauthorized}, {"", http.StatusBadRequest}, {"   ", http.StatusBadRequest}} {
		rec := serve(s, http.MethodPost, "/admin/sign-in", url.Values{"api_key": {tc.key}})
		if rec.Code != tc.want {
			t.Errorf("key %q: %d, want %d", tc.key, rec.Code, tc.want)
		}
		if c := rec.Result().Cookies(); len(c) != 0 {
			t.Errorf("key %q: set cookies %v", tc.key, c)
		}
		if !strings.Contains(rec.Body.String(), `role="alert"`) {
			t.Errorf("key %q: the form shows no reason", tc.key)
		}
	}
	if o.refused != 1 {
		t.Errorf("the origin refused %d keys, want 1 (empty keys are not sent)", o.refused)
	}
}

func TestAdmin_SessionCookie(t *testing.T) {
	for _, tc := range []struct {
		publicURL  string
		wantName   string
		wantSecure bool
	}{
		{"https://videos.example.test", sessionCookieSecure, true},
		{"http://localhost:8080", sessionCookie, false},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			s, _ := adminSite(t, tc.publicURL)
			rec := serve(s, http.MethodPost, "/admin/sign-in", url.Values{"api_key": {testAdminKey}, "next": {"/admin/videos"}})
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/videos" {
				t.Fatalf("sign-in: %d to %q, want 303 to /admin/videos", rec.Code, rec.Header().Get("Location"))
			}
			c := rec.Result().Cookies()[0]
			if c.Name != tc.wantName || c.Secure != tc.wantSecure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("cookie %s: want %s, Secure=%v, HttpOnly, SameSite=Strict, Path=/, host-only", c.String(), tc.wantName, tc.wantSecure)
			}
			if c.MaxAge <= 0 || c.MaxAge > int(sessionTTL.Seconds()) {
				t.Errorf("cookie Max-Age %d, want up to %v", c.MaxAge, sessionTTL)
			}
			if strings.Contains(c.Value, testAdminKey) || len(c.Value) < 40 {
				t.Errorf("cookie value %q: want an opaque random ID, not the key", c.Value)
			}
			page := serve(s, http.MethodGet, "/admin", nil, c)
			if page.Code != http.StatusOK || strings.Contains(page.Body.String(), testAdminKey) {
				t.Errorf("overview: %d; the key must never be in a page", page.Code)
			}
			if page.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", page.Header().Get("Cache-Control"))
			}
		})
	}
}

func TestAdmin_SignOutEndsTheSession(t *testing.T) {
	s, _ := adminSite(t, testPublicURL)
	cookie, token := signIn(t, s)
	rec := serve(s, http.MethodPost, "/admin/sign-out", url.Values{"csrf": {token}}, cookie)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", rec.Code)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("sign-out cookies %v, want the session cookie expired", c)
	}
	if rec := serve(s, http.MethodGet, "/admin", nil, cookie); rec.Code != http.StatusSeeOther {
		t.Errorf("the old cookie after sign-out: %d, want 303 to sign in", rec.Code)
	}
}

func TestAdmin_OverviewDrawsUsageAsAccessibleSVG(t *testing.T) {
	s, _ := adminSite(t, testPublicURL)
	cookie, _ := signIn(t, s)
	rec := serve(s, http.MethodGet, "/admin", nil, cookie)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("overview: %d %s", rec.Code, body)
	}
	for _, want := range []string{
		`id="chart-bytes"`, `id="chart-requests"`, `id="chart-edges"`, `id="chart-videos"`,
		`role="img" aria-labelledby="chart-bytes-title chart-bytes-desc"`,
		`<title id="chart-bytes-title">Bytes delivered</title>`,
		"7.0 MB",            // bytes to viewers in the totals
		"52",                // requests
		"Private rehearsal", // top videos use titles, private ones too
		"12.34 USD",         // the month's estimate
		`<th scope="row">edge-1</th><td>5.0 MB</td>`, // the by-edge table
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	// The site's CSP forbids inline styles; the SVG must carry none.
	if strings.Contains(body, "style=") {
		t.Error("overview has a style attribute, which the Content Security Policy blocks")
	}
	if n := strings.Count(body, "<svg"); n != 4 {
		t.Errorf("%d SVG charts, want 4", n)
	}
	if rec := serve(s, http.MethodGet, "/admin?range=1y", nil, cookie); rec.Code != http.StatusBadRequest {
		t.Errorf("unknown range: %d, want 400", rec.Code)
	}
}

func TestAdmin_VideosAreEditedAndDeletedThroughTheAPI(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	cookie, token := signIn(t, s)
	list := serve(s, http.MethodGet, "/admin/videos", nil, cookie).Body.String()
	for _, want := range []string{"Private rehearsal", "waiting for a worker", "<td>2</td>"} {
		if !strings.Contains(list, want) {
			t.Errorf("videos page lacks %q", want)
		}
	}
	id := videoID(1)
	rec := serve(s, http.MethodPost, "/admin/videos/"+id, url.Values{"csrf": {token}, "title": {" New title "}, "description": {"d"}, "tags": {"a, b,, "}, "visibility": {"private"}}, cookie)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	if e := o.edits[id]; e.Title != "New title" || e.Visibility != "private" || strings.Join(e.Tags, "|") != "a|b" {
		t.Errorf("the origin got %+v", e)
	}
	rec = serve(s, http.MethodPost, "/admin/videos/"+id, url.Values{"csrf": {token}, "title": {"x"}, "visibility": {"secret"}}, cookie)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "public or private") {
		t.Errorf("bad visibility: %d", rec.Code)
	}
	if rec := serve(s, http.MethodPost, "/admin/videos/"+id+"/delete", url.Values{"csrf": {token}}, cookie); rec.Code != http.StatusBadRequest || len(o.deleted) != 0 {
		t.Errorf("delete without confirming: %d, deleted %v", rec.Code, o.deleted)
	}
	if rec := serve(s, http.MethodPost, "/admin/videos/"+id+"/delete", url.Values{"csrf": {token}, "confirm": {"yes"}}, cookie); rec.Code != http.StatusSeeOther || len(o.deleted) != 1 || o.deleted[0] != id {
		t.Errorf("delete: %d, deleted %v", rec.Code, o.deleted)
	}
}

func TestAdmin_InvalidationShowsEachEdgesAnswer(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	cookie, token := signIn(t, s)
	rec := serve(s, http.MethodPost, "/admin/invalidations", url.Values{"csrf": {token}, "paths": {"/videos/abc/*\r\n\r\n/videos/def/master.m3u8\n"}}, cookie)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "edge-2") || !strings.Contains(body, "retrying: connection refused") {
		t.Errorf("invalidate: %d %s", rec.Code, body)
	}
	if len(o.invalidated) != 1 || strings.Join(o.invalidated[0], " ") != "/videos/abc/* /videos/def/master.m3u8" {
		t.Errorf("the origin got %v", o.invalidated)
	}
	if rec := serve(s, http.MethodPost, "/admin/invalidations", url.Values{"csrf": {token}, "paths": {"videos/x"}}, cookie); rec.Code != http.StatusBadRequest {
		t.Errorf("a path without /: %d, want 400", rec.Code)
	}
}

func TestAdmin_InvalidationHistoryShowsWhenEachEdgeApplied(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	o.history = []invalidationRecord{
		{ID: "inv_2", Paths: []string{"/videos/abc/*", "/watch/abc"}, At: at, Why: "api", Applied: map[string]time.Time{
			"edge-2": at.Add(300 * time.Millisecond), "edge-1": at.Add(90 * time.Minute)}},
		{ID: "inv_1", Paths: []string{"/watch/def"}, At: at.Add(-time.Hour), Why: "deleted", Applied: map[string]time.Time{}},
	}
	cookie, _ := signIn(t, s)
	body := serve(s, http.MethodGet, "/admin/invalidations", nil, cookie).Body.String()
	for _, want := range []string{`data-invalidation="inv_2"`, "<code>/videos/abc/*</code>", "Mar 1, 10:00 UTC",
		`data-edge="edge-2">edge-2: <time datetime="2026-03-01T10:00:00Z">Mar 1, 10:00 UTC</time> (300 ms later)`,
		"edge-1: <time datetime=\"2026-03-01T11:30:00Z\">Mar 1, 11:30 UTC</time> (1.5 h later)", "No edge yet", "deleted"} {
		if !strings.Contains(body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if strings.Index(body, `data-edge="edge-1"`) > strings.Index(body, `data-edge="edge-2"`) {
		t.Error("edges are not listed by name")
	}
}

func TestAdmin_LiveStreamsListAndActions(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	cookie, token := signIn(t, s)
	if body := serve(s, http.MethodGet, "/admin/live", nil, cookie).Body.String(); !strings.Contains(body, "There are no live streams yet") {
		t.Errorf("empty live page: %s", body)
	}
	started := fixtureTime(3)
	on := adminLiveStream{liveStream: liveStream{ID: videoID(7), Title: "Morning show", Latency: "low", Status: liveLive, StartedAt: &started}, RTMPServer: "rtmp://origin.test/live", StreamKey: "sk_secret", Viewers: 3}
	on.Ingest = &struct {
		Bitrate          int64   `json:"bitrate"`
		FrameRate        float64 `json:"frame_rate"`
		KeyframeInterval int64   `json:"keyframe_interval"`
	}{Bitrate: 2_500_000, FrameRate: 30, KeyframeInterval: int64(2 * time.Second)}
	refused := adminLiveStream{liveStream: liveStream{ID: videoID(8), Title: "Rehearsal", Latency: "standard", Status: liveIdle, Error: "The encoder sent H.265; send H.264."}}
	ended := adminLiveStream{liveStream: liveStream{ID: videoID(9), Status: liveEnded, VideoID: videoID(1), Record: true}, Recordings: []string{videoID(1)}}
	o.liveKeyed = []adminLiveStream{on, refused, ended}
	body := serve(s, http.MethodGet, "/admin/live", nil, cookie).Body.String()
	for _, want := range []string{"Morning show", "badge-live", "3 viewers", "rtmp://origin.test/live", "2.5 Mbps · 30 fps · keyframe every 2.0 s",
		"Refused: The encoder sent H.265; send H.264.", "Idle", "Ended", `href="/admin/videos/` + videoID(1) + `"`, "Untitled stream",
		`action="/admin/live/` + videoID(8) + `/reset-key"`} {
		if !strings.Contains(body, want) {
			t.Errorf("live page lacks %q", want)
		}
	}
	if rec := serve(s, http.MethodPost, "/admin/live/"+videoID(8)+"/reset-key", url.Values{"csrf": {token}}, cookie); rec.Code != http.StatusSeeOther || len(o.liveReset) != 1 || o.liveReset[0] != videoID(8) {
		t.Errorf("reset key: %d, reset %v", rec.Code, o.liveReset)
	}
	if rec := serve(s, http.MethodPost, "/admin/live/"+videoID(6)+"/reset-key", url.Values{"csrf": {token}}, cookie); rec.Code != http.StatusNotFound {
		t.Errorf("reset the key of an unknown stream: %d, want 404", rec.Code)
	}
	if rec := serve(s, http.MethodPost, "/admin/live/"+videoID(9)+"/delete", url.Values{"csrf": {token}}, cookie); rec.Code != http.StatusBadRequest || len(o.liveDeleted) != 0 {
		t.Errorf("delete without confirming: %d, deleted %v", rec.Code, o.liveDeleted)
	}
	if rec := serve(s, http.MethodPost, "/admin/live/"+videoID(9)+"/delete", url.Values{"csrf": {token}, "confirm": {"yes"}}, cookie); rec.Code != http.StatusSeeOther || len(o.liveDeleted) != 1 {
		t.Errorf("delete: %d, deleted %v", rec.Code, o.liveDeleted)
	}
}

func TestAdmin_QueueShowsDepthAndTheVideosInProgress(t *testing.T) {
	s, o := adminSite(t, testPublicURL)
	cookie, _ := signIn(t, s)
	if body := serve(s, http.MethodGet, "/admin/queue", nil, cookie).Body.String(); !strings.Contains(body, "not connected to its queue yet") {
		t.Errorf("the queue page hides the origin's refusal: %s", body)
	}
	started, queued := fixtureTime(4), fixtureTime(5)
	rep := &queueReport{Scanned: 1000, Jobs: []queueJob{
		{Video: videoID(3), Title: "Keynote", Status: statusProcessing, Stage: "encoding 720p", Percent: 42, Kind: "encode-ladder", StartedAt: &started},
		{Video: videoID(4), Status: statusReady, Stage: "queued for encoding", Kind: "encode-ladder", QueuedAt: &queued, QueuePosition: 1},
	}}
	rep.Kinds = append(rep.Kinds, struct {
		Kind     string `json:"kind"`
		Waiting  int    `json:"waiting"`
		InFlight int    `json:"in_flight"`
		Error    string `json:"error"`
	}{Kind: "encode-ladder", Waiting: 1, InFlight: 1})
	rep.Jobs[0].Worker = "worker-a"
	wk := queueWorker{Name: "worker-a", MaxEncodes: 2, StartedAt: started, SeenAt: queued}
	wk.Encodes = append(wk.Encodes, struct {
		Video     string    `json:"video"`
		Task      string    `json:"task"`
		StartedAt time.Time `json:"started_at"`
	}{Video: videoID(3), Task: "ladder", StartedAt: started})
	rep.Workers = []queueWorker{wk, {Name: "worker-b", MaxEncodes: 1, StartedAt: started, SeenAt: queued}}
	o.queue = rep
	body := serve(s, http.MethodGet, "/admin/queue", nil, cookie).Body.String()
	for _, want := range []string{`<tr data-kind="encode-ladder"><th scope="row">encode-ladder</th><td>1</td><td>1</td></tr>`,
		"Keynote", "encoding 720p", "42 %", "Only the newest 1000 videos", `<th scope="row">1</th>`, `href="/admin/videos/` + videoID(4) + `"`,
		"<td>worker-a</td>", `<tr data-worker="worker-a">`, "(ladder)", "1 of 2", `<tr data-worker="worker-b">`, "idle", "0 of 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("queue page lacks %q", want)
		}
	}
}

// startFixtureRouter runs a router's GET /edges on loopback, listing an
// edge that serves metrics and one that is down, and returns its URL.
func startFixtureRouter(t *testing.T) string {
	t.Helper()
	metrics := `# TYPE streamfront_edge_requests_total counter
streamfront_edge_requests_total{result="Hit"} 90
streamfront_edge_requests_total{result="Miss"} 10
streamfront_edge_requests_total{result="Pass"} 5
# TYPE streamfront_edge_bytes_served_total counter
streamfront_edge_bytes_served_total 2.5e+06
# TYPE streamfront_edge_cache_bytes gauge
streamfront_edge_cache_bytes{tier="memory"} 1.5e+06
streamfront_edge_cache_bytes{tier="disk"} 4e+09
`
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(metrics))
	}))
	t.Cleanup(edge.Close)
	router := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"edges":[{"name":"edge-1","url":"` + edge.URL + `","up":true,"rtt_ms":1.25,"samples":3},` +
			`{"name":"edge-2","url":"http://127.0.0.1:1","up":false,"rtt_ms":null,"samples":0,"error":"connection refused"}]}`))
	}))
	t.Cleanup(router.Close)
	return router.URL
}

func TestAdmin_EdgesFromTheRouterAndTheirMetrics(t *testing.T) {
	router := startFixtureRouter(t)
	o := startAdminOrigin(t, testAdminKey, nil, nil)
	s, err := New(Config{APIURL: o.URL, RouterURL: router, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	cookie, _ := signIn(t, s)
	body := serve(s, http.MethodGet, "/admin/edges", nil, cookie).Body.String()
	for _, want := range []string{"1.2 ms", "90.0 %", "2.5 MB", "1.5 MB", "4.0 GB", "105", "Down", "connection refused", "Its metrics could not be read"} {
		if !strings.Contains(body, want) {
			t.Errorf("edges page lacks %q", want)
		}
	}

	// Without a router the page says what to configure.
	s2, _ := adminSite(t, testPublicURL)
	cookie2, _ := signIn(t, s2)
	if body := serve(s2, http.MethodGet, "/admin/edges", nil, cookie2).Body.String(); !strings.Contains(body, "site.media_url") {
		t.Error("without a router the edges page does not say what to set")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "/admin",
		"/admin/videos?cursor=abc":    "/admin/videos?cursor=abc",
		"/admin/sign-in":              "/admin",
		"//evil.example/admin":        "/admin",
		"https://evil.example/":       "/admin",
		"/admin\\@evil.example":       "/admin",
		"/watch/x":                    "/admin",
		"/admin/videos\r\nSet-Cookie": "/admin",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSessionStore_ExpiresAndIsBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := newSessionStore(func() time.Time { return now })
	a, err := st.create("k")
	if err != nil {
		t.Fatal(err)
	}
	if st.get(a.id) != a || st.get("") != nil || st.get("other") != nil {
		t.Fatal("lookup")
	}
	now = now.Add(sessionTTL - time.Second)
	if st.get(a.id) == nil {
		t.Error("a session ended before its TTL")
	}
	now = now.Add(time.Second)
	if st.get(a.id) != nil {
		t.Error("a session outlived its TTL")
	}
	for range maxSessions + 5 {
		if _, err := st.create("k"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(st.sessions); n != maxSessions {
		t.Errorf("%d sessions kept, want at most %d", n, maxSessions)
	}
}

func TestAccessibleSVG_NoInlineStyles(t *testing.T) {
	cv, err := lineChart("c", `Bytes <"&>`, "desc", []string{"a", "b"}, []chartSeries{{`<script>`, []float64{1, 2}}}, humanBytes)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(cv.SVG)
	if strings.Contains(svg, "style=") || strings.Contains(svg, "<script>") || !strings.Contains(svg, `<title id="c-title">Bytes &lt;&#34;&amp;&gt;</title>`) {
		t.Errorf("svg: %s", svg)
	}
	if !strings.Contains(svg, `fill="`) || !strings.Contains(svg, `stroke="`) {
		t.Error("the styles were dropped instead of turned into attributes")
	}
}

func FuzzParseEdgeMetrics(f *testing.F) {
	f.Add([]byte("streamfront_edge_requests_total{result=\"Hit\"} 1\n"))
	f.Add([]byte("# TYPE streamfront_edge_cache_bytes gauge\nstreamfront_edge_cache_bytes{tier=\"disk\"} NaN\n"))
	f.Add([]byte("x{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseEdgeMetrics(strings.NewReader(string(b)))
		if err == nil && (m == nil || m.Requests == nil) {
			t.Fatal("no error and no metrics")
		}
		if err == nil {
			_ = m.HitRatio()
		}
	})
}
