package web

import (
	"encoding/json"
	"html"
	"net/http"
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
	m := jsonLDPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no JSON-LD")
	}
	var ld struct {
		Type        string `json:"@type"`
		Name        string `json:"name"`
		Publication struct {
			Type            string `json:"@type"`
			IsLiveBroadcast bool   `json:"isLiveBroadcast"`
			StartDate       string `json:"startDate"`
			EndDate         string `json:"endDate"`
		} `json:"publication"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &ld); err != nil {
		t.Fatalf("JSON-LD: %v\n%s", err, m[1])
	}
	if ld.Type != "VideoObject" || ld.Name != "Launch day <live>" || ld.Publication.Type != "BroadcastEvent" ||
		!ld.Publication.IsLiveBroadcast || ld.Publication.StartDate != ls.StartedAt.Format(time.RFC3339) || ld.Publication.EndDate != "" {
		t.Errorf("JSON-LD %+v", ld)
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
