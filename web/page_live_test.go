package web

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// onAirStream is a live stream broadcasting now, as the API describes it.
func onAirStream(id string) liveStream {
	started := fixtureTime(3)
	media := "http://localhost:8083/videos/" + id
	return liveStream{ID: id, Title: "Launch day <live>", Description: "We launch, live.", Tags: []string{"launch"},
		Latency: "low", Record: true, DVRWindowS: 600, HLSURL: media + "/master.m3u8", DVRURL: media + "/dvr.m3u8",
		PageURL: "http://localhost:8080/live/" + id, Status: liveLive, Broadcast: 2, StartedAt: &started,
		CreatedAt: fixtureTime(60)}
}

// offAirStream has never broadcast.
func offAirStream(id string) liveStream {
	return liveStream{ID: id, Title: "Weekly show", Latency: "low", Record: true, DVRWindowS: 7200,
		HLSURL: "http://localhost:8083/videos/" + id + "/master.m3u8", Status: liveIdle, CreatedAt: fixtureTime(60)}
}

func startLiveSite(t *testing.T, lives ...liveStream) *Server {
	t.Helper()
	o := startAdminOrigin(t, "k", nil, nil)
	o.lives = lives
	return newTestSite(t, o.URL)
}

func TestLivePage_OnAirMountsTheLivePlayerAndSaysLiveBroadcast(t *testing.T) {
	ls := onAirStream(videoID(7))
	site := startLiveSite(t, ls)
	code, body, header := get(t, site, "/live/"+ls.ID)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d:\n%s", code, body)
	}
	if cc := header.Get("Cache-Control"); cc != "public, max-age=0, s-maxage=2" {
		t.Errorf("Cache-Control %q", cc)
	}
	for _, want := range []string{
		`data-streamfront-hls="` + ls.HLSURL + `"`,
		`data-streamfront-live`,
		`data-streamfront-dvr="` + ls.DVRURL + `"`,
		`data-streamfront-dvr-window="600"`,
		`data-streamfront-live-api="/api/v1/live/` + ls.ID + `"`,
		`data-streamfront-recording-page="/watch/"`,
		`<h1 class="watch-title">Launch day &lt;live&gt;</h1>`,
		`<span class="badge badge-live">Live</span>`,
		`<link rel="canonical" href="` + testPublicURL + `/live/` + ls.ID + `">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, `name="robots"`) {
		t.Error("a public broadcast on the air is not indexed")
	}
	started := ls.StartedAt.Format(time.RFC3339)
	checkLiveJSONLD(t, readSEO(body).jsonLD, ldLiveVideo{
		Context:     "https://schema.org",
		Type:        "VideoObject",
		Name:        "Launch day <live>",
		Description: "We launch, live.",
		UploadDate:  started,
		URL:         testPublicURL + "/live/" + ls.ID,
		Keywords:    "launch",
		Publication: ldBroadcastEvent{Type: "BroadcastEvent", IsLiveBroadcast: true, StartDate: started},
	})
}

// ldLiveVideo is every property the live page may give its VideoObject,
// each one schema.org defines for it (VideoObject: name, description,
// uploadDate, url, keywords, publication), so that a property misnamed or
// not schema.org's fails to decode.
type ldLiveVideo struct {
	Context     string           `json:"@context"`
	Type        string           `json:"@type"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	UploadDate  string           `json:"uploadDate"`
	URL         string           `json:"url"`
	Keywords    string           `json:"keywords"`
	Publication ldBroadcastEvent `json:"publication"`
}

// ldBroadcastEvent is schema.org's BroadcastEvent (a PublicationEvent,
// which publication expects): isLiveBroadcast of its own, startDate and
// endDate from Event.
type ldBroadcastEvent struct {
	Type            string `json:"@type"`
	IsLiveBroadcast bool   `json:"isLiveBroadcast"`
	StartDate       string `json:"startDate"`
	EndDate         string `json:"endDate"`
}

// checkLiveJSONLD wants one JSON-LD block, unable to end its script
// element, with exactly want's properties; dates must be ISO 8601 as
// schema.org's Date and DateTime are.
func checkLiveJSONLD(t *testing.T, blocks []string, want ldLiveVideo) {
	t.Helper()
	if len(blocks) != 1 {
		t.Fatalf("%d JSON-LD blocks, want 1", len(blocks))
	}
	if strings.Contains(strings.ToLower(blocks[0]), "</script") || strings.Contains(blocks[0], "<!--") {
		t.Errorf("JSON-LD can end its script element early: %s", blocks[0])
	}
	var got ldLiveVideo
	dec := json.NewDecoder(strings.NewReader(blocks[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("JSON-LD does not parse back (%v): %s", err, blocks[0])
	}
	if got != want {
		t.Errorf("JSON-LD\n got %+v\nwant %+v", got, want)
	}
	for name, date := range map[string]string{"uploadDate": got.UploadDate, "publication.startDate": got.Publication.StartDate, "publication.endDate": got.Publication.EndDate} {
		if _, err := time.Parse(time.RFC3339, date); date != "" && err != nil {
			t.Errorf("%s %q is not an ISO 8601 date-time", name, date)
		}
	}
}

func TestLivePage_OffAirWaitsForTheBroadcast(t *testing.T) {
	ls := offAirStream(videoID(8))
	site := startLiveSite(t, ls)
	code, body, _ := get(t, site, "/live/"+ls.ID)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	if strings.Contains(body, "data-streamfront-hls") || jsonLDPattern.MatchString(body) {
		t.Error("an idle stream's page has a player or says it is a live broadcast")
	}
	if !strings.Contains(body, `id="live-status"`) || !strings.Contains(body, "/static/live.js?v=") || !strings.Contains(body, `name="robots" content="noindex"`) {
		t.Errorf("off-air page:\n%s", body)
	}
}

func TestLivePage_EndedWithARecordingLeadsToIt(t *testing.T) {
	ls := onAirStream(videoID(7))
	ended := fixtureTime(1)
	ls.Status, ls.EndedAt, ls.VideoID = liveEnded, &ended, videoID(9)
	site := startLiveSite(t, ls)
	code, _, header := get(t, site, "/live/"+ls.ID)
	if code != http.StatusFound || header.Get("Location") != "/watch/"+videoID(9) {
		t.Errorf("HTTP %d to %q, want 302 to the recording", code, header.Get("Location"))
	}
}

func TestLivePage_UnknownStreamIs404(t *testing.T) {
	site := startLiveSite(t)
	for _, id := range []string{videoID(5), "not..an/id"} {
		if code, body, _ := get(t, site, "/live/"+id); code != http.StatusNotFound {
			t.Errorf("%s: HTTP %d\n%s", id, code, body)
		}
	}
}

func TestSitemap_ListsTheLivePagesOnTheAir(t *testing.T) {
	var lives []liveStream
	// More streams than one page of the API, so the sitemap follows the
	// cursor to the streams on the air at the end.
	for i := range 120 {
		lives = append(lives, offAirStream(videoID(100+i)))
	}
	live := onAirStream(videoID(1))
	waiting := onAirStream(videoID(2)) // its encoder went away; the broadcast waits for it
	waiting.Status = liveIdle
	recorded := onAirStream(videoID(3))
	ended := fixtureTime(1)
	recorded.Status, recorded.EndedAt, recorded.VideoID = liveEnded, &ended, videoID(9)
	unrecorded := onAirStream(videoID(4))
	unrecorded.Status, unrecorded.EndedAt, unrecorded.Record = liveEnded, &ended, false
	lives = append(lives, live, waiting, recorded, unrecorded)
	site := startLiveSite(t, lives...)

	status, body, _ := get(t, site, "/sitemap.xml")
	if status != http.StatusOK {
		t.Fatalf("HTTP %d:\n%s", status, body)
	}
	var set struct {
		URLs []struct {
			Loc     string    `xml:"loc"`
			LastMod string    `xml:"lastmod"`
			Video   *struct{} `xml:"http://www.google.com/schemas/sitemap-video/1.1 video"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("sitemap does not parse: %v\n%s", err, body)
	}
	var got []string
	for _, u := range set.URLs {
		if !strings.HasPrefix(u.Loc, testPublicURL+"/live/") {
			continue
		}
		got = append(got, u.Loc)
		if u.LastMod != live.StartedAt.Format(time.RFC3339) || u.Video != nil {
			t.Errorf("%s: lastmod %q, video entry %v; want the broadcast's start and no video entry (no thumbnail)", u.Loc, u.LastMod, u.Video != nil)
		}
		// The sitemap lists only what the page lets crawlers index.
		code, page, _ := get(t, site, strings.TrimPrefix(u.Loc, testPublicURL))
		if code != http.StatusOK || strings.Contains(page, `name="robots"`) {
			t.Errorf("%s is in the sitemap but answers HTTP %d, robots meta %v", u.Loc, code, strings.Contains(page, `name="robots"`))
		}
	}
	want := []string{testPublicURL + "/live/" + live.ID, testPublicURL + "/live/" + waiting.ID}
	if !slices.Equal(got, want) {
		t.Errorf("live pages in the sitemap %q, want %q (the streams on the air)", got, want)
	}
}
