package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/urlsign"
)

var (
	accessKey    = urlsign.Key{ID: "k1", Secret: []byte("edge-test-signing-key-1")}
	originSecret = "edge-test-origin-secret"
)

const testMaster = "#EXTM3U\n" +
	`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="a",URI="hls/a/audio.m3u8"` + "\n" +
	`#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO="aud"` + "\n" +
	"hls/720/video.m3u8\n" +
	`#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,URI="hls/720/iframes.m3u8"` + "\n"

const testMedia = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n" + `#EXT-X-MAP:URI="video/init.mp4"` + "\n#EXTINF:6,\nvideo/0.m4s\n#EXT-X-ENDLIST\n"

// privateOrigin serves a private video under /videos/priv/ and a public
// one under /videos/pub/, the way Streamfront's origin does: every answer
// of the private one says X-Streamfront-Access: signed. When secret is
// set it refuses requests without a valid edge signature, as the origin
// does with an EdgeSecret.
func privateOrigin(t *testing.T, secret string) *testOrigin {
	t.Helper()
	o := newTestOrigin(t)
	serve := func(body []byte, ctype string, signed bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if secret != "" {
				if err := urlsign.VerifyRequest(r, []byte(secret), time.Now()); err != nil {
					w.WriteHeader(http.StatusForbidden)
					return
				}
			}
			if r.URL.Query().Has("token") {
				w.WriteHeader(http.StatusTeapot) // the token must stay at the edge
				return
			}
			if signed {
				w.Header().Set(urlsign.AccessHeader, urlsign.AccessSigned)
			}
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", "public, max-age=600")
			w.Header().Set("ETag", `"e1"`)
			http.ServeContent(w, r, "", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), bytes.NewReader(body))
		}
	}
	for _, v := range []struct {
		dir    string
		signed bool
	}{{"/videos/priv/", true}, {"/videos/pub/", false}, {"/videos/other/", true}} {
		o.handle(v.dir+"master.m3u8", serve([]byte(testMaster), "application/vnd.apple.mpegurl", v.signed))
		o.handle(v.dir+"hls/720/video.m3u8", serve([]byte(testMedia), "application/vnd.apple.mpegurl", v.signed))
		o.handle(v.dir+"hls/720/video/0.m4s", serve(pattern(50000), "video/mp4", v.signed))
		o.handle(v.dir+"r/720.mp4", serve(pattern(3*testSlice+100), "video/mp4", v.signed))
		o.handle(v.dir+"thumbs/storyboard.vtt", serve([]byte("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nsprite-0.jpg#xywh=0,0,160,90\n"), "text/vtt", v.signed))
	}
	// An origin that resolves dot segments, as some do.
	o.handle("/videos/pub/../priv/hls/720/video/0.m4s", serve(pattern(50000), "video/mp4", true))
	return o
}

func signedEdge(mutate func(*Config)) func(*Config) {
	return func(c *Config) {
		c.SigningKeys = map[string][]byte{accessKey.ID: accessKey.Secret}
		c.OriginSecret = originSecret
		c.SliceSize = testSlice
		if mutate != nil {
			mutate(c)
		}
	}
}

func tokenFor(t *testing.T, resource string, expires time.Time) string {
	t.Helper()
	tok, err := urlsign.Sign(urlsign.Policy{Resource: resource, Expires: expires}, accessKey)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantRefused checks a 403 JSON refusal whose sentence contains want and
// that nobody may store.
func wantRefused(t *testing.T, r result, want string) {
	t.Helper()
	wantStatus(t, r, http.StatusForbidden)
	var body struct{ Error string }
	if want == "" {
		// HEAD: no body to read.
	} else if err := json.Unmarshal(r.body, &body); err != nil || !strings.Contains(body.Error, want) {
		t.Fatalf("refusal %q does not say %q", r.body, want)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("refusal Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}
}

func TestEdge_PrivateObjectsNeedAValidToken(t *testing.T) {
	o := privateOrigin(t, originSecret)
	e, base := startEdge(t, o.URL(), signedEdge(nil))
	c := testClient(t)
	seg := "/videos/priv/hls/720/video/0.m4s"
	good := tokenFor(t, "/videos/priv/", time.Now().Add(time.Hour))

	// A miss is fetched (the edge cannot know it is private before), then
	// refused; the object is cached for the next, authorised, request.
	wantRefused(t, get(t, c, base+seg), "This video is private")
	waitIdle(t, e)
	if n := o.count(seg); n != 1 {
		t.Fatalf("origin fetched the segment %d times, want 1", n)
	}
	wantRefused(t, get(t, c, base+seg), "This video is private") // refused on a hit too

	expired := tokenFor(t, "/videos/priv/", time.Now().Add(-time.Minute))
	wantRefused(t, get(t, c, base+seg+"?token="+expired), "This link has expired; reload the page to get a new one.")
	other := tokenFor(t, "/videos/other/", time.Now().Add(time.Hour))
	wantRefused(t, get(t, c, base+seg+"?token="+other), "another video")
	tampered := strings.Replace(good, good[5:6], string(rune('A'+(good[5]-'A'+1)%26)), 1)
	wantRefused(t, get(t, c, base+seg+"?token="+tampered), "damaged or was altered")
	// A path that leaves the token's prefix only after resolving "..".
	pubToken := tokenFor(t, "/videos/pub/", time.Now().Add(time.Hour))
	wantRefused(t, get(t, c, base+"/videos/pub/../priv/hls/720/video/0.m4s?token="+pubToken), "another video")
	wrongKey, _ := urlsign.Sign(urlsign.Policy{Resource: "/videos/priv/", Expires: time.Now().Add(time.Hour)},
		urlsign.Key{ID: "retired", Secret: []byte("a key the edge does not hold")})
	wantRefused(t, get(t, c, base+seg+"?token="+wrongKey), "key this edge does not know")

	r := get(t, c, base+seg+"?token="+good)
	wantStatus(t, r, http.StatusOK)
	wantXCache(t, r, "Hit")
	if !bytes.Equal(r.body, pattern(50000)) {
		t.Fatal("wrong body")
	}
	// The cookie works as well as the query parameter.
	r = do(t, c, "GET", base+seg, map[string]string{"Cookie": urlsign.CookieName + "=" + good})
	wantStatus(t, r, http.StatusOK)
	// Every token variant shares the one cached object, and no token
	// reached the origin (it would have answered 418).
	if n := o.count(seg); n != 1 {
		t.Fatalf("origin fetched the segment %d times, want 1", n)
	}

	// A public object needs nothing, and a token on it is ignored.
	wantStatus(t, get(t, c, base+"/videos/pub/hls/720/video/0.m4s"), http.StatusOK)
	wantStatus(t, get(t, c, base+"/videos/pub/hls/720/video/0.m4s?token=junk"), http.StatusOK)
}

func TestEdge_SignedRangesOfSlicedMP4(t *testing.T) {
	o := privateOrigin(t, originSecret)
	_, base := startEdge(t, o.URL(), signedEdge(nil))
	c := testClient(t)
	mp4 := base + "/videos/priv/r/720.mp4"
	good := tokenFor(t, "/videos/priv/", time.Now().Add(time.Hour))
	rng := map[string]string{"Range": "bytes=" + itoa(testSlice+10) + "-" + itoa(2*testSlice+9)}
	wantRefused(t, do(t, c, "GET", mp4, rng), "This video is private")
	r := do(t, c, "GET", mp4+"?token="+good, rng)
	wantStatus(t, r, http.StatusPartialContent)
	if !bytes.Equal(r.body, pattern(3*testSlice + 100)[testSlice+10:2*testSlice+10]) {
		t.Fatal("wrong bytes")
	}
	wantRefused(t, do(t, c, "HEAD", mp4, nil), "")
}

func TestEdge_PlaylistsCarryTheQueryTokenToTheirChildren(t *testing.T) {
	o := privateOrigin(t, originSecret)
	e, base := startEdge(t, o.URL(), signedEdge(nil))
	c := testClient(t)
	good := tokenFor(t, "/videos/priv/", time.Now().Add(time.Hour))
	wantMaster := strings.NewReplacer(
		`URI="hls/a/audio.m3u8"`, `URI="hls/a/audio.m3u8?token=`+good+`"`,
		"hls/720/video.m3u8\n", "hls/720/video.m3u8?token="+good+"\n",
		`URI="hls/720/iframes.m3u8"`, `URI="hls/720/iframes.m3u8?token=`+good+`"`,
	).Replace(testMaster)

	for i, want := range []string{"Miss", "Hit"} {
		r := do(t, c, "GET", base+"/videos/priv/master.m3u8?token="+good, map[string]string{"Accept-Encoding": "gzip"})
		wantStatus(t, r, http.StatusOK)
		wantXCache(t, r, want)
		if string(r.body) != wantMaster {
			t.Fatalf("request %d: master\n%s\nwant\n%s", i, r.body, wantMaster)
		}
		if r.header.Get("Cache-Control") != "private, no-store" || r.header.Get("Etag") != "" || r.header.Get("Content-Encoding") != "" {
			t.Fatalf("a rewritten playlist must be private, without validators, identity: %v", r.header)
		}
		cookie := r.header.Get("Set-Cookie")
		for _, part := range []string{urlsign.CookieName + "=" + good, "Path=/videos/priv/", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(cookie, part) {
				t.Fatalf("Set-Cookie %q lacks %q", cookie, part)
			}
		}
		waitIdle(t, e)
	}
	// Behind TLS the cookie works across sites.
	r := do(t, c, "GET", base+"/videos/priv/master.m3u8?token="+good, map[string]string{"X-Forwarded-Proto": "https"})
	if cookie := r.header.Get("Set-Cookie"); !strings.Contains(cookie, "Secure") || !strings.Contains(cookie, "SameSite=None") {
		t.Fatalf("Set-Cookie behind https %q", cookie)
	}

	media := get(t, c, base+"/videos/priv/hls/720/video.m3u8?token="+good)
	wantStatus(t, media, http.StatusOK)
	if !strings.Contains(string(media.body), `URI="video/init.mp4?token=`+good+`"`) || !strings.Contains(string(media.body), "\nvideo/0.m4s?token="+good+"\n") {
		t.Fatalf("media playlist not rewritten:\n%s", media.body)
	}
	if media.header.Get("Set-Cookie") != "" {
		t.Fatal("a media playlist sets no cookie")
	}
	vtt := get(t, c, base+"/videos/priv/thumbs/storyboard.vtt?token="+good)
	if !strings.Contains(string(vtt.body), "sprite-0.jpg?token="+good+"#xywh=0,0,160,90") {
		t.Fatalf("storyboard not rewritten:\n%s", vtt.body)
	}

	// The cached body is as the origin sent it: a request authorised by a
	// cookie gets it unchanged (its children carry the cookie).
	plain := do(t, c, "GET", base+"/videos/priv/master.m3u8", map[string]string{"Cookie": urlsign.CookieName + "=" + good})
	wantStatus(t, plain, http.StatusOK)
	if string(plain.body) != testMaster || plain.header.Get("Etag") != `"e1"` {
		t.Fatalf("cookie request got\n%s", plain.body)
	}
	// Public playlists are never rewritten, token or not.
	pub := get(t, c, base+"/videos/pub/master.m3u8?token="+good)
	if string(pub.body) != testMaster || pub.header.Get("Set-Cookie") != "" {
		t.Fatalf("public master rewritten:\n%s", pub.body)
	}
}

func TestEdge_WithoutSigningKeysPrivateObjectsAreRefused(t *testing.T) {
	o := privateOrigin(t, "")
	_, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	good := tokenFor(t, "/videos/priv/", time.Now().Add(time.Hour))
	wantRefused(t, get(t, c, base+"/videos/priv/master.m3u8?token="+good), "not configured for private videos")
	wantStatus(t, get(t, c, base+"/videos/pub/master.m3u8"), http.StatusOK)
}

func TestEdge_SignsEveryUpstreamRequest(t *testing.T) {
	o := privateOrigin(t, originSecret)
	o.handle("/api/v1/videos", func(w http.ResponseWriter, r *http.Request) {
		if err := urlsign.VerifyRequest(r, []byte(originSecret), time.Now()); err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Write([]byte(`{"videos":[]}`))
	})
	_, base := startEdge(t, o.URL(), signedEdge(nil))
	c := testClient(t)
	wantStatus(t, get(t, c, base+"/videos/pub/master.m3u8"), http.StatusOK)         // fill
	wantStatus(t, get(t, c, base+"/videos/pub/r/720.mp4"), http.StatusOK)           // slices
	wantStatus(t, get(t, c, base+"/api/v1/videos"), http.StatusOK)                  // pass-through
	wantStatus(t, do(t, c, "POST", base+"/api/v1/videos", nil), http.StatusOK)      // pass-through write
	wantStatus(t, get(t, c, base+"/videos/pub/master.m3u8?token=x"), http.StatusOK) // token stripped
	wantRefused(t, get(t, c, base+"/videos/priv/hls/720/video/0.m4s"), "This video is private")

	// An edge with the wrong secret is refused by the origin.
	_, wrong := startEdge(t, o.URL(), signedEdge(func(c *Config) { c.OriginSecret = "not the origin's secret" }))
	wantStatus(t, get(t, c, wrong+"/videos/pub/hls/720/video/0.m4s"), http.StatusForbidden)
}

func TestEdge_PassThroughOfAPrivateObjectChecksTheToken(t *testing.T) {
	o := privateOrigin(t, originSecret)
	// Too large to cache: the MP4 is not sliced here and passes through.
	_, base := startEdge(t, o.URL(), signedEdge(func(c *Config) { c.SlicedPaths = []string{}; c.MaxObjectBytes = 1000 }))
	c := testClient(t)
	mp4 := base + "/videos/priv/r/720.mp4"
	good := tokenFor(t, "/videos/priv/", time.Now().Add(time.Hour))
	wantStatus(t, get(t, c, mp4+"?token="+good), http.StatusOK) // first: the fill finds it too large
	wantRefused(t, get(t, c, mp4), "This video is private")     // then: pass-through
	r := get(t, c, mp4+"?token="+good)
	wantStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, pattern(3*testSlice+100)) {
		t.Fatal("wrong body")
	}
}

func TestEdge_ShieldServesPeerEdgesWithoutViewerTokens(t *testing.T) {
	o := privateOrigin(t, originSecret)
	_, shield := startEdge(t, o.URL(), signedEdge(func(c *Config) { c.Name = "shield" }))
	_, edge := startEdge(t, o.URL(), signedEdge(func(c *Config) { c.Shields = []string{shield} }))
	c := testClient(t)
	good := tokenFor(t, "/videos/priv/", time.Now().Add(time.Hour))
	seg := "/videos/priv/hls/720/video/0.m4s"

	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = get(t, c, edge+seg+"?token="+good)
		}()
	}
	wg.Wait()
	for _, r := range results {
		wantStatus(t, r, http.StatusOK)
	}
	if n := o.count(seg); n != 1 {
		t.Fatalf("origin fetched %d times, want 1 (through the shield)", n)
	}
	// The downstream edge learned the requirement from the shield.
	wantRefused(t, get(t, c, edge+seg), "This video is private")
	// A viewer cannot pass for an edge.
	wantRefused(t, do(t, c, "GET", shield+seg, map[string]string{urlsign.RequestHeader: "v1:1:AAAA"}), "This video is private")
	// A peer edge's own signed request is served by the shield.
	r := do(t, c, "GET", shield+seg, map[string]string{
		urlsign.RequestHeader: urlsign.RequestSignature([]byte(originSecret), "GET", seg, time.Now()),
	})
	wantStatus(t, r, http.StatusOK)
	if r.header.Get(urlsign.AccessHeader) != urlsign.AccessSigned {
		t.Fatal("the shield must pass the access requirement on")
	}
}

func TestConfig_RefusesWeakSigningKeys(t *testing.T) {
	_, err := New(Config{Name: "e", Origin: "http://127.0.0.1:1", SigningKeys: map[string][]byte{"k1": []byte("short")}, Logger: discardLogger()})
	if err == nil || !strings.Contains(err.Error(), "at least 16 bytes") {
		t.Fatalf("New: %v", err)
	}
}

func TestEdge_AccessRequirementSurvivesARestart(t *testing.T) {
	o := privateOrigin(t, originSecret)
	dir := t.TempDir()
	c := testClient(t)
	seg := "/videos/priv/hls/720/video/0.m4s"
	good := tokenFor(t, "/videos/priv/", time.Now().Add(time.Hour))
	e, base, stop := startEdgeStoppable(t, o.URL(), signedEdge(func(c *Config) { c.CacheDir = dir }))
	wantStatus(t, get(t, c, base+seg+"?token="+good), http.StatusOK)
	waitIdle(t, e)
	stop()
	o.stop() // from now on, only the disk tier can answer

	_, base = startEdge(t, o.URL(), signedEdge(func(c *Config) { c.CacheDir = dir }))
	wantRefused(t, get(t, c, base+seg), "This video is private")
	r := get(t, c, base+seg+"?token="+good)
	wantStatus(t, r, http.StatusOK)
	wantXCache(t, r, "Hit")
}
