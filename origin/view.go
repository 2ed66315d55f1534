package origin

import (
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/catalog"
)

// videoView is the public Video JSON of DESIGN.md.
type videoView struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Tags        []string       `json:"tags"`
	Visibility  string         `json:"visibility"`
	Status      catalog.Status `json:"status"`
	Error       string         `json:"error,omitempty"`
	Stage       string         `json:"stage,omitempty"`
	Percent     float64        `json:"percent"`
	// QueuePosition is the place in line of a video whose encode waits for
	// a worker (1: next); EstimatedCompleteAt is when a running encode
	// should end, from its pace so far. Both additive to DESIGN.md.
	QueuePosition       int             `json:"queue_position,omitempty"`
	EstimatedCompleteAt *time.Time      `json:"estimated_complete_at,omitempty"`
	DurationS           float64         `json:"duration_s"`
	Width               int             `json:"width"`
	Height              int             `json:"height"`
	Renditions          []renditionView `json:"renditions"`
	HLSURL              string          `json:"hls_url"`
	MP4URL              string          `json:"mp4_url"`
	ThumbnailURL        string          `json:"thumbnail_url"`
	// StoryboardURL is a WebVTT map of scrub thumbnails (additive to the
	// DESIGN.md contract).
	StoryboardURL string `json:"storyboard_url,omitempty"`
	PageURL       string `json:"page_url"`
	// Captions are the caption tracks (WebVTT), also in the master playlist.
	Captions []captionView `json:"captions"`
	Views    int64         `json:"views"`
	// Storage is what the video keeps in S3 (once complete), and its
	// minutes, the unit of per-minute storage plans.
	Storage *storageView `json:"storage,omitempty"`
	// Usage is what the edges delivered of the video over the last 30
	// days (GET of one video only).
	Usage     *usage.Totals `json:"usage,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
}

type captionView struct {
	Lang string `json:"lang"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

type renditionView struct {
	Name      string `json:"name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bandwidth int64  `json:"bandwidth"`
	Codecs    string `json:"codecs"`
}

func (s *Server) view(v *catalog.Video) videoView {
	out := videoView{
		ID: v.ID, Title: v.Title, Description: v.Description, Tags: v.Tags, Visibility: v.Visibility,
		Status: v.Status, Error: v.Error, Stage: v.Stage, Percent: v.Percent,
		DurationS: v.DurationS, Width: v.Width, Height: v.Height,
		Renditions: []renditionView{},
		Captions:   []captionView{},
		PageURL:    s.cfg.WebURL + "/watch/" + v.ID,
		Views:      v.Views,
		Storage:    storageOf(v),
		CreatedAt:  v.CreatedAt,
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if v.Stage != "" && v.Stage != stageQueued && v.Percent >= 2 && v.Percent < 100 && !v.EncodeStarted.IsZero() {
		elapsed := v.UpdatedAt.Sub(v.EncodeStarted)
		eta := v.EncodeStarted.Add(time.Duration(float64(elapsed) * 100 / v.Percent)).Truncate(time.Second)
		out.EstimatedCompleteAt = &eta
	}
	for _, r := range v.Renditions {
		out.Renditions = append(out.Renditions, renditionView{Name: r.Name, Width: r.Width, Height: r.Height, Bandwidth: r.Bandwidth, Codecs: r.Codecs})
	}
	if v.Status == catalog.Ready && playable(v) {
		base := s.cfg.MediaURL + "/videos/" + v.ID
		// A private video's URLs are signed for its whole prefix: the
		// edges carry the token from the master playlist to every child.
		q := ""
		if v.Visibility == catalog.Private {
			q = s.signedQuery(v.ID, time.Now())
		}
		out.HLSURL = base + "/master.m3u8" + q
		if len(v.Renditions) > 0 { // none while only a recording's or the growing HLS plays
			out.MP4URL = base + "/r/" + progressiveRendition(v).Name + ".mp4" + q
		}
		for _, c := range v.Captions {
			out.Captions = append(out.Captions, captionView{Lang: c.Lang, Name: c.Name, URL: base + "/hls/" + captionsName + "/" + c.Lang + ".vtt" + q})
		}
		if v.Thumbs != nil {
			out.ThumbnailURL = base + "/thumbs/poster.jpg" + q
			out.StoryboardURL = base + "/thumbs/storyboard.vtt" + q
		}
	}
	return out
}

// progressiveRendition is the rendition offered for download: the tallest
// H.264 one at most 1080 lines tall (what every browser plays), else the
// first.
func progressiveRendition(v *catalog.Video) *catalog.Rendition {
	var best *catalog.Rendition
	for i := range v.Renditions {
		r := &v.Renditions[i]
		if strings.HasPrefix(r.Codecs, "avc1") && r.Height <= 1080 && (best == nil || r.Height > best.Height) {
			best = r
		}
	}
	if best == nil {
		best = &v.Renditions[0]
	}
	return best
}

type storageView struct {
	catalog.Storage
	TotalBytes int64   `json:"total_bytes"`
	Minutes    float64 `json:"minutes"`
}

func storageOf(v *catalog.Video) *storageView {
	if v.Storage == nil {
		return nil
	}
	return &storageView{Storage: *v.Storage, TotalBytes: v.Storage.Total(), Minutes: v.DurationS / 60}
}
