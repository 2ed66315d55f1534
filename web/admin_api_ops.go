package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// The admin API client's calls for the operations pages: the invalidation
// history, the live streams and the encode queue.

// invalidationRecord is one entry of GET /api/v1/invalidations.
type invalidationRecord struct {
	ID    string    `json:"id"`
	Paths []string  `json:"paths"`
	At    time.Time `json:"at"`
	// Why says who asked: "api" for a call with an API key (the origin
	// does not record which key), or the origin's own reason (a video
	// updated or deleted, captions changed).
	Why     string               `json:"why"`
	Applied map[string]time.Time `json:"applied"`
}

// edgeApplied is one edge's application of an invalidation.
type edgeApplied struct {
	Edge  string
	At    time.Time
	After time.Duration // from issue to application
}

// AppliedByEdge lists the edges that applied the invalidation, by name.
func (r invalidationRecord) AppliedByEdge() []edgeApplied {
	out := make([]edgeApplied, 0, len(r.Applied))
	for edge, at := range r.Applied {
		out = append(out, edgeApplied{Edge: edge, At: at, After: max(0, at.Sub(r.At))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Edge < out[j].Edge })
	return out
}

// invalidationHistory reads the last invalidations, newest first.
func (c *apiClient) invalidationHistory(ctx context.Context, key string) ([]invalidationRecord, error) {
	var res struct {
		Invalidations []invalidationRecord `json:"invalidations"`
	}
	if err := c.call(ctx, key, "list invalidations", http.MethodGet, "/api/v1/invalidations", nil, nil, &res); err != nil {
		return nil, err
	}
	return res.Invalidations, nil
}

// adminLiveStream is a live stream as its owner sees it: the public
// fields and the ingest ones only the key holder reads.
type adminLiveStream struct {
	liveStream
	StreamKey   string   `json:"stream_key"`
	RTMPServer  string   `json:"rtmp_server"`
	RTMPSServer string   `json:"rtmps_server"`
	Recordings  []string `json:"recordings"`
	Viewers     int      `json:"viewers"`
	VideoCodec  string   `json:"video"`
	AudioCodec  string   `json:"audio"`
	Ingest      *struct {
		Bitrate          int64   `json:"bitrate"`
		FrameRate        float64 `json:"frame_rate"`
		KeyframeInterval int64   `json:"keyframe_interval"` // nanoseconds
	} `json:"ingest"`
}

// KeyframeSeconds is the ingest's keyframe interval in seconds.
func (l adminLiveStream) KeyframeSeconds() float64 {
	if l.Ingest == nil {
		return 0
	}
	return time.Duration(l.Ingest.KeyframeInterval).Seconds()
}

// liveStreamsPage is one page of GET /api/v1/live.
type liveStreamsPage struct {
	Live       []adminLiveStream `json:"live"`
	NextCursor string            `json:"next_cursor"`
}

// listLiveAs lists live streams as the key holder sees them, newest first.
// A deployment without live streaming answers 404: no streams.
func (c *apiClient) listLiveAs(ctx context.Context, key, cursor string) (*liveStreamsPage, error) {
	q := url.Values{"limit": {"100"}} // the API's largest page
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page liveStreamsPage
	if err := c.call(ctx, key, "list live streams", http.MethodGet, "/api/v1/live", q, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// resetLiveKey gives a live stream a new stream key.
func (c *apiClient) resetLiveKey(ctx context.Context, key, id string) error {
	if !plausibleID.MatchString(id) {
		return errLiveNotFound
	}
	return liveNotFoundAs(c.call(ctx, key, "reset the key of live stream "+id, http.MethodPost, "/api/v1/live/"+url.PathEscape(id)+"/reset-key", nil, nil, nil))
}

// deleteLive removes a live stream (its recordings stay videos).
func (c *apiClient) deleteLive(ctx context.Context, key, id string) error {
	if !plausibleID.MatchString(id) {
		return errLiveNotFound
	}
	return liveNotFoundAs(c.call(ctx, key, "delete live stream "+id, http.MethodDelete, "/api/v1/live/"+url.PathEscape(id), nil, nil, nil))
}

func liveNotFoundAs(err error) error {
	if errors.Is(notFoundAs(err), errVideoNotFound) {
		return errLiveNotFound
	}
	return err
}

// queueReport is GET /api/v1/queue's answer.
type queueReport struct {
	Kinds []struct {
		Kind     string `json:"kind"`
		Waiting  int    `json:"waiting"`
		InFlight int    `json:"in_flight"`
		Error    string `json:"error"`
	} `json:"kinds"`
	Jobs         []queueJob    `json:"jobs"`
	Workers      []queueWorker `json:"workers"`
	WorkersError string        `json:"workers_error"`
	Scanned      int           `json:"scanned"`
	ScanComplete bool          `json:"scan_complete"`
}

// queueWorker is a worker that reported lately, with its encodes.
type queueWorker struct {
	Name       string `json:"name"`
	MaxEncodes int    `json:"max_encodes"`
	Encodes    []struct {
		Video     string    `json:"video"`
		Task      string    `json:"task"`
		StartedAt time.Time `json:"started_at"`
	} `json:"encodes"`
	StartedAt time.Time `json:"started_at"`
	SeenAt    time.Time `json:"seen_at"`
}

// queueJob is a video whose encode is not complete.
type queueJob struct {
	Video         string     `json:"video"`
	Title         string     `json:"title"`
	Status        string     `json:"status"`
	Stage         string     `json:"stage"`
	Percent       float64    `json:"percent"`
	Kind          string     `json:"kind"`
	QueuedAt      *time.Time `json:"queued_at"`
	StartedAt     *time.Time `json:"started_at"`
	QueuePosition int        `json:"queue_position"`
	Worker        string     `json:"worker"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// encodeQueue reads the queue's depth and the unfinished videos.
func (c *apiClient) encodeQueue(ctx context.Context, key string) (*queueReport, error) {
	var rep queueReport
	if err := c.call(ctx, key, "read the encode queue", http.MethodGet, "/api/v1/queue", nil, nil, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}
