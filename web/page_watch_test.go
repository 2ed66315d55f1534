package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// The rendered markup is ours, so these patterns match exactly what the
// templates write.
var (
	titlePattern     = regexp.MustCompile(`<title>(.*?)</title>`)
	metaPattern      = regexp.MustCompile(`<meta (name|property)="([^"]+)" content="([^"]*)">`)
	canonicalPattern = regexp.MustCompile(`<link rel="canonical" href="([^"]*)">`)
	jsonLDPattern    = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)
	scriptPattern    = regexp.MustCompile(`(?i)<script\b`)
)

// seo is what a crawler reads from a page.
type seo struct {
	title     string
	canonical string
	meta      map[string]string // by name or property; the first of repeated ones
	jsonLD    []string
}

func readSEO(body string) seo {
	s := seo{meta: map[string]string{}}
	if m := titlePattern.FindStringSubmatch(body); m != nil {
		s.title = html.UnescapeString(m[1])
	}
	if m := canonicalPattern.FindStringSubmatch(body); m != nil {
		s.canonical = html.UnescapeString(m[1])
	}
	for _, m := range metaPattern.FindAllStringSubmatch(body, -1) {
		if _, seen := s.meta[m[2]]; !seen {
			s.meta[m[2]] = html.UnescapeString(m[3])
		}
	}
	for _, m := range jsonLDPattern.FindAllStringSubmatch(body, -1) {
		s.jsonLD = append(s.jsonLD, m[1])
	}
	return s
}

// jsonLDVideo is a VideoObject as a crawler decodes it.
type jsonLDVideo struct {
	Context      string `json:"@context"`
	Type         string `json:"@type"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	ThumbnailURL string `json:"thumbnailUrl"`
	UploadDate   string `json:"uploadDate"`
	Duration     string `json:"duration"`
	ContentURL   string `json:"contentUrl"`
	EmbedURL     string `json:"embedUrl"`
	URL          string `json:"url"`
	Keywords     string `json:"keywords"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	// InteractionStatistic is the view count.
	InteractionStatistic ldCounter `json:"interactionStatistic"`
	// PotentialAction links to a moment (?t=): set from URL by checkJSONLD.
	PotentialAction ldSeek `json:"potentialAction"`
}

type ldSeek struct {
	Type        string `json:"@type"`
	Target      string `json:"target"`
	StartOffset string `json:"startOffset-input"`
}

type ldCounter struct {
	Type            string `json:"@type"`
	InteractionType struct {
		Type string `json:"@type"`
	} `json:"interactionType"`
	Count int64 `json:"userInteractionCount"`
}

// watched is the counter of n views.
func watched(n int64) ldCounter {
	c := ldCounter{Type: "InteractionCounter", Count: n}
	c.InteractionType.Type = "WatchAction"
	return c
}

const hostileTitle = `</script><script>alert(1)</script>`

func TestWatch_RendersSEOTagsAndVideoObject(t *testing.T) {
	ready := readyVideo("ready00000000001", fixtureTime(0))
	ready.Views = 12345

	hostile := readyVideo("hostile000000001", fixtureTime(1))
	hostile.Title = hostileTitle
	hostile.Description = `He said "<b>hi</b>" & left. </SCRIPT><!--`
	hostile.Tags = []string{`"><script>x()</script>`, "ok"}

	processing := readyVideo("proc000000000001", fixtureTime(2))
	processing.Status, processing.HLSURL, processing.MP4URL, processing.ThumbnailURL = statusProcessing, "", "", ""
	processing.Stage, processing.Percent = "indexing", 42

	failed := readyVideo("failed0000000001", fixtureTime(3))
	failed.Status, failed.HLSURL, failed.MP4URL, failed.ThumbnailURL = statusFailed, "", "", ""
	failed.Error = "The file is not a video ffmpeg can read; upload an MP4, MOV, MKV or WebM file."

	untitled := readyVideo("untitled00000001", fixtureTime(4))
	untitled.Title, untitled.Description, untitled.Tags, untitled.ThumbnailURL = "", "", nil, ""

	api := startAPI(t, []video{ready, hostile, processing, failed, untitled}, nil)
	site := newTestSite(t, api)

	tests := []struct {
		name        string
		id          string
		wantTitle   string
		wantMeta    map[string]string // "" value: the tag must be absent
		wantLD      *jsonLDVideo      // nil: no JSON-LD at all
		wantBodyHas []string
	}{
		{
			name:      "ready video",
			id:        ready.ID,
			wantTitle: "Big Buck Bunny ready00000000001 · Streamfront",
			wantMeta: map[string]string{
				"description":           "A giant rabbit meets three bullies. Second line.",
				"keywords":              "animation, open movie",
				"robots":                "",
				"og:type":               "video.other",
				"og:title":              "Big Buck Bunny ready00000000001",
				"og:description":        "A giant rabbit meets three bullies. Second line.",
				"og:url":                testPublicURL + "/watch/ready00000000001",
				"og:image":              ready.ThumbnailURL,
				"og:video":              ready.MP4URL,
				"og:video:type":         "video/mp4",
				"og:video:width":        "1280",
				"og:video:height":       "720",
				"og:site_name":          "Streamfront",
				"twitter:card":          "player",
				"twitter:title":         "Big Buck Bunny ready00000000001",
				"twitter:image":         ready.ThumbnailURL,
				"twitter:player":        testPublicURL + "/embed/ready00000000001",
				"twitter:player:stream": ready.MP4URL,
			},
			wantLD: &jsonLDVideo{
				Context:              "https://schema.org",
				Type:                 "VideoObject",
				Name:                 "Big Buck Bunny ready00000000001",
				Description:          "A giant rabbit meets three bullies.\nSecond line.",
				ThumbnailURL:         ready.ThumbnailURL,
				UploadDate:           "2026-03-14T15:09:26Z",
				Duration:             "PT1M3.5S",
				ContentURL:           ready.MP4URL,
				EmbedURL:             testPublicURL + "/embed/ready00000000001",
				URL:                  testPublicURL + "/watch/ready00000000001",
				Keywords:             "animation, open movie",
				Width:                1280,
				Height:               720,
				InteractionStatistic: watched(12345),
			},
			wantBodyHas: []string{
				`data-streamfront-hls="http://localhost:8081/videos/ready00000000001/master.m3u8"`,
				`<span class="views">12,345 views</span>`,
				`data-streamfront-views="/api/v1/videos/ready00000000001/views"`,
				`href="http://localhost:8081/videos/ready00000000001/r/v720.mp4" download`,
				`<script src="/player/player.js?v=`,
			},
		},
		{
			name:      "hostile title and description are escaped",
			id:        hostile.ID,
			wantTitle: hostileTitle + " · Streamfront",
			wantMeta: map[string]string{
				"og:title":    hostileTitle,
				"description": `He said "<b>hi</b>" & left. </SCRIPT><!--`,
				"keywords":    `"><script>x()</script>, ok`,
			},
			wantLD: &jsonLDVideo{
				Context:              "https://schema.org",
				Type:                 "VideoObject",
				Name:                 hostileTitle,
				Description:          `He said "<b>hi</b>" & left. </SCRIPT><!--`,
				ThumbnailURL:         hostile.ThumbnailURL,
				UploadDate:           "2026-03-14T15:08:26Z",
				Duration:             "PT1M3.5S",
				ContentURL:           hostile.MP4URL,
				EmbedURL:             testPublicURL + "/embed/hostile000000001",
				URL:                  testPublicURL + "/watch/hostile000000001",
				Keywords:             `"><script>x()</script>, ok`,
				Width:                1280,
				Height:               720,
				InteractionStatistic: watched(0),
			},
		},
		{
			name:      "processing video shows progress and is not indexed",
			id:        processing.ID,
			wantTitle: "Big Buck Bunny proc000000000001 · Streamfront",
			wantMeta: map[string]string{
				"robots":       "noindex",
				"og:type":      "video.other",
				"og:video":     "",
				"twitter:card": "summary",
			},
			wantBodyHas: []string{`id="video-status"`, `data-status="processing"`, `<span data-role="stage">indexing</span>`, `<span data-role="percent">42</span>%`, `/static/watch.js?v=`},
		},
		{
			name:      "failed video shows its error",
			id:        failed.ID,
			wantTitle: "Big Buck Bunny failed0000000001 · Streamfront",
			wantMeta:  map[string]string{"robots": "noindex", "og:video": ""},
			wantBodyHas: []string{
				"This video could not be processed",
				"The file is not a video ffmpeg can read; upload an MP4, MOV, MKV or WebM file.",
			},
		},
		{
			name:      "untitled video gets stand-ins",
			id:        untitled.ID,
			wantTitle: "Untitled video · Streamfront",
			wantMeta: map[string]string{
				"description":  "Watch Untitled video on Streamfront.",
				"keywords":     "",
				"og:image":     "",
				"twitter:card": "summary",
			},
			wantLD: &jsonLDVideo{
				Context:              "https://schema.org",
				Type:                 "VideoObject",
				Name:                 "Untitled video",
				Description:          "Watch Untitled video on Streamfront.",
				UploadDate:           "2026-03-14T15:05:26Z",
				Duration:             "PT1M3.5S",
				ContentURL:           untitled.MP4URL,
				EmbedURL:             testPublicURL + "/embed/untitled00000001",
				URL:                  testPublicURL + "/watch/untitled00000001",
				Width:                1280,
				Height:               720,
				InteractionStatistic: watched(0),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, header := get(t, site, "/watch/"+tc.id)
			if status != http.StatusOK {
				t.Fatalf("status %d, want 200; body:\n%s", status, body)
			}
			if ct := header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			got := readSEO(body)
			if got.title != tc.wantTitle {
				t.Errorf("<title> %q, want %q", got.title, tc.wantTitle)
			}
			if want := testPublicURL + "/watch/" + tc.id; got.canonical != want {
				t.Errorf("canonical %q, want %q", got.canonical, want)
			}
			for key, want := range tc.wantMeta {
				value, present := got.meta[key]
				switch {
				case want == "" && present:
					t.Errorf("meta %s = %q, want none", key, value)
				case want != "" && value != want:
					t.Errorf("meta %s = %q, want %q", key, value, want)
				}
			}
			for _, s := range tc.wantBodyHas {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %s", s)
				}
			}
			checkJSONLD(t, got.jsonLD, tc.wantLD)

			// However hostile the video's text, the only scripts are ours:
			// the JSON-LD block and the script tags the layout writes.
			wantScripts := 1 // player.js or watch.js
			if tc.wantLD != nil {
				wantScripts++
			}
			if n := len(scriptPattern.FindAllString(body, -1)); n != wantScripts {
				t.Errorf("%d <script> tags, want %d; body:\n%s", n, wantScripts, body)
			}
			if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, "<b>hi</b>") {
				t.Errorf("unescaped user text in the page:\n%s", body)
			}
		})
	}
}

func checkJSONLD(t *testing.T, blocks []string, want *jsonLDVideo) {
	t.Helper()
	if want == nil {
		if len(blocks) != 0 {
			t.Errorf("JSON-LD %q on a page that should have none", blocks)
		}
		return
	}
	if len(blocks) != 1 {
		t.Fatalf("%d JSON-LD blocks, want 1", len(blocks))
	}
	if strings.Contains(strings.ToLower(blocks[0]), "</script") || strings.Contains(blocks[0], "<!--") {
		t.Errorf("JSON-LD can end its script element early: %s", blocks[0])
	}
	var got jsonLDVideo
	dec := json.NewDecoder(strings.NewReader(blocks[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("JSON-LD does not parse back (%v): %s", err, blocks[0])
	}
	w := *want
	w.PotentialAction = ldSeek{Type: "SeekToAction", Target: w.URL + "?t={seek_to_second_number}", StartOffset: "required name=seek_to_second_number"}
	want = &w
	if got != *want {
		t.Errorf("JSON-LD\n got %+v\nwant %+v", got, *want)
	}
}

func TestWatch_UnknownVideoIs404(t *testing.T) {
	var hits atomic.Int64
	api := startAPI(t, []video{readyVideo("known00000000001", fixtureTime(0))}, &hits)
	site := newTestSite(t, api)

	tests := []struct {
		name     string
		target   string
		wantHits int64 // API calls made for it
	}{
		{"unknown id", "/watch/nosuchvideo00001", 1},
		{"id that cannot exist never reaches the API", "/watch/..%2F..%2Fadmin", 0},
		{"unknown embed", "/embed/nosuchvideo00001", 1},
		{"no such page", "/nowhere", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			status, body, _ := get(t, site, tc.target)
			if status != http.StatusNotFound {
				t.Fatalf("status %d, want 404", status)
			}
			if got := readSEO(body).meta["robots"]; got != "noindex" {
				t.Errorf("404 page robots %q, want noindex", got)
			}
			if !strings.Contains(body, "Back to the library") {
				t.Errorf("404 page has no way back:\n%s", body)
			}
			if got := hits.Load() - before; got != tc.wantHits {
				t.Errorf("%d API calls, want %d", got, tc.wantHits)
			}
		})
	}
}

func TestWatch_APIDownIs502WithASentence(t *testing.T) {
	api := startAPI(t, nil, nil)
	site := newTestSite(t, api)
	site.api.base.Host = "127.0.0.1:1" // nothing listens on port 1

	status, body, _ := get(t, site, "/watch/known00000000001")
	if status != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", status)
	}
	if !strings.Contains(body, "The video service did not answer. Try again in a moment.") {
		t.Errorf("502 page lacks its sentence:\n%s", body)
	}
}

func TestEmbed_RendersBarePlayerPointingAtTheWatchPage(t *testing.T) {
	v := readyVideo("embed00000000001", fixtureTime(0))
	site := newTestSite(t, startAPI(t, []video{v}, nil))

	status, body, header := get(t, site, "/embed/"+v.ID)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	got := readSEO(body)
	if got.canonical != testPublicURL+"/watch/"+v.ID {
		t.Errorf("canonical %q, want the watch page", got.canonical)
	}
	if !strings.Contains(body, `data-streamfront-hls="`+v.HLSURL+`"`) || strings.Contains(body, "site-header") {
		t.Errorf("embed is not a bare player:\n%s", body)
	}
	if csp := header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") {
		t.Errorf("embed CSP %q does not allow framing", csp)
	}
	if _, _, h := get(t, site, "/watch/"+v.ID); !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'self'") {
		t.Errorf("watch page may be framed anywhere: %q", h.Get("Content-Security-Policy"))
	}
}

func TestISODuration(t *testing.T) {
	tests := []struct {
		seconds float64
		want    string
	}{
		{63.5, "PT1M3.5S"},
		{12, "PT12S"},
		{0, "PT0S"},
		{-3, "PT0S"},
		{0.25, "PT0.25S"},
		{60, "PT1M"},
		{3600, "PT1H"},
		{3725.042, "PT1H2M5.042S"},
		{59.9996, "PT1M"},
		{7322.1, "PT2H2M2.1S"},
	}
	for _, tc := range tests {
		if got := isoDuration(tc.seconds); got != tc.want {
			t.Errorf("isoDuration(%v) = %q, want %q", tc.seconds, got, tc.want)
		}
	}
}

func TestTruncateWords(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"line one\n\nline  two", 40, "line one line two"},
		{"the quick brown fox jumps over", 20, "the quick brown fox…"},
		{"a, b, c, d, e, f, g, h", 10, "a, b, c…"},
		{"abcdefghijklmnop", 8, "abcdefg…"},
		{"ééééééééééééééé", 5, "éééé…"},
	}
	for _, tc := range tests {
		if got := truncateWords(tc.in, tc.max); got != tc.want {
			t.Errorf("truncateWords(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestWatch_AnswersHEADLikeGET(t *testing.T) {
	v := readyVideo("head000000000001", fixtureTime(0))
	site := newTestSite(t, startAPI(t, []video{v}, nil))
	for target, want := range map[string]int{"/watch/" + v.ID: http.StatusOK, "/watch/nosuchvideo00001": http.StatusNotFound, "/": http.StatusOK} {
		rec := httptest.NewRecorder()
		site.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, target, nil))
		if rec.Code != want {
			t.Errorf("HEAD %s: status %d, want %d", target, rec.Code, want)
		}
	}
}

// Public pages may be kept briefly by an edge; a private video's page,
// which carries signed URLs, may not.
func TestPages_CacheControlForEdges(t *testing.T) {
	pub := readyVideo("public0000000001", fixtureTime(0))
	priv := readyVideo("private000000001", fixtureTime(1))
	priv.Visibility = "private"
	site := newTestSite(t, startAPI(t, []video{pub, priv}, nil))
	for target, want := range map[string]string{
		"/":                       sharedPageCacheControl,
		"/watch/public0000000001": sharedPageCacheControl,
		"/embed/public0000000001": sharedPageCacheControl,
		"/watch/private000000001": "private, no-cache",
		"/embed/private000000001": "private, no-cache",
	} {
		status, _, h := get(t, site, target)
		if status != http.StatusOK || h.Get("Cache-Control") != want {
			t.Errorf("GET %s: %d, Cache-Control %q, want 200 and %q", target, status, h.Get("Cache-Control"), want)
		}
	}
}
