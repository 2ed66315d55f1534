package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// The live page is /live/{id}, the page_url the API gives a live stream:
// live streams and videos have IDs of one kind but are different things
// (a stream broadcasts many times, and each broadcast's recording is a
// video with its own /watch page), so they have pages of their own.

// liveView is the live page's Body.
type liveView struct {
	Stream      *liveStream
	Title       string
	Description string
	// OnAir: the broadcast's HLS answers (live, or waiting for its
	// encoder within the reconnect window).
	OnAir bool
	// DVRURL is the DVR playlist ("" for a stream that does not record).
	DVRURL string
	// Started is when the broadcast began (zero when unknown).
	Started time.Time
}

// broadcastEvent is schema.org's BroadcastEvent, as Google reads a live
// VideoObject's publication.
type broadcastEvent struct {
	Type            string `json:"@type"`
	IsLiveBroadcast bool   `json:"isLiveBroadcast"`
	StartDate       string `json:"startDate,omitempty"`
	EndDate         string `json:"endDate,omitempty"`
}

// liveObject is the live page's VideoObject, with its publication.
type liveObject struct {
	Context     string          `json:"@context"`
	Type        string          `json:"@type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	UploadDate  string          `json:"uploadDate"`
	URL         string          `json:"url"`
	Keywords    string          `json:"keywords,omitempty"`
	Publication *broadcastEvent `json:"publication"`
}

// live renders a live stream's page. A stream whose last broadcast ended
// with a recording sends the viewer to the recording's watch page.
func (s *Server) live(w http.ResponseWriter, r *http.Request) error {
	ls, err := s.api.getLive(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	if ls.Status == liveEnded && ls.VideoID != "" {
		w.Header().Set("Cache-Control", "no-cache")
		http.Redirect(w, r, "/watch/"+url.PathEscape(ls.VideoID), http.StatusFound)
		return nil
	}
	// The status changes any moment: an edge in front keeps the page a few
	// seconds only.
	w.Header().Set("Cache-Control", "public, max-age=0, s-maxage=2")
	return s.render(w, http.StatusOK, "live", s.livePage(ls))
}

func (s *Server) liveURL(id string) string {
	return s.cfg.PublicURL + "/live/" + url.PathEscape(id)
}

// livePage builds the live page of ls with its metadata.
func (s *Server) livePage(ls *liveStream) *page {
	view := liveView{
		Stream:      ls,
		Title:       strings.TrimSpace(ls.Title),
		Description: strings.TrimSpace(ls.Description),
		OnAir:       ls.onAir(),
	}
	if view.Title == "" {
		view.Title = "Live stream"
	}
	if ls.Record && ls.DVRWindowS > 0 {
		view.DVRURL = ls.DVRURL
	}
	if ls.StartedAt != nil {
		view.Started = *ls.StartedAt
	}
	canonical := s.liveURL(ls.ID)
	summary := view.Description
	if summary == "" {
		summary = "Watch " + view.Title + " live on " + s.cfg.SiteName + "."
	}
	summary = truncateWords(summary, metaDescriptionLength)

	p := s.newPage(view.Title)
	p.Description = summary
	p.Keywords = strings.Join(cleanTags(ls.Tags), ", ")
	p.Canonical = canonical
	p.NoIndex = !view.OnAir
	p.Body = &view
	p.Scripts = []string{p.Assets.LiveJS}
	if view.OnAir {
		p.Scripts = []string{p.Assets.PlayerJS}
	}
	p.OpenGraph = []metaTag{
		{"og:type", "video.other"},
		{"og:title", view.Title},
		{"og:description", summary},
		{"og:url", canonical},
	}
	p.Twitter = []metaTag{
		{"twitter:card", "summary"},
		{"twitter:title", view.Title},
		{"twitter:description", summary},
	}
	if view.OnAir {
		ev := &broadcastEvent{Type: "BroadcastEvent", IsLiveBroadcast: true}
		if ls.StartedAt != nil {
			ev.StartDate = ls.StartedAt.UTC().Format("2006-01-02T15:04:05Z07:00")
		}
		if ls.EndedAt != nil {
			ev.EndDate = ls.EndedAt.UTC().Format("2006-01-02T15:04:05Z07:00")
		}
		p.JSONLD = liveObject{
			Context:     "https://schema.org",
			Type:        "VideoObject",
			Name:        view.Title,
			Description: firstNonEmpty(view.Description, summary),
			UploadDate:  firstNonEmpty(ev.StartDate, ls.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00")),
			URL:         canonical,
			Keywords:    p.Keywords,
			Publication: ev,
		}
	}
	return p
}
