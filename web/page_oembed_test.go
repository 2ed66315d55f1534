package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A watch page links its oEmbed; the oEmbed of its URL is the embed
// player's iframe, sized within maxwidth; other URLs are 404; the
// VideoObject says how to link to a moment.
func TestOEmbed_AnswersTheWatchURLWithTheEmbedPlayer(t *testing.T) {
	v := readyVideo("oembed0000000001", fixtureTime(0))
	site := newTestSite(t, startAPI(t, []video{v}, nil))
	watch := testPublicURL + "/watch/" + v.ID

	_, page, _ := get(t, site, "/watch/"+v.ID)
	discovery := `<link rel="alternate" type="application/json+oembed" href="` + testPublicURL + `/oembed?format=json&amp;url=` + url.QueryEscape(watch) + `"`
	if !strings.Contains(page, discovery) {
		t.Errorf("the watch page lacks the discovery link %s", discovery)
	}
	if !strings.Contains(page, `"@type":"SeekToAction","target":"`+watch+`?t={seek_to_second_number}"`) {
		t.Errorf("the VideoObject lacks its SeekToAction")
	}

	status, body, h := get(t, site, "/oembed?format=json&maxwidth=640&url="+url.QueryEscape(watch))
	if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("oembed: %d %q %s", status, h.Get("Content-Type"), body)
	}
	var o oembed
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatal(err)
	}
	if o.Type != "video" || o.Version != "1.0" || o.Width != 640 || o.Height != 360 || o.Title != v.Title ||
		!strings.Contains(o.HTML, `<iframe src="`+testPublicURL+`/embed/`+v.ID+`" width="640" height="360"`) {
		t.Fatalf("oembed answer %+v", o)
	}
	for _, bad := range []string{"/oembed?url=" + url.QueryEscape(testPublicURL+"/library"), "/oembed?url=" + url.QueryEscape(testPublicURL+"/watch/nope000000000001")} {
		if status, _, _ := get(t, site, bad); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, status)
		}
	}
	if status, _, _ := get(t, site, "/oembed?format=xml&url="+url.QueryEscape(watch)); status != http.StatusNotImplemented {
		t.Errorf("format=xml: %d, want 501", status)
	}
}

// A link to a moment (?t=) starts the player there; the watch page lists
// the captions.
func TestWatch_StartsAtTAndListsCaptions(t *testing.T) {
	v := readyVideo("moment0000000001", fixtureTime(0))
	v.Captions = []caption{{Lang: "en", Name: "English", URL: v.HLSURL}, {Lang: "pt-BR", Name: "Português", URL: v.HLSURL}}
	site := newTestSite(t, startAPI(t, []video{v}, nil))
	for q, want := range map[string]string{"?t=30": `data-streamfront-start="30"`, "?t=1m0s": `data-streamfront-start="60"`, "?t=9999": "", "?t=abc": ""} {
		_, body, _ := get(t, site, "/watch/"+v.ID+q)
		has := strings.Contains(body, "data-streamfront-start")
		if want == "" && has || want != "" && !strings.Contains(body, want) {
			t.Errorf("%s: want %q in the player", q, want)
		}
	}
	_, body, _ := get(t, site, "/embed/"+v.ID+"?t=12.5")
	if !strings.Contains(body, `data-streamfront-start="12.5"`) {
		t.Errorf("embed ?t=12.5 does not start there")
	}
	_, body, _ = get(t, site, "/watch/"+v.ID)
	if !strings.Contains(body, `Captions: <span lang="en">English</span>, <span lang="pt-BR">Português</span>`) {
		t.Errorf("the watch page does not list the captions")
	}
}
