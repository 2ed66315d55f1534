package web

import (
	"encoding/xml"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var (
	cardPattern = regexp.MustCompile(`<a class="card-link" href="/watch/([^"]+)">`)
	nextPattern = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next">`)
)

func TestLibrary_ListsNewestFirstAndPagesWithTheAPICursor(t *testing.T) {
	var videos []video
	for i := range 30 {
		v := readyVideo(videoID(i), fixtureTime(i))
		if i == 1 {
			v.Status, v.HLSURL, v.MP4URL, v.ThumbnailURL = statusProcessing, "", "", ""
		}
		if i == 2 {
			v.Status, v.Error, v.HLSURL, v.MP4URL = statusFailed, "Could not decode.", "", ""
		}
		if i == 3 {
			v.Visibility = "private"
		}
		videos = append(videos, v)
	}
	site := newTestSite(t, startAPI(t, videos, nil))

	status, body, _ := get(t, site, "/")
	if status != http.StatusOK {
		t.Fatalf("status %d:\n%s", status, body)
	}
	ids := cardIDs(body)
	// 24 asked for, one of them private.
	if len(ids) != libraryPageSize-1 || ids[0] != videoID(0) || ids[1] != videoID(1) || ids[3] != videoID(4) {
		t.Fatalf("first page lists %v", ids)
	}
	for _, want := range []string{
		`<img src="http://localhost:8081/videos/` + videoID(0) + `/thumbs/poster.jpg"`,
		`<span class="badge badge-processing">Processing</span>`,
		`<span class="badge badge-failed">Failed</span>`,
		`<span class="duration">1:04</span>`,
		`<span class="thumb-placeholder"`, // the processing one has no thumbnail
	} {
		if !strings.Contains(body, want) {
			t.Errorf("first page lacks %s", want)
		}
	}
	if got := readSEO(body).canonical; got != testPublicURL+"/" {
		t.Errorf("canonical %q", got)
	}

	m := nextPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("first page has no link to older videos")
	}
	next := html.UnescapeString(m[1])
	if next != "/?cursor="+videoID(libraryPageSize) {
		t.Errorf("next link %q, want the API's next_cursor", next)
	}
	status, body, _ = get(t, site, next)
	if status != http.StatusOK {
		t.Fatalf("second page status %d", status)
	}
	ids = cardIDs(body)
	if len(ids) != 30-libraryPageSize || ids[0] != videoID(libraryPageSize) {
		t.Errorf("second page lists %v", ids)
	}
	if nextPattern.MatchString(body) {
		t.Error("last page links to older videos")
	}
	if !strings.Contains(body, `href="/">← Newest</a>`) {
		t.Error("second page has no way back to the newest")
	}
}

func cardIDs(body string) []string {
	var ids []string
	for _, m := range cardPattern.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestLibrary_EmptyAndBadCursor(t *testing.T) {
	site := newTestSite(t, startAPI(t, nil, nil))
	tests := []struct {
		target     string
		wantStatus int
		wantBody   string
	}{
		{"/", http.StatusOK, "No videos yet"},
		{"/?cursor=" + "has%20space", http.StatusBadRequest, "That page of the library does not exist"},
		{"/?cursor=" + videoID(99), http.StatusBadRequest, "cursor is not one this API gave out"},
	}
	for _, tc := range tests {
		status, body, _ := get(t, site, tc.target)
		if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
			t.Errorf("GET %s: status %d, want %d with %q; body:\n%s", tc.target, status, tc.wantStatus, tc.wantBody, body)
		}
	}
}

func TestUpload_PrefillsTheDevKeyOnlyWhenSet(t *testing.T) {
	api := startAPI(t, nil, nil)
	tests := []struct {
		name      string
		devKey    string
		wantValue string
	}{
		{"dev mode", `dev-key-"quoted"`, `value="dev-key-&#34;quoted&#34;"`},
		{"production", "", `value=""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			site, err := New(Config{APIURL: api, DevAPIKey: tc.devKey})
			if err != nil {
				t.Fatal(err)
			}
			status, body, header := get(t, site, "/upload")
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if !strings.Contains(body, `name="api_key" type="password" autocomplete="off" spellcheck="false" `+tc.wantValue) {
				t.Errorf("API key field is not pre-filled with %s:\n%s", tc.wantValue, body)
			}
			for _, want := range []string{`id="upload-form"`, `name="file" type="file"`, `name="title"`, `name="description"`, `name="tags"`, `/static/upload.js?v=`, `data-role="upload-bar"`, `data-role="processing-bar"`} {
				if !strings.Contains(body, want) {
					t.Errorf("upload page lacks %s", want)
				}
			}
			if cc := header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store (the page may hold a key)", cc)
			}
			// The default PublicURL comes from the default Addr.
			if got := readSEO(body).canonical; got != "http://localhost:8080/upload" {
				t.Errorf("canonical %q", got)
			}
		})
	}
}

func TestSitemap_ListsReadyPublicVideosWithVideoEntries(t *testing.T) {
	var videos []video
	for i := range 230 { // three API pages of 100
		v := readyVideo(videoID(i), fixtureTime(i))
		switch i % 10 {
		case 1:
			v.Status = statusProcessing
			v.HLSURL = ""
		case 2:
			v.Visibility = "unlisted"
		case 3:
			v.ThumbnailURL = ""
		}
		videos = append(videos, v)
	}
	site := newTestSite(t, startAPI(t, videos, nil))

	status, body, header := get(t, site, "/sitemap.xml")
	if status != http.StatusOK || !strings.HasPrefix(header.Get("Content-Type"), "application/xml") {
		t.Fatalf("status %d, Content-Type %q", status, header.Get("Content-Type"))
	}
	var set struct {
		URLs []struct {
			Loc   string `xml:"loc"`
			Video *struct {
				Thumbnail string   `xml:"thumbnail_loc"`
				Title     string   `xml:"title"`
				Content   string   `xml:"content_loc"`
				Player    string   `xml:"player_loc"`
				Duration  int      `xml:"duration"`
				Tags      []string `xml:"tag"`
			} `xml:"http://www.google.com/schemas/sitemap-video/1.1 video"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("sitemap does not parse: %v\n%s", err, body[:min(len(body), 2000)])
	}
	if len(set.URLs) != 230-23-23 {
		t.Fatalf("%d URLs, want %d", len(set.URLs), 230-23-23)
	}
	first := set.URLs[0]
	if first.Loc != testPublicURL+"/watch/"+videoID(0) || first.Video == nil {
		t.Fatalf("first entry %+v", first)
	}
	if first.Video.Content != videos[0].MP4URL || first.Video.Duration != 64 || first.Video.Player != testPublicURL+"/embed/"+videoID(0) || len(first.Video.Tags) != 2 {
		t.Errorf("first video entry %+v", *first.Video)
	}
	for _, u := range set.URLs {
		if u.Loc == testPublicURL+"/watch/"+videoID(3) && u.Video != nil {
			t.Error("a video without a thumbnail got a video entry, which Google rejects")
		}
	}

	status, body, _ = get(t, site, "/robots.txt")
	if status != http.StatusOK || !strings.Contains(body, "Sitemap: "+testPublicURL+"/sitemap.xml") || !strings.Contains(body, "Disallow: /api/") {
		t.Errorf("robots.txt: %d\n%s", status, body)
	}
}
