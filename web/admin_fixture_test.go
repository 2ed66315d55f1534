package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// adminOrigin is a loopback origin for the dashboard: it answers the keyed
// parts of the API (usage, listing with private videos, edit, delete,
// invalidations) as the OpenAPI document describes them, refuses any
// other key with 401, and records what it was asked to change.
type adminOrigin struct {
	t   *testing.T
	key string
	URL string

	mu          sync.Mutex
	videos      []video
	lives       []liveStream // answered at GET /api/v1/live/{id}, and at GET /api/v1/live without a key
	usageRows   []usageRow   // answered for every group_by, filtered by the query's period
	keyed       int          // calls that carried the right key
	refused     int          // calls refused for the key
	edits       map[string]videoEdit
	deleted     []string
	invalidated [][]string
	history     []invalidationRecord // answered at GET /api/v1/invalidations
	liveKeyed   []adminLiveStream    // answered at GET /api/v1/live
	liveReset   []string
	liveDeleted []string
	queue       *queueReport // answered at GET /api/v1/queue
}

func startAdminOrigin(t *testing.T, key string, videos []video, rows []usageRow) *adminOrigin {
	t.Helper()
	o := &adminOrigin{t: t, key: key, videos: videos, usageRows: rows, edits: map[string]videoEdit{}}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	o.URL = srv.URL
	return o
}

// publicLive answers GET /api/v1/live as anyone reads it: o.lives, a page
// of limit from the stream cursor names, newest first as given.
func (o *adminOrigin) publicLive(w http.ResponseWriter, r *http.Request) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		o.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a number from 1 to 100."})
		return
	}
	start := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		start = slices.IndexFunc(o.lives, func(ls liveStream) bool { return ls.ID == c })
		if start < 0 {
			o.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "cursor is not one this API gave out; start again without it."})
			return
		}
	}
	end := min(start+limit, len(o.lives))
	page := map[string]any{"live": append([]liveStream{}, o.lives[start:end]...)}
	if end < len(o.lives) {
		page["next_cursor"] = o.lives[end].ID
	}
	o.writeJSON(w, http.StatusOK, page)
}

func (o *adminOrigin) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		o.t.Errorf("fixture origin: %v", err)
	}
}

func (o *adminOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	hasKey := r.Header.Get("Authorization") == "Bearer "+o.key
	keyed := r.Method != http.MethodGet || r.URL.Path == "/api/v1/usage" || r.URL.Path == "/api/v1/invalidations" || r.URL.Path == "/api/v1/queue"
	if keyed && !hasKey {
		o.refused++
		w.Header().Set("WWW-Authenticate", "Bearer")
		o.writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "The API key is missing or wrong."})
		return
	}
	if hasKey {
		o.keyed++
	}
	id := strings.TrimPrefix(r.URL.Path, "/api/v1/videos/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/usage":
		o.usage(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/videos":
		var list []video
		for _, v := range o.videos {
			if v.public() || hasKey {
				list = append(list, v)
			}
		}
		o.writeJSON(w, http.StatusOK, map[string]any{"videos": list})
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/invalidations":
		hist := o.history
		if hist == nil {
			hist = []invalidationRecord{}
		}
		o.writeJSON(w, http.StatusOK, map[string]any{"invalidations": hist})
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/queue":
		if o.queue == nil {
			o.writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "The origin is not connected to its queue yet; try again in a few seconds."})
			return
		}
		o.writeJSON(w, http.StatusOK, o.queue)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/live" && !hasKey:
		o.publicLive(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/live":
		list := o.liveKeyed
		if list == nil {
			list = []adminLiveStream{}
		}
		o.writeJSON(w, http.StatusOK, map[string]any{"live": list})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v1/live/") && strings.HasSuffix(r.URL.Path, "/reset-key"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/live/"), "/reset-key")
		for _, ls := range o.liveKeyed {
			if ls.ID == id {
				o.liveReset = append(o.liveReset, id)
				ls.StreamKey = "new-key"
				o.writeJSON(w, http.StatusOK, ls)
				return
			}
		}
		o.writeJSON(w, http.StatusNotFound, map[string]string{"error": "There is no live stream with this ID."})
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v1/live/"):
		o.liveDeleted = append(o.liveDeleted, strings.TrimPrefix(r.URL.Path, "/api/v1/live/"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/live/"):
		for _, ls := range o.lives {
			if ls.ID == strings.TrimPrefix(r.URL.Path, "/api/v1/live/") {
				o.writeJSON(w, http.StatusOK, ls)
				return
			}
		}
		o.writeJSON(w, http.StatusNotFound, map[string]string{"error": "There is no live stream with this ID."})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/videos/"):
		if v := o.find(id); v != nil {
			o.writeJSON(w, http.StatusOK, v)
			return
		}
		o.writeJSON(w, http.StatusNotFound, map[string]string{"error": "No video has this ID."})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/videos/"):
		var e videoEdit
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil || e.Tags == nil {
			o.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Send title, description, tags (an array) and visibility as JSON."})
			return
		}
		v := o.find(id)
		if v == nil {
			o.writeJSON(w, http.StatusNotFound, map[string]string{"error": "No video has this ID."})
			return
		}
		o.edits[id] = e
		v.Title, v.Description, v.Tags, v.Visibility = e.Title, e.Description, e.Tags, e.Visibility
		o.writeJSON(w, http.StatusOK, v)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v1/videos/"):
		o.deleted = append(o.deleted, id)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/invalidations":
		var body struct {
			Paths []string `json:"paths"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Paths) == 0 {
			o.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Send the paths to invalidate."})
			return
		}
		o.invalidated = append(o.invalidated, body.Paths)
		o.writeJSON(w, http.StatusAccepted, map[string]any{"paths": body.Paths, "edges": []map[string]any{
			{"edge": "edge-1", "status": "applied", "removed": 3},
			{"edge": "edge-2", "status": "retrying", "removed": 0, "error": "connection refused"},
		}})
	default:
		http.NotFound(w, r)
	}
}

func (o *adminOrigin) find(id string) *video {
	for i := range o.videos {
		if o.videos[i].ID == id {
			return &o.videos[i]
		}
	}
	return nil
}

// usage answers the rows inside [from, to) with totals and an estimate.
func (o *adminOrigin) usage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := time.Parse(time.RFC3339, q.Get("from"))
	to, err2 := time.Parse(time.RFC3339, q.Get("to"))
	if err1 != nil || err2 != nil {
		o.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "from and to must be RFC 3339 times."})
		return
	}
	gran := q.Get("granularity")
	step := time.Hour
	if gran == "day" {
		step = 24 * time.Hour
	}
	from = from.Truncate(step)
	rep := usageReport{From: from, To: to, Granularity: gran, GroupBy: q.Get("group_by")}
	for _, row := range o.usageRows {
		if row.Start.Before(from) || !row.Start.Before(to) {
			continue
		}
		row.Start = row.Start.Truncate(step)
		rep.Rows = append(rep.Rows, row)
		rep.Totals.BytesOut += row.BytesOut
		rep.Totals.Requests += row.Requests
		rep.Totals.OriginBytes += row.OriginBytes
		rep.Totals.DeliveredSeconds += row.DeliveredSeconds
	}
	if rep.Rows == nil {
		rep.Rows = []usageRow{}
	}
	rep.Estimate.Currency = "USD"
	rep.Estimate.PayAsYouGo = billingPlan{Name: "CloudFront-like", Total: 12.34}
	rep.Estimate.PerMinute = billingPlan{Name: "per minute", Total: 5.67}
	o.writeJSON(w, http.StatusOK, rep)
}

// withOperations gives the fixture origin an invalidation history, live
// streams in each state and an encode queue, for the operations pages.
func (o *adminOrigin) withOperations() {
	o.mu.Lock()
	defer o.mu.Unlock()
	at := fixtureTime(6)
	o.history = []invalidationRecord{
		{ID: "inv_2", Paths: []string{"/videos/" + videoID(1) + "/*", "/watch/" + videoID(1)}, At: at, Why: "api",
			Applied: map[string]time.Time{"edge-1": at.Add(200 * time.Millisecond), "edge-2": at.Add(45 * time.Minute)}},
		{ID: "inv_1", Paths: []string{"/watch/" + videoID(2)}, At: at.Add(-time.Hour), Why: "updated", Applied: map[string]time.Time{}},
	}
	started := fixtureTime(7)
	on := adminLiveStream{liveStream: liveStream{ID: videoID(7), Title: "Morning show", Latency: "low", Status: liveLive, StartedAt: &started},
		RTMPServer: "rtmp://origin.test/live", StreamKey: "sk_fixture", Viewers: 3}
	on.Ingest = &struct {
		Bitrate          int64   `json:"bitrate"`
		FrameRate        float64 `json:"frame_rate"`
		KeyframeInterval int64   `json:"keyframe_interval"`
	}{Bitrate: 2_500_000, FrameRate: 30, KeyframeInterval: int64(2 * time.Second)}
	o.liveKeyed = []adminLiveStream{on,
		{liveStream: liveStream{ID: videoID(8), Title: "Rehearsal", Latency: "standard", Status: liveIdle, Error: "The encoder sent H.265; send H.264."}},
		{liveStream: liveStream{ID: videoID(9), Title: "Last week", Status: liveEnded, VideoID: videoID(1), Record: true}, Recordings: []string{videoID(1)}},
	}
	queued := fixtureTime(8)
	o.queue = &queueReport{Scanned: 3, ScanComplete: true, Jobs: []queueJob{
		{Video: videoID(3), Title: "Keynote", Status: statusProcessing, Stage: "encoding 720p", Percent: 42, Kind: "encode-ladder", StartedAt: &started},
		{Video: videoID(4), Title: "Q&A", Status: statusReady, Stage: "queued for encoding", Kind: "encode-ladder", QueuedAt: &queued, QueuePosition: 1},
	}}
	for _, k := range []string{"package", "encode-first", "encode-ladder"} {
		o.queue.Kinds = append(o.queue.Kinds, struct {
			Kind     string `json:"kind"`
			Waiting  int    `json:"waiting"`
			InFlight int    `json:"in_flight"`
			Error    string `json:"error"`
		}{Kind: k, Waiting: len(k) % 2, InFlight: 1})
	}
}
