package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Bounds of one sitemap. The protocol allows 50,000 URLs per file; the
// page bound keeps one request from walking an endless list.
const (
	maxSitemapURLs  = 50_000
	sitemapPageSize = 100
	maxSitemapPages = maxSitemapURLs / sitemapPageSize
)

// robots allows everything readable and points crawlers at the sitemap.
func (s *Server) robots(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := fmt.Fprintf(w, "User-agent: *\nDisallow: /api/\nDisallow: /upload\n\nSitemap: %s/sitemap.xml\n", s.cfg.PublicURL)
	return err
}

// sitemapURLSet is a sitemap (sitemaps.org) with Google's video extension.
type sitemapURLSet struct {
	XMLName xml.Name     `xml:"urlset"`
	XMLNS   string       `xml:"xmlns,attr"`
	VideoNS string       `xml:"xmlns:video,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string        `xml:"loc"`
	LastMod string        `xml:"lastmod,omitempty"`
	Video   *sitemapVideo `xml:"video:video,omitempty"`
}

// sitemapVideo needs a thumbnail: Google ignores video entries without one.
type sitemapVideo struct {
	ThumbnailLoc    string   `xml:"video:thumbnail_loc"`
	Title           string   `xml:"video:title"`
	Description     string   `xml:"video:description"`
	ContentLoc      string   `xml:"video:content_loc,omitempty"`
	PlayerLoc       string   `xml:"video:player_loc"`
	Duration        int      `xml:"video:duration,omitempty"`
	PublicationDate string   `xml:"video:publication_date"`
	Tags            []string `xml:"video:tag"`
}

// sitemap lists the watch page of every ready, public video and the live
// page of every stream on the air.
func (s *Server) sitemap(w http.ResponseWriter, r *http.Request) error {
	set := sitemapURLSet{
		XMLNS:   "http://www.sitemaps.org/schemas/sitemap/0.9",
		VideoNS: "http://www.google.com/schemas/sitemap-video/1.1",
	}
	// Live pages first: they matter only while the broadcast lasts, and
	// the bound below must not squeeze them out.
	if err := s.sitemapLive(r.Context(), &set); err != nil {
		return err
	}
	cursor := ""
	for range maxSitemapPages {
		list, err := s.api.listVideos(r.Context(), cursor, sitemapPageSize)
		if err != nil {
			return err
		}
		for i := range list.Videos {
			v := &list.Videos[i]
			if v.ready() && v.public() && len(set.URLs) < maxSitemapURLs {
				set.URLs = append(set.URLs, s.sitemapEntry(v))
			}
		}
		if list.NextCursor == "" || list.NextCursor == cursor {
			break
		}
		cursor = list.NextCursor
	}

	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(set); err != nil {
		return fmt.Errorf("sitemap: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=600")
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Server) sitemapEntry(v *video) sitemapURL {
	entry := sitemapURL{Loc: s.watchURL(v.ID)}
	if !v.CreatedAt.IsZero() {
		entry.LastMod = v.CreatedAt.UTC().Format(time.RFC3339)
	}
	if v.ThumbnailURL == "" {
		return entry
	}
	title := v.Title
	if title == "" {
		title = "Untitled video"
	}
	description := truncateWords(v.Description, 2048)
	if description == "" {
		description = title
	}
	entry.Video = &sitemapVideo{
		ThumbnailLoc:    v.ThumbnailURL,
		Title:           title,
		Description:     description,
		ContentLoc:      v.MP4URL,
		PlayerLoc:       s.embedURL(v.ID),
		Duration:        int(v.DurationS + 0.5),
		PublicationDate: entry.LastMod,
		Tags:            firstTags(cleanTags(v.Tags), 32), // the most Google reads
	}
	return entry
}

func firstTags(tags []string, n int) []string {
	if len(tags) > n {
		return tags[:n]
	}
	return tags
}

// sitemapLive adds the live page of every stream on the air: the pages
// that are indexed (the others say noindex, and a sitemap listing them
// would contradict them). An ended broadcast's page leads to its
// recording, which is listed as a video. A deployment without live
// streaming (the API answers 404) adds nothing. The sitemap is kept ten
// minutes, so a page may stay listed that long after its broadcast ended;
// crawlers then find it noindex, or led to the recording.
//
// Live pages get no video entry: Google ignores one without a thumbnail,
// and a live stream has none.
func (s *Server) sitemapLive(ctx context.Context, set *sitemapURLSet) error {
	cursor := ""
	for range maxSitemapPages {
		list, err := s.api.listLive(ctx, cursor, sitemapPageSize)
		if errors.Is(err, errLiveNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for i := range list.Live {
			ls := &list.Live[i]
			if !ls.onAir() || len(set.URLs) >= maxSitemapURLs {
				continue
			}
			entry := sitemapURL{Loc: s.liveURL(ls.ID)}
			if ls.StartedAt != nil {
				entry.LastMod = ls.StartedAt.UTC().Format(time.RFC3339)
			}
			set.URLs = append(set.URLs, entry)
		}
		if list.NextCursor == "" || list.NextCursor == cursor {
			return nil
		}
		cursor = list.NextCursor
	}
	return nil
}
