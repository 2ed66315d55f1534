package web

import (
	"net/http"
	"net/url"
)

// libraryView is the library page's Body.
type libraryView struct {
	Videos    []video
	NextURL   string // older videos, "" on the last page
	FirstPage bool
}

// library lists videos, newest first, a page at a time. The API's
// next_cursor becomes ?cursor= on the "Older videos" link.
func (s *Server) library(w http.ResponseWriter, r *http.Request) error {
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" && !plausibleID.MatchString(cursor) {
		return &pageError{Status: http.StatusBadRequest, Message: "That page of the library does not exist; start again from the newest videos."}
	}
	list, err := s.api.listVideos(r.Context(), cursor, libraryPageSize)
	if err != nil {
		return err
	}
	view := libraryView{FirstPage: cursor == ""}
	for _, v := range list.Videos {
		if v.public() {
			view.Videos = append(view.Videos, v)
		}
	}
	if list.NextCursor != "" {
		view.NextURL = "/?" + url.Values{"cursor": {list.NextCursor}}.Encode()
	}

	p := s.newPage("")
	p.Nav = "library"
	p.Description = "Videos on " + s.cfg.SiteName + ", streamed with seekable HLS or downloaded as MP4."
	if view.FirstPage {
		p.Canonical = s.cfg.PublicURL + "/"
	} else {
		p.Title = "Older videos · " + s.cfg.SiteName
		p.Canonical = s.cfg.PublicURL + "/?" + url.Values{"cursor": {cursor}}.Encode()
	}
	p.OpenGraph = []metaTag{
		{"og:type", "website"},
		{"og:title", p.Title},
		{"og:description", p.Description},
		{"og:url", p.Canonical},
	}
	p.Body = view
	w.Header().Set("Cache-Control", sharedPageCacheControl)
	return s.render(w, http.StatusOK, "library", p)
}
