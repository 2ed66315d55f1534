package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
)

// metaDescriptionLength is where the <meta name="description"> is cut:
// search engines show about this much.
const metaDescriptionLength = 160

// watchView is the watch and embed pages' Body.
type watchView struct {
	Video       *video
	Title       string // the video's title, or a stand-in when it has none
	Ready       bool
	EmbedURL    string
	EmbedCode   string // an <iframe> to copy
	Description string // the full description, or "" when none was given
	// Start is where a link to a moment (?t=90, ?t=1m30s) starts playing.
	Start float64
}

// startAt reads ?t= as YouTube links write it: seconds ("90", "90s") or
// "1h2m3s"; 0 when absent or unreadable.
func startAt(t string, duration float64) float64 {
	if t == "" || len(t) > 16 {
		return 0
	}
	if n, err := strconv.ParseFloat(t, 64); err == nil {
		return clampStart(n, duration)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0
	}
	return clampStart(d.Seconds(), duration)
}

func clampStart(s, duration float64) float64 {
	if s <= 0 || s != s { // NaN too
		return 0
	}
	if duration > 0 && s > duration {
		return 0
	}
	return s
}

// videoObject is the schema.org VideoObject of a watch page
// (https://schema.org/VideoObject, as Google reads it for video results).
type videoObject struct {
	Context      string `json:"@context"`
	Type         string `json:"@type"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
	UploadDate   string `json:"uploadDate"`
	Duration     string `json:"duration,omitempty"`
	ContentURL   string `json:"contentUrl,omitempty"`
	EmbedURL     string `json:"embedUrl"`
	URL          string `json:"url"`
	Keywords     string `json:"keywords,omitempty"`
	Width        int    `json:"width,omitempty"`
	Height       int    `json:"height,omitempty"`
	// InteractionStatistic is the view count, as schema.org says it: a
	// WatchAction counter.
	InteractionStatistic *interactionCounter `json:"interactionStatistic,omitempty"`
	// PotentialAction tells search engines how to link to a moment of the
	// video (?t=seconds), for "key moments".
	PotentialAction *seekToAction `json:"potentialAction,omitempty"`
}

// seekToAction is schema.org's SeekToAction, as Google documents it.
type seekToAction struct {
	Type        string `json:"@type"`
	Target      string `json:"target"`
	StartOffset string `json:"startOffset-input"`
}

type interactionCounter struct {
	Type            string     `json:"@type"`
	InteractionType typedThing `json:"interactionType"`
	Count           int64      `json:"userInteractionCount"`
}

type typedThing struct {
	Type string `json:"@type"`
}

// watch renders a video's page. Everything a search engine or a link
// preview reads is in the HTML; the player mounts on top with JavaScript.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) error {
	v, err := s.api.getVideo(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", pageCacheControl(v))
	p := s.watchPage(v)
	p.Body.(*watchView).Start = startAt(r.URL.Query().Get("t"), v.DurationS)
	return s.render(w, http.StatusOK, "watch", p)
}

// embed renders the bare player for <iframe> embeds (the VideoObject's
// embedUrl and the Twitter player card).
func (s *Server) embed(w http.ResponseWriter, r *http.Request) error {
	v, err := s.api.getVideo(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", pageCacheControl(v))
	p := s.watchPage(v)
	p.Body.(*watchView).Start = startAt(r.URL.Query().Get("t"), v.DurationS)
	p.JSONLD = nil
	p.Canonical = s.watchURL(v.ID) // the watch page is the one to index
	p.NoIndex = true
	p.OEmbed = ""
	return s.render(w, http.StatusOK, "embed", p)
}

// pageCacheControl is what a video's watch and embed pages send. A public
// video's may be kept by the edges in front (the origin purges both when
// the video changes); a private video's carries signed URLs, so no shared
// cache may keep it, and a browser asks again before reusing it.
func pageCacheControl(v *video) string {
	if v.public() {
		return sharedPageCacheControl
	}
	return privatePageCacheControl
}

func (s *Server) watchURL(id string) string {
	return s.cfg.PublicURL + "/watch/" + url.PathEscape(id)
}

func (s *Server) embedURL(id string) string {
	return s.cfg.PublicURL + "/embed/" + url.PathEscape(id)
}

// watchPage builds the watch page of v with its metadata: description and
// keywords, canonical link, OpenGraph, Twitter card and VideoObject.
func (s *Server) watchPage(v *video) *page {
	view := watchView{
		Video:       v,
		Title:       strings.TrimSpace(v.Title),
		Ready:       v.ready(),
		EmbedURL:    s.embedURL(v.ID),
		Description: strings.TrimSpace(v.Description),
	}
	if view.Title == "" {
		view.Title = "Untitled video"
	}
	width, height := 640, 360
	if v.Width > 0 && v.Height > 0 {
		width, height = v.Width, v.Height
	}
	view.EmbedCode = `<iframe src="` + view.EmbedURL + `" width="` + strconv.Itoa(width) + `" height="` + strconv.Itoa(height) +
		`" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen style="border:0"></iframe>`

	canonical := s.watchURL(v.ID)
	summary := view.Description
	if summary == "" {
		summary = "Watch " + view.Title + " on " + s.cfg.SiteName + "."
	}
	summary = truncateWords(summary, metaDescriptionLength)

	p := s.newPage(view.Title)
	p.Description = summary
	p.Keywords = strings.Join(cleanTags(v.Tags), ", ")
	p.Canonical = canonical
	// Only a playable, public video is worth a search result.
	p.NoIndex = !view.Ready || !v.public()
	if view.Ready && v.public() {
		p.OEmbed = s.oembedURL(v.ID)
	}
	p.Scripts = []string{p.Assets.PlayerJS}
	if !view.Ready {
		p.Scripts = []string{p.Assets.WatchJS}
	}
	p.Body = &view

	p.OpenGraph = []metaTag{
		{"og:type", "video.other"},
		{"og:title", view.Title},
		{"og:description", summary},
		{"og:url", canonical},
	}
	if v.ThumbnailURL != "" {
		p.OpenGraph = append(p.OpenGraph, metaTag{"og:image", v.ThumbnailURL})
	}
	if view.Ready && v.MP4URL != "" {
		p.OpenGraph = append(p.OpenGraph, metaTag{"og:video", v.MP4URL})
		if strings.HasPrefix(v.MP4URL, "https://") {
			p.OpenGraph = append(p.OpenGraph, metaTag{"og:video:secure_url", v.MP4URL})
		}
		p.OpenGraph = append(p.OpenGraph, metaTag{"og:video:type", "video/mp4"})
		if v.Width > 0 && v.Height > 0 {
			p.OpenGraph = append(p.OpenGraph,
				metaTag{"og:video:width", strconv.Itoa(v.Width)},
				metaTag{"og:video:height", strconv.Itoa(v.Height)})
		}
	}
	for _, tag := range cleanTags(v.Tags) {
		p.OpenGraph = append(p.OpenGraph, metaTag{"video:tag", tag})
	}

	// A player card needs a picture and something to play; else a summary.
	if view.Ready && v.ThumbnailURL != "" {
		p.Twitter = []metaTag{
			{"twitter:card", "player"},
			{"twitter:title", view.Title},
			{"twitter:description", summary},
			{"twitter:image", v.ThumbnailURL},
			{"twitter:player", view.EmbedURL},
			{"twitter:player:width", strconv.Itoa(width)},
			{"twitter:player:height", strconv.Itoa(height)},
		}
		if v.MP4URL != "" {
			p.Twitter = append(p.Twitter,
				metaTag{"twitter:player:stream", v.MP4URL},
				metaTag{"twitter:player:stream:content_type", "video/mp4"})
		}
	} else {
		p.Twitter = []metaTag{
			{"twitter:card", "summary"},
			{"twitter:title", view.Title},
			{"twitter:description", summary},
		}
		if v.ThumbnailURL != "" {
			p.Twitter = append(p.Twitter, metaTag{"twitter:image", v.ThumbnailURL})
		}
	}

	if view.Ready {
		p.JSONLD = videoObject{
			Context:      "https://schema.org",
			Type:         "VideoObject",
			Name:         view.Title,
			Description:  firstNonEmpty(view.Description, summary),
			ThumbnailURL: v.ThumbnailURL,
			UploadDate:   v.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
			Duration:     isoDuration(v.DurationS),
			ContentURL:   v.MP4URL,
			EmbedURL:     view.EmbedURL,
			URL:          canonical,
			Keywords:     p.Keywords,
			Width:        v.Width,
			Height:       v.Height,
			InteractionStatistic: &interactionCounter{
				Type: "InteractionCounter", InteractionType: typedThing{Type: "WatchAction"}, Count: v.Views,
			},
			PotentialAction: &seekToAction{Type: "SeekToAction", Target: canonical + "?t={seek_to_second_number}",
				StartOffset: "required name=seek_to_second_number"},
		}
	}
	return p
}

// cleanTags drops empty and repeated tags.
func cleanTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

// truncateWords shortens s to at most max characters, cutting at a space
// when there is one and marking the cut with an ellipsis. Line breaks
// become spaces: a meta description is one line.
func truncateWords(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	// Keep max-1 characters and the ellipsis; prefer to end at a word
	// boundary (a space among the first max characters) when one is not
	// too far back.
	runes := []rune(s)[:max]
	cut := max - 1
	for i := max - 1; i > max/2; i-- {
		if unicode.IsSpace(runes[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(runes[:cut]), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	}) + "…"
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
