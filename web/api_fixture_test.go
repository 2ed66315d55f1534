package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// startAPI runs a real HTTP server on loopback that answers the origin's
// read API (DESIGN.md) from a fixed list of videos, newest first, and
// returns its base URL. It counts the requests it got in *hits when hits
// is not nil.
func startAPI(t *testing.T, videos []video, hits *atomic.Int64) string {
	t.Helper()
	byID := map[string]*video{}
	for i := range videos {
		byID[videos[i].ID] = &videos[i]
	}
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if err := json.NewEncoder(w).Encode(v); err != nil {
			t.Errorf("fixture API: encode: %v", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/videos", func(w http.ResponseWriter, r *http.Request) {
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit < 1 || limit > 100 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a number from 1 to 100."})
			return
		}
		start := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			start = -1
			for i := range videos {
				if videos[i].ID == c {
					start = i
				}
			}
			if start < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "cursor is not one this API gave out; start again without it."})
				return
			}
		}
		end := min(start+limit, len(videos))
		page := map[string]any{"videos": videos[start:end]}
		if end < len(videos) {
			page["next_cursor"] = videos[end].ID
		}
		writeJSON(w, http.StatusOK, page)
	})
	mux.HandleFunc("GET /api/v1/videos/{id}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := byID[r.PathValue("id")]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "No video has this ID."})
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// testPublicURL is the site's public URL in tests; canonical links use it.
const testPublicURL = "https://videos.example.test"

func newTestSite(t *testing.T, apiURL string) *Server {
	t.Helper()
	s, err := New(Config{
		APIURL:    apiURL,
		PublicURL: testPublicURL,
		SiteName:  "Streamfront",
		Logger:    slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// get serves one GET through the site and returns status and body.
func get(t *testing.T, s http.Handler, target string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String(), rec.Result().Header
}

// readyVideo is a packaged video as the origin describes it.
func readyVideo(id string, created time.Time) video {
	media := "http://localhost:8081/videos/" + id
	return video{
		ID:          id,
		Title:       "Big Buck Bunny " + id,
		Description: "A giant rabbit meets three bullies.\nSecond line.",
		Tags:        []string{"animation", "open movie"},
		Status:      statusReady,
		DurationS:   63.5,
		Width:       1280,
		Height:      720,
		Renditions: []rendition{
			{Name: "v720", Width: 1280, Height: 720, Bandwidth: 2_500_000, Codecs: "avc1.64001f,mp4a.40.2"},
			{Name: "v360", Width: 640, Height: 360, Bandwidth: 800_000, Codecs: "avc1.4d401e,mp4a.40.2"},
		},
		HLSURL:       media + "/master.m3u8",
		MP4URL:       media + "/r/v720.mp4",
		ThumbnailURL: media + "/thumbs/poster.jpg",
		PageURL:      "http://localhost:8080/watch/" + id,
		CreatedAt:    created,
	}
}

func fixtureTime(minutesAgo int) time.Time {
	return time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC).Add(-time.Duration(minutesAgo) * time.Minute)
}

func videoID(n int) string { return fmt.Sprintf("v%015d", n) }
