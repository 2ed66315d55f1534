package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// This file is the site's client of the origin's public API (DESIGN.md,
// "Public API contract"). The site decodes the API into its own small types
// rather than importing the origin, so the two can be deployed apart.

// maxAPIResponse bounds what the site reads from one API answer. A page of
// 100 videos is far below it; it keeps a confused upstream from exhausting
// memory.
const maxAPIResponse = 8 << 20

// errVideoNotFound is returned when the API does not know a video ID.
var errVideoNotFound = errors.New("video not found")

// apiError is a failed API call other than a missing video: the API did not
// answer, or answered with an error status or unreadable JSON.
type apiError struct {
	Op     string // what the site asked for, e.g. "list videos"
	Status int    // HTTP status, 0 when there was no answer
	Err    error
}

func (e *apiError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("video API: %s: HTTP %d: %v", e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("video API: %s: %v", e.Op, e.Err)
}

func (e *apiError) Unwrap() error { return e.Err }

// video is the API's Video.
type video struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Visibility  string   `json:"visibility"` // "" or "public" is listed and indexed
	Status      string   `json:"status"`     // uploading, processing, ready or failed
	Error       string   `json:"error"`
	Stage       string   `json:"stage"`   // current packaging stage, while processing
	Percent     float64  `json:"percent"` // 0–100, while processing
	// QueuePosition is the encode's place in line for a worker (1: next),
	// while it waits.
	QueuePosition int         `json:"queue_position"`
	DurationS     float64     `json:"duration_s"`
	Width         int         `json:"width"`
	Height        int         `json:"height"`
	Renditions    []rendition `json:"renditions"`
	HLSURL        string      `json:"hls_url"`
	MP4URL        string      `json:"mp4_url"`
	ThumbnailURL  string      `json:"thumbnail_url"`
	// StoryboardURL is the WebVTT map of scrub thumbnails, when made.
	StoryboardURL string `json:"storyboard_url"`
	PageURL       string `json:"page_url"`
	Views         int64  `json:"views"`
	// Captions are the caption tracks (also in the master playlist).
	Captions  []caption `json:"captions"`
	CreatedAt time.Time `json:"created_at"`
}

// caption is one caption track of a video.
type caption struct {
	Lang string `json:"lang"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Video statuses.
const (
	statusUploading  = "uploading"
	statusProcessing = "processing"
	statusReady      = "ready"
	statusFailed     = "failed"
)

func (v *video) ready() bool { return v.Status == statusReady && v.HLSURL != "" }

// public reports whether the video may be listed in the sitemap and indexed.
func (v *video) public() bool { return v.Visibility == "" || v.Visibility == "public" }

type rendition struct {
	Name      string `json:"name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bandwidth int64  `json:"bandwidth"`
	Codecs    string `json:"codecs"`
}

// videoPage is one page of GET /api/v1/videos.
type videoPage struct {
	Videos     []video `json:"videos"`
	NextCursor string  `json:"next_cursor"`
}

// plausibleID accepts what a video ID or list cursor can look like, so that
// nothing else is sent to the API. It is deliberately looser than the
// origin's own format, which is the origin's to change.
var plausibleID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// apiClient reads the origin's API.
type apiClient struct {
	base   *url.URL // APIURL
	client *http.Client
}

// listVideos returns up to limit videos, newest first, starting at cursor
// ("" for the newest).
func (c *apiClient) listVideos(ctx context.Context, cursor string, limit int) (*videoPage, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page videoPage
	if err := c.getJSON(ctx, "list videos", "/api/v1/videos", q, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// getVideo returns one video, or errVideoNotFound.
func (c *apiClient) getVideo(ctx context.Context, id string) (*video, error) {
	if !plausibleID.MatchString(id) {
		return nil, errVideoNotFound
	}
	var v video
	err := c.getJSON(ctx, "get video "+id, "/api/v1/videos/"+url.PathEscape(id), nil, &v)
	if apiErr := (*apiError)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil, errVideoNotFound
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (c *apiClient) getJSON(ctx context.Context, op, path string, query url.Values, into any) error {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return &apiError{Op: op, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return &apiError{Op: op, Err: err}
	}
	defer res.Body.Close()
	body := io.LimitReader(res.Body, maxAPIResponse)
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(body).Decode(&e)
		if e.Error == "" {
			e.Error = http.StatusText(res.StatusCode)
		}
		return &apiError{Op: op, Status: res.StatusCode, Err: errors.New(e.Error)}
	}
	if err := json.NewDecoder(body).Decode(into); err != nil {
		return &apiError{Op: op, Status: res.StatusCode, Err: fmt.Errorf("decode the answer: %w", err)}
	}
	return nil
}

// errLiveNotFound is returned when the API does not know a live stream ID
// (or the deployment has no live streaming).
var errLiveNotFound = errors.New("live stream not found")

// liveStream is the API's LiveStream, as the live page reads it.
type liveStream struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Latency     string   `json:"latency"` // "low" or "standard"
	Record      bool     `json:"record"`
	DVRWindowS  int      `json:"dvr_window_s"`
	HLSURL      string   `json:"hls_url"`
	DVRURL      string   `json:"dvr_url"`
	PageURL     string   `json:"page_url"`
	Status      string   `json:"status"` // idle, live or ended
	Error       string   `json:"error"`
	Broadcast   int      `json:"broadcast"`
	// VideoID is the recording of the last broadcast that has one.
	VideoID string `json:"video_id"`
	// StartedAt and EndedAt bound the current or last broadcast.
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// Live stream statuses.
const (
	liveIdle  = "idle"
	liveLive  = "live"
	liveEnded = "ended"
)

// onAir reports whether ls has a broadcast on: live, or waiting for its
// encoder within the reconnect window. Only then does its page play it, and
// only then is the page indexed.
func (ls *liveStream) onAir() bool {
	return ls.HLSURL != "" && (ls.Status == liveLive || (ls.Status == liveIdle && ls.StartedAt != nil && ls.EndedAt == nil))
}

// livePage is one page of GET /api/v1/live, as anyone may read it (no
// stream keys).
type livePage struct {
	Live       []liveStream `json:"live"`
	NextCursor string       `json:"next_cursor"`
}

// listLive returns up to limit live streams, newest first, starting at
// cursor; errLiveNotFound when the deployment has no live streaming.
func (c *apiClient) listLive(ctx context.Context, cursor string, limit int) (*livePage, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page livePage
	err := c.getJSON(ctx, "list live streams", "/api/v1/live", q, &page)
	if apiErr := (*apiError)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil, errLiveNotFound
	}
	if err != nil {
		return nil, err
	}
	return &page, nil
}

// getLive returns one live stream, or errLiveNotFound.
func (c *apiClient) getLive(ctx context.Context, id string) (*liveStream, error) {
	if !plausibleID.MatchString(id) {
		return nil, errLiveNotFound
	}
	var ls liveStream
	err := c.getJSON(ctx, "get live stream "+id, "/api/v1/live/"+url.PathEscape(id), nil, &ls)
	if apiErr := (*apiError)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil, errLiveNotFound
	}
	if err != nil {
		return nil, err
	}
	return &ls, nil
}
