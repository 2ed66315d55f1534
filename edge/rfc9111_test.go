package edge

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// website is a plain website's origin: pages, styles, scripts and images
// with their own Cache-Control, a form that POSTs to a page's URL, and a
// record of the request headers each path saw.
type website struct {
	*testOrigin
	mu   sync.Mutex
	seen map[string][]http.Header
	// version changes the pages' bodies, as an edit behind a POST would.
	version atomic.Int64
}

func newWebsite(t *testing.T) *website {
	s := &website{testOrigin: newTestOrigin(t), seen: map[string][]http.Header{}}
	page := func(ctype, cc string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.seen[r.URL.Path] = append(s.seen[r.URL.Path], r.Header.Clone())
			s.mu.Unlock()
			if r.Method == http.MethodPost {
				s.version.Add(1)
				w.Header().Set("Location", r.URL.Path)
				w.WriteHeader(http.StatusSeeOther)
				return
			}
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", cc)
			body := r.URL.Path + " v" + strconv.FormatInt(s.version.Load(), 10)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write([]byte(body))
		}
	}
	s.handle("/", page("text/html; charset=utf-8", "public, max-age=60"))
	s.handle("/about.html", page("text/html; charset=utf-8", "max-age=300"))
	s.handle("/css/site.css", page("text/css", "public, max-age=86400, immutable"))
	s.handle("/js/app.js", page("application/javascript", "max-age=3600"))
	s.handle("/img/logo.png", page("image/png", "s-maxage=600"))
	s.handle("/contact", page("text/html; charset=utf-8", "max-age=60"))
	return s
}

func (s *website) headersSeen(path string) []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[path]
}

func startSiteEdge(t *testing.T, origin string) (*Edge, string) {
	return startEdge(t, origin, nil) // every path cached by RFC 9111 by default
}

func TestEdge_CachesAWebsiteByDefault(t *testing.T) {
	site := newWebsite(t)
	e, base := startSiteEdge(t, site.URL())
	c := testClient(t)
	for _, p := range []string{"/", "/about.html", "/css/site.css", "/js/app.js", "/img/logo.png"} {
		first := get(t, c, base+p)
		wantStatus(t, first, http.StatusOK)
		wantXCache(t, first, "Miss")
		waitIdle(t, e)
		second := get(t, c, base+p)
		wantStatus(t, second, http.StatusOK)
		wantXCache(t, second, "Hit")
		if string(second.body) != string(first.body) {
			t.Errorf("%s: hit body %q, miss body %q", p, second.body, first.body)
		}
		if n := site.count(p); n != 1 {
			t.Errorf("%s: the origin saw %d requests, want 1", p, n)
		}
	}
}

func TestEdge_DisableCacheAllPassesOtherPathsThrough(t *testing.T) {
	site := newWebsite(t)
	_, base := startEdge(t, site.URL(), func(c *Config) { c.DisableCacheAll = true })
	c := testClient(t)
	get(t, c, base+"/css/site.css")
	get(t, c, base+"/css/site.css")
	if n := site.count("/css/site.css"); n != 2 {
		t.Fatalf("the origin saw %d requests, want 2 (no caching outside /videos/ with DisableCacheAll)", n)
	}
}

func TestEdge_BehaviorPolicyPassesAPathThrough(t *testing.T) {
	site := newWebsite(t)
	_, base := startEdge(t, site.URL(), func(c *Config) {
		c.Behaviors = []Behavior{{Pattern: "/js/**", Policy: PolicyPass}}
	})
	c := testClient(t)
	get(t, c, base+"/js/app.js")
	get(t, c, base+"/js/app.js")
	if n := site.count("/js/app.js"); n != 2 {
		t.Fatalf("the origin saw %d requests, want 2 (the behavior passes /js/ through)", n)
	}
}

func TestEdge_UnsafeMethodInvalidatesTheCachedGET(t *testing.T) {
	site := newWebsite(t)
	e, base := startSiteEdge(t, site.URL())
	c := testClient(t)
	get(t, c, base+"/contact")
	waitIdle(t, e)
	wantXCache(t, get(t, c, base+"/contact"), "Hit")

	post := do(t, c, http.MethodPost, base+"/contact", nil)
	wantStatus(t, post, http.StatusSeeOther)
	r := get(t, c, base+"/contact")
	wantXCache(t, r, "Miss")
	if string(r.body) != "/contact v1" {
		t.Fatalf("after the POST the page is %q, want the new version", r.body)
	}
}

func TestEdge_UnsafeMethodInvalidatesItsSameOriginLocation(t *testing.T) {
	site := newWebsite(t)
	site.handle("/form", func(w http.ResponseWriter, r *http.Request) {
		site.version.Add(1)
		w.Header().Set("Location", "/about.html")
		w.Header().Set("Content-Location", "http://elsewhere.example/about.html")
		w.WriteHeader(http.StatusCreated)
	})
	e, base := startSiteEdge(t, site.URL())
	c := testClient(t)
	get(t, c, base+"/about.html")
	waitIdle(t, e)
	do(t, c, http.MethodPut, base+"/form", nil)
	if r := get(t, c, base+"/about.html"); r.header.Get("X-Cache") == "Hit from test-edge" {
		t.Fatal("the page named by Location of a successful PUT is still a hit")
	}
}

func TestEdge_FailedUnsafeMethodKeepsTheCachedGET(t *testing.T) {
	site := newWebsite(t)
	site.handle("/broken", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("page"))
	})
	e, base := startSiteEdge(t, site.URL())
	c := testClient(t)
	get(t, c, base+"/broken")
	waitIdle(t, e)
	do(t, c, http.MethodPost, base+"/broken", nil)
	wantXCache(t, get(t, c, base+"/broken"), "Hit")
}

func TestEdge_AuthorizationAnswersAreNotSharedUnlessMarked(t *testing.T) {
	site := newWebsite(t)
	e, base := startSiteEdge(t, site.URL())
	c := testClient(t)
	auth := map[string]string{"Authorization": "Bearer alice"}

	// /about.html says max-age=300 only: an answer to alice is hers.
	do(t, c, http.MethodGet, base+"/about.html", auth)
	waitIdle(t, e)
	r := get(t, c, base+"/about.html")
	wantXCache(t, r, "Miss")
	if seen := site.headersSeen("/about.html"); len(seen) == 0 || seen[0].Get("Authorization") != "Bearer alice" {
		t.Fatalf("the fill did not forward Authorization: %v", seen)
	}

	// "/" is public: an answer to alice may be reused.
	do(t, c, http.MethodGet, base+"/", auth)
	waitIdle(t, e)
	wantXCache(t, get(t, c, base+"/"), "Hit")
	// s-maxage counts too.
	do(t, c, http.MethodGet, base+"/img/logo.png", auth)
	waitIdle(t, e)
	wantXCache(t, get(t, c, base+"/img/logo.png"), "Hit")
}

func TestEdge_VaryKeysOnTheNamedRequestHeaders(t *testing.T) {
	o := newTestOrigin(t)
	var fetches atomic.Int64
	o.handle("/greeting", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello in " + r.Header.Get("Accept-Language")))
	})
	o.handle("/star", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "*")
		_, _ = w.Write([]byte("star"))
	})
	e, base := startSiteEdge(t, o.URL())
	c := testClient(t)
	fr := map[string]string{"Accept-Language": "fr"}
	de := map[string]string{"Accept-Language": "de"}

	r := do(t, c, http.MethodGet, base+"/greeting", fr)
	if string(r.body) != "hello in fr" || r.header.Get("Vary") != "Accept-Language" {
		t.Fatalf("miss: %q, Vary %q (the origin's Vary must pass unchanged)", r.body, r.header.Get("Vary"))
	}
	waitIdle(t, e)
	wantXCache(t, do(t, c, http.MethodGet, base+"/greeting", fr), "Hit")
	r = do(t, c, http.MethodGet, base+"/greeting", de)
	wantXCache(t, r, "Miss")
	if string(r.body) != "hello in de" {
		t.Fatalf("another language got %q", r.body)
	}
	waitIdle(t, e)
	wantXCache(t, get(t, c, base+"/greeting"), "Miss") // no Accept-Language at all

	do(t, c, http.MethodGet, base+"/star", nil)
	waitIdle(t, e)
	before := fetches.Load()
	r = get(t, c, base+"/star")
	if fetches.Load() != before+1 || r.header.Get("Vary") != "*" {
		t.Fatalf("Vary: * was answered from the cache (Vary %q)", r.header.Get("Vary"))
	}
}

func TestEdge_ConnectionNamedFieldsAreNeitherForwardedNorStored(t *testing.T) {
	o := newTestOrigin(t)
	var seen atomic.Pointer[http.Header]
	o.handle("/page", func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		seen.Store(&h)
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "1")
		w.Header().Set("X-Kept", "2")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("page"))
	})
	e, base := startSiteEdge(t, o.URL())
	c := testClient(t)
	do(t, c, http.MethodGet, base+"/page", map[string]string{"Connection": "X-Private", "X-Private": "secret", "X-Forward-Me": "yes"})
	h := *seen.Load()
	if h.Get("X-Private") != "" || h.Get("X-Forward-Me") != "yes" {
		t.Fatalf("origin saw X-Private %q (named in Connection: must not be forwarded), X-Forward-Me %q (must be)",
			h.Get("X-Private"), h.Get("X-Forward-Me"))
	}
	waitIdle(t, e)
	r := get(t, c, base+"/page")
	wantXCache(t, r, "Hit")
	if r.header.Get("X-Hop") != "" || r.header.Get("X-Kept") != "2" {
		t.Fatalf("hit has X-Hop %q (named in the origin's Connection), X-Kept %q", r.header.Get("X-Hop"), r.header.Get("X-Kept"))
	}
}

func TestEdge_CDNCacheControlTakesPrecedence(t *testing.T) {
	o := newTestOrigin(t)
	cases := map[string]http.Header{
		// The CDN may keep what browsers may not.
		"/cdn-long": {"Cache-Control": {"no-store"}, "Cdn-Cache-Control": {"max-age=600"}},
		// The CDN must not keep what browsers may.
		"/cdn-none": {"Cache-Control": {"max-age=600"}, "Cdn-Cache-Control": {"no-store"}},
		// Our own field wins over CDN-Cache-Control.
		"/own": {"Cdn-Cache-Control": {"no-store"}, "Streamfront-Cache-Control": {"max-age=600"}},
		// An invalid targeted field is ignored: Cache-Control rules.
		"/invalid": {"Cache-Control": {"max-age=600"}, "Cdn-Cache-Control": {"=,="}},
	}
	for p, h := range cases {
		o.handle(p, func(w http.ResponseWriter, r *http.Request) {
			for k, v := range h {
				w.Header()[k] = v
			}
			_, _ = w.Write([]byte(p))
		})
	}
	e, base := startSiteEdge(t, o.URL())
	c := testClient(t)
	want := map[string]int{"/cdn-long": 1, "/cdn-none": 2, "/own": 1, "/invalid": 1}
	for p, n := range want {
		get(t, c, base+p)
		waitIdle(t, e)
		get(t, c, base+p)
		if got := o.count(p); got != n {
			t.Errorf("%s: the origin saw %d requests, want %d", p, got, n)
		}
	}
}

func TestEdge_RFCPolicyStoresTheOriginsDateAndSetCookieIsNotShared(t *testing.T) {
	o := newTestOrigin(t)
	date := time.Now().UTC().Add(-time.Second).Format(http.TimeFormat)
	o.handle("/dated", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", date)
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write([]byte("dated"))
	})
	o.handle("/cookie", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=alice")
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write([]byte("hello alice"))
	})
	e, base := startSiteEdge(t, o.URL())
	c := testClient(t)
	get(t, c, base+"/dated")
	waitIdle(t, e)
	if r := get(t, c, base+"/dated"); r.header.Get("Date") != date {
		t.Errorf("hit Date %q, want the origin's %q", r.header.Get("Date"), date)
	}
	if r := get(t, c, base+"/cookie"); r.header.Get("Set-Cookie") != "session=alice" {
		t.Errorf("the answer that set a cookie lost it: %q", r.header.Get("Set-Cookie"))
	}
	waitIdle(t, e)
	if r := get(t, c, base+"/cookie"); r.header.Get("X-Cache") == "Hit from test-edge" {
		t.Error("an answer with Set-Cookie was stored and shared")
	}
}

func TestParseAge(t *testing.T) {
	cases := []struct {
		lines []string
		want  time.Duration
	}{
		{nil, 0},
		{[]string{"0"}, 0},
		{[]string{" 120 "}, 120 * time.Second},
		{[]string{"abc"}, ageUnusable},
		{[]string{"-7200"}, ageUnusable},
		{[]string{"7200.0"}, ageUnusable},
		{[]string{"7200;foo=bar"}, ageUnusable},
		{[]string{"0, 0"}, ageUnusable},
		{[]string{"0", "0"}, ageUnusable},
		{[]string{""}, ageUnusable},
		{[]string{"99999999999999999999999"}, ageUnusable},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.lines != nil {
			h["Age"] = c.lines
		}
		if got := parseAge(h); got != c.want {
			t.Errorf("Age %q: %v, want %v", c.lines, got, c.want)
		}
	}
}

func TestApply_RFCPolicyHeuristicAndInvalidExpires(t *testing.T) {
	now := time.Now()
	p := ttlPolicy{defaultTTL: 24 * time.Hour, maxTTL: 365 * 24 * time.Hour, negativeTTL: 2 * time.Second, rfc: true}
	lm := now.Add(-100 * time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		name     string
		status   int
		h        http.Header
		storable bool
		fresh    time.Duration
	}{
		{"heuristic from Last-Modified", 200, http.Header{"Last-Modified": {lm}}, true, 10 * time.Hour},
		{"no lifetime, no Last-Modified: stored stale", 200, http.Header{}, true, 0},
		{"invalid Expires is stale", 200, http.Header{"Expires": {"0"}}, true, 0},
		{"heuristic only for heuristically cacheable statuses", 302, http.Header{"Last-Modified": {lm}}, false, 0},
		{"explicit lifetime stores other statuses", 302, http.Header{"Cache-Control": {"max-age=60"}}, true, time.Minute},
		{"404 keeps its own lifetime", 404, http.Header{"Cache-Control": {"max-age=60"}}, true, time.Minute},
		{"must-understand with an unknown status", 599, http.Header{"Cache-Control": {"max-age=60, must-understand"}}, false, time.Minute},
		{"must-understand with a known status", 200, http.Header{"Cache-Control": {"max-age=60, must-understand, no-store"}}, true, time.Minute},
	}
	for _, c := range cases {
		m := &entry{status: c.status, header: c.h, date: now}
		p.apply(m, c.h)
		if m.storable != c.storable || (m.freshFor-c.fresh).Abs() > time.Second {
			t.Errorf("%s: storable %v fresh %v, want %v %v", c.name, m.storable, m.freshFor, c.storable, c.fresh)
		}
	}
}

func TestVaryNames(t *testing.T) {
	names, star := varyNames(http.Header{"Vary": {"accept-language, Accept-Encoding", " Foo ,foo"}})
	if strings.Join(names, ",") != "Accept-Language,Foo" || star {
		t.Fatalf("names %v star %v", names, star)
	}
	if _, star := varyNames(http.Header{"Vary": {"Foo, *"}}); !star {
		t.Fatal("* not seen")
	}
}

func TestEdge_StaleVaryingEntryIsRevalidated(t *testing.T) {
	o := newTestOrigin(t)
	var conditional atomic.Int64
	o.handle("/v", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abcdef"`)
		w.Header().Set("Vary", "Abc")
		w.Header().Set("Cache-Control", "max-age=1")
		if r.Header.Get("If-None-Match") == `"abcdef"` {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("v"))
	})
	clock := newTestClock()
	e, base := startEdge(t, o.URL(), func(c *Config) { c.Now = clock.Now })
	c := testClient(t)
	abc := map[string]string{"Abc": "123"}
	do(t, c, http.MethodGet, base+"/v", abc)
	waitIdle(t, e)
	clock.advance(2 * time.Second)
	r := do(t, c, http.MethodGet, base+"/v", abc)
	wantXCache(t, r, "RefreshHit")
	if conditional.Load() != 1 {
		t.Fatal("the stale variant was not revalidated with If-None-Match")
	}
}

// FuzzCachingFields feeds hostile values to the parsers of the fields the
// cache decides by (Age, Cache-Control and its targeted forms, Vary,
// Connection) and checks what their callers rely on.
func FuzzCachingFields(f *testing.F) {
	for _, s := range []string{"0", "7200,0", "max-age=60, s-maxage=\"10\"", "Accept-Encoding, *", "a, b", "=,=", "max-age=10000;x", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Age": {v}, "Cache-Control": {v}, "Cdn-Cache-Control": {v}, "Vary": {v}, "Connection": {v}, "Date": {v}}
		if a := parseAge(h); a < 0 {
			t.Fatalf("Age %q: negative age %v", v, a)
		}
		cc, _ := cacheDirectives(h)
		if cc.maxAge < 0 || cc.sMaxAge < 0 || cc.swr < 0 || cc.sie < 0 {
			t.Fatalf("Cache-Control %q: negative lifetime %+v", v, cc)
		}
		names, _ := varyNames(h)
		for i, n := range names {
			if n == "Accept-Encoding" || n == "Origin" || i > 0 && names[i-1] >= n {
				t.Fatalf("Vary %q: names %q not sorted, unique and without Accept-Encoding", v, names)
			}
		}
		req := http.Header{}
		for _, n := range names {
			req[n] = []string{v}
		}
		m := &entry{header: h}
		m.setVary(req)
		if !m.varyStar && !m.varyMatches(req) {
			t.Fatalf("Vary %q: an answer does not match the request it was stored for", v)
		}
		for name := range connectionOptions(h) {
			if fillRequestHeader(http.Header{"Connection": {v}, name: {"x"}})[name] != nil {
				t.Fatalf("Connection %q: %s was forwarded", v, name)
			}
		}
		p := ttlPolicy{maxTTL: time.Hour, rfc: true}
		m = &entry{status: 200, header: h, date: time.Now()}
		p.apply(m, h)
		if m.freshFor < 0 || m.freshFor > time.Hour {
			t.Fatalf("fields %q: lifetime %v outside [0, MaxTTL]", v, m.freshFor)
		}
	})
}

func TestFill_AnswersJoinersOnlyWithWhatASharedCacheMayReuse(t *testing.T) {
	starter := httptest.NewRequest(http.MethodGet, "/p", nil)
	starter.Header.Set("Foo", "1")
	same := httptest.NewRequest(http.MethodGet, "/p", nil)
	same.Header.Set("Foo", "1")
	other := httptest.NewRequest(http.MethodGet, "/p", nil)
	other.Header.Set("Foo", "2")
	p := ttlPolicy{maxTTL: time.Hour, rfc: true}
	fillOf := func(status int, h http.Header) *fill {
		m := &entry{status: status, header: h, date: time.Now()}
		p.apply(m, h)
		m.setVary(starter.Header)
		return &fill{meta: m, starter: starter}
	}
	cases := []struct {
		name string
		f    *fill
		r    *http.Request
		want bool
	}{
		{"the starter always", fillOf(200, http.Header{"Cache-Control": {"private"}}), starter, true},
		{"a public answer", fillOf(200, http.Header{"Cache-Control": {"max-age=60"}}), other, true},
		{"a private answer", fillOf(200, http.Header{"Cache-Control": {"private"}}), same, false},
		{"an answer setting a cookie", fillOf(200, http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"s=1"}}), same, false},
		{"another variant", fillOf(200, http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Foo"}}), other, false},
		{"the same variant", fillOf(200, http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Foo"}}), same, true},
		{"Vary: *", fillOf(200, http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"*"}}), same, false},
		{"an origin error is shared", fillOf(503, http.Header{"Cache-Control": {"no-store"}}), same, true},
	}
	for _, c := range cases {
		if got := c.f.answers(c.r); got != c.want {
			t.Errorf("%s: answers = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEdge_PrivatePagesAreNotShared(t *testing.T) {
	o := newTestOrigin(t)
	o.handle("/account", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=60")
		_, _ = w.Write([]byte("account of " + r.Header.Get("Cookie")))
	})
	_, base := startSiteEdge(t, o.URL())
	c := testClient(t)
	for _, user := range []string{"alice", "bob", "alice"} {
		r := do(t, c, http.MethodGet, base+"/account", map[string]string{"Cookie": user})
		if string(r.body) != "account of "+user {
			t.Fatalf("%s got %q", user, r.body)
		}
	}
}

func TestEdge_EventStreamsArePassedThroughUnderCacheAll(t *testing.T) {
	o := newTestOrigin(t)
	o.handle("/api/v1/videos/v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("data: ready\n\n"))
	})
	e, base := startSiteEdge(t, o.URL())
	c := testClient(t)
	for range 2 {
		r := get(t, c, base+"/api/v1/videos/v1/events")
		if string(r.body) != "data: ready\n\n" {
			t.Fatalf("event stream body %q", r.body)
		}
		waitIdle(t, e)
	}
	if _, ok := e.lookup("/api/v1/videos/v1/events"); ok {
		if c, _ := e.lookup("/api/v1/videos/v1/events"); c.meta.kind != kindPass {
			t.Fatal("an event stream was stored")
		}
	}
}

// TestEntryCodec_KeepsVaryAndPolicy: a varying RFC-policy entry comes back
// from a disk rebuild with what its hits are judged by.
func TestEntryCodec_KeepsVaryAndPolicy(t *testing.T) {
	dir := t.TempDir()
	m := testEntry("/page", 4)
	m.header["Vary"] = []string{"Accept-Language"}
	m.header["Date"] = []string{"Fri, 04 Dec 2026 16:00:00 GMT"}
	m.rfc = true
	m.setVary(http.Header{"Accept-Language": {"fr"}})
	if err := openTestDisk(t, dir).Write(m.key, m, []byte("page")); err != nil {
		t.Fatal(err)
	}
	it, ok := openTestDisk(t, dir).Get("/page")
	if !ok {
		t.Fatal("rebuilt index lacks the item")
	}
	got := it.Meta
	if !got.rfc || got.header.Get("Date") != m.header.Get("Date") {
		t.Errorf("rfc %v, Date %q after a rebuild", got.rfc, got.header.Get("Date"))
	}
	if !got.varyMatches(http.Header{"Accept-Language": {"fr"}}) || got.varyMatches(http.Header{"Accept-Language": {"de"}}) {
		t.Error("the rebuilt entry does not match its own variant only")
	}
}
