package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// oEmbed (https://oembed.com) lets a site that is given a watch URL (a
// CMS, a chat app) embed the player: GET /oembed?url=<watch URL> answers
// a "video" with the <iframe> of the embed page, sized within
// maxwidth/maxheight. Watch pages point to it with a discovery link.

type oembed struct {
	Type            string `json:"type"`
	Version         string `json:"version"`
	Title           string `json:"title"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	ThumbnailURL    string `json:"thumbnail_url,omitempty"`
	ThumbnailWidth  int    `json:"thumbnail_width,omitempty"`
	ThumbnailHeight int    `json:"thumbnail_height,omitempty"`
}

// oembedURL is the discovery link of a watch page.
func (s *Server) oembedURL(id string) string {
	return s.cfg.PublicURL + "/oembed?format=json&url=" + url.QueryEscape(s.watchURL(id))
}

func (s *Server) oembed(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if f := q.Get("format"); f != "" && f != "json" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write([]byte("Only format=json is served.\n"))
		return nil
	}
	u, err := url.Parse(q.Get("url"))
	id, ok := "", false
	if err == nil {
		id, ok = strings.CutPrefix(u.Path, "/watch/")
	}
	if !ok || id == "" || strings.Contains(id, "/") {
		return &pageError{Status: http.StatusNotFound, Message: "url must be the address of a watch page of this site (…/watch/{id})."}
	}
	v, err := s.api.getVideo(r.Context(), id)
	if err != nil {
		return err
	}
	if !v.ready() || !v.public() {
		return &pageError{Status: http.StatusNotFound, Message: "This video cannot be embedded (not ready, or private)."}
	}
	width, height := 640, 360
	if v.Width > 0 && v.Height > 0 {
		width, height = v.Width, v.Height
	}
	// Fit within maxwidth × maxheight, keeping the shape.
	for _, bound := range []struct {
		name  string
		side  *int
		other *int
	}{{"maxwidth", &width, &height}, {"maxheight", &height, &width}} {
		if m, err := strconv.Atoi(q.Get(bound.name)); err == nil && m > 0 && *bound.side > m {
			*bound.other = *bound.other * m / *bound.side
			*bound.side = m
		}
	}
	title := strings.TrimSpace(v.Title)
	if title == "" {
		title = "Untitled video"
	}
	out := oembed{
		Type: "video", Version: "1.0", Title: title, ProviderName: s.cfg.SiteName, ProviderURL: s.cfg.PublicURL + "/",
		HTML: `<iframe src="` + s.embedURL(v.ID) + `" width="` + strconv.Itoa(width) + `" height="` + strconv.Itoa(height) +
			`" title="` + htmlAttr(title) + `" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen style="border:0"></iframe>`,
		Width: width, Height: height, ThumbnailURL: v.ThumbnailURL,
	}
	if v.ThumbnailURL != "" {
		out.ThumbnailWidth, out.ThumbnailHeight = width, height
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	return json.NewEncoder(w).Encode(out)
}

func htmlAttr(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;").Replace(s)
}
