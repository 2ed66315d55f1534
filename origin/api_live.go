package origin

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/live"
)

// The live streams' API: create (API key), read (public; the key and the
// RTMP URL only to the key holder), edit, delete, reset the key.
func (s *Server) liveRoutes(r chi.Router) {
	r.Use(s.requireLive)
	r.With(s.requireKey).Post("/", s.handle(s.createLive))
	r.Get("/", s.handle(s.listLive))
	r.Get("/{id}", s.handle(s.getLive))
	r.With(s.requireKey).Patch("/{id}", s.handle(s.patchLive))
	r.With(s.requireKey).Delete("/{id}", s.handle(s.deleteLive))
	r.With(s.requireKey).Post("/{id}/reset-key", s.handle(s.resetLiveKey))
	r.Get("/{id}/events", s.handle(s.liveEvents))
}

// requireLive answers 404 with a reason when this origin has no live
// streaming configured.
func (s *Server) requireLive(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.live == nil {
			writeError(w, r, http.StatusNotFound, "Live streaming is not turned on in this deployment (the origin's live settings).")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Bounds of a live stream's settings.
const (
	defaultDVRWindow = 7200
	maxDVRWindow     = 48 * 3600
)

// liveView is the public LiveStream JSON. DVRURL is the DVR playlist (the
// recorded window, live_dvr.go); StartedAt and EndedAt bound the current
// or last broadcast.
type liveView struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Latency     string   `json:"latency"`
	Record      bool     `json:"record"`
	DVRWindowS  int      `json:"dvr_window_s"`
	// Ladder asks for renditions below the source; Rungs are those on air.
	Ladder bool     `json:"ladder"`
	Rungs  []string `json:"rungs"`
	// StreamKey and RTMPURL are secrets: shown to the key holder only.
	StreamKey string `json:"stream_key,omitempty"`
	RTMPURL   string `json:"rtmp_url,omitempty"`
	// RTMPServer and the key are what OBS asks for separately.
	RTMPServer string `json:"rtmp_server,omitempty"`
	// RTMPSURL and RTMPSServer are the same over TLS, when the origin
	// takes RTMPS.
	RTMPSURL    string            `json:"rtmps_url,omitempty"`
	RTMPSServer string            `json:"rtmps_server,omitempty"`
	HLSURL      string            `json:"hls_url"`
	DVRURL      string            `json:"dvr_url"`
	PageURL     string            `json:"page_url"`
	Status      string            `json:"status"`
	Error       string            `json:"error,omitempty"`
	Broadcast   int               `json:"broadcast"`
	VideoID     string            `json:"video_id,omitempty"`
	Recordings  []string          `json:"recordings"`
	StartedAt   *time.Time        `json:"started_at,omitempty"`
	EndedAt     *time.Time        `json:"ended_at,omitempty"`
	Video       string            `json:"video,omitempty"`
	Audio       string            `json:"audio,omitempty"`
	Ingest      *live.IngestStats `json:"ingest,omitempty"`
	Viewers     int               `json:"viewers"`
	CreatedAt   time.Time         `json:"created_at"`
}

// liveView shows rec, with what this origin's manager knows now when it
// hosts the broadcast (the record lags it by an S3 write).
func (s *Server) liveView(rec *liveStream, secrets bool) liveView {
	out := liveView{
		ID: rec.ID, Title: rec.Title, Description: rec.Description, Tags: rec.Tags,
		Latency: rec.Latency, Record: rec.Record, DVRWindowS: rec.DVRWindowS, Ladder: rec.Ladder, Rungs: []string{},
		HLSURL:  s.cfg.MediaURL + "/videos/" + rec.ID + "/master.m3u8",
		DVRURL:  s.cfg.MediaURL + "/videos/" + rec.ID + "/dvr.m3u8",
		PageURL: s.cfg.WebURL + "/live/" + rec.ID,
		Status:  rec.Status, Error: rec.Error, Broadcast: rec.Broadcast,
		VideoID: rec.VideoID, Recordings: rec.Recordings, CreatedAt: rec.CreatedAt,
		StartedAt: rec.StartedAt, EndedAt: rec.EndedAt,
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if out.Recordings == nil {
		out.Recordings = []string{}
	}
	if secrets {
		out.StreamKey = rec.StreamKey
		out.RTMPServer = s.live.cfg.RTMPURL
		out.RTMPURL = s.live.cfg.RTMPURL + "/" + rec.StreamKey
		if s.live.cfg.rtmps() {
			out.RTMPSServer = s.live.cfg.RTMPSURL
			out.RTMPSURL = s.live.cfg.RTMPSURL + "/" + rec.StreamKey
		}
	}
	if st := s.live.m.Status(rec.ID); st.Broadcast > 0 && st.Broadcast >= rec.Broadcast {
		out.Status, out.Broadcast = string(st.State), st.Broadcast
		if st.Reason != "" {
			out.Error = st.Reason
		}
		if st.State == live.StateLive {
			out.Error = ""
			out.Video, out.Audio, out.Ingest = st.Video, st.Audio, st.Ingest
		}
		if out.Status != liveEnded && st.Rungs != nil {
			out.Rungs = st.Rungs
		}
		if out.Status != liveEnded {
			out.Viewers = st.Viewers
		}
	} else if st.Reason != "" && rec.Status != liveLive {
		out.Error = st.Reason
	}
	return out
}

// liveInput is what POST takes.
type liveInput struct {
	Title       *string   `json:"title"`
	Description *string   `json:"description"`
	Tags        *[]string `json:"tags"`
	Latency     *string   `json:"latency"`
	Record      *bool     `json:"record"`
	DVRWindowS  *int      `json:"dvr_window_s"`
	Ladder      *bool     `json:"ladder"`
}

func (s *Server) createLive(w http.ResponseWriter, r *http.Request) error {
	var in liveInput
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "The body must be JSON with any of title, description, tags, latency, record, dvr_window_s, ladder: "+err.Error())
	}
	meta := metadata{title: in.Title, description: in.Description, tags: in.Tags}
	if err := meta.validate(); err != nil {
		return err
	}
	rec := &liveStream{ID: catalog.NewID(time.Now()), Title: "Live stream", Latency: string(live.LatencyLow),
		Record: true, DVRWindowS: defaultDVRWindow, Status: liveIdle}
	if in.Latency != nil {
		if *in.Latency != string(live.LatencyLow) && *in.Latency != string(live.LatencyStandard) {
			return errorf(http.StatusBadRequest, `latency must be "low" (LL-HLS, about 2 s) or "standard" (plain HLS, about 4 s with a keyframe a second).`)
		}
		rec.Latency = *in.Latency
	}
	if in.Record != nil {
		rec.Record = *in.Record
	}
	if in.Ladder != nil {
		rec.Ladder = *in.Ladder
	}
	if in.DVRWindowS != nil {
		if *in.DVRWindowS < 0 || *in.DVRWindowS > maxDVRWindow {
			return errorf(http.StatusBadRequest, "dvr_window_s must be from 0 to "+strconv.Itoa(maxDVRWindow)+" seconds.")
		}
		rec.DVRWindowS = *in.DVRWindowS
	}
	if meta.title != nil && *meta.title != "" {
		rec.Title = *meta.title
	}
	if meta.description != nil {
		rec.Description = *meta.description
	}
	if meta.tags != nil {
		rec.Tags = *meta.tags
	}
	rec.StreamKey = newStreamKey(rec.ID)
	if err := s.live.streams.create(r.Context(), rec); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/live/"+rec.ID)
	return writeJSON(w, http.StatusCreated, s.liveView(rec, true))
}

func (s *Server) listLive(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := page(r)
	if err != nil {
		return err
	}
	recs, next, err := s.live.streams.list(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	out := struct {
		Live       []liveView `json:"live"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{Live: []liveView{}, NextCursor: next}
	secrets := s.hasKey(r)
	for _, rec := range recs {
		out.Live = append(out.Live, s.liveView(rec, secrets))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getLive(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.live.streams.get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.liveView(rec, s.hasKey(r)))
}

func (s *Server) patchLive(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		Title       *string   `json:"title"`
		Description *string   `json:"description"`
		Tags        *[]string `json:"tags"`
		Ladder      *bool     `json:"ladder"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return errorf(http.StatusBadRequest, "The body must be JSON with any of title, description, tags, ladder: "+err.Error())
	}
	meta := metadata{title: p.Title, description: p.Description, tags: p.Tags}
	if err := meta.validate(); err != nil {
		return err
	}
	rec, err := s.live.streams.update(r.Context(), chi.URLParam(r, "id"), func(rec *liveStream) error {
		if meta.title != nil && strings.TrimSpace(*meta.title) != "" {
			rec.Title = *meta.title
		}
		if meta.description != nil {
			rec.Description = *meta.description
		}
		if meta.tags != nil {
			rec.Tags = *meta.tags
		}
		// From the next broadcast on: the key check reads it.
		if p.Ladder != nil {
			rec.Ladder = *p.Ladder
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.liveView(rec, true))
}

// deleteLive ends the broadcast on this origin and removes the stream and
// its recorded segments; its recordings stay as videos.
func (s *Server) deleteLive(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	rec, err := s.live.streams.get(r.Context(), id)
	if err != nil {
		return err
	}
	// The record goes first: an encoder reconnecting meanwhile finds no key.
	if err := s.live.streams.delete(r.Context(), id); err != nil {
		return err
	}
	s.live.m.End(id)
	if err := s.live.deleteUnmadeRecordings(r.Context(), rec); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resetLiveKey gives the stream a new key and disconnects the encoder
// using the old one, which is refused from then on.
func (s *Server) resetLiveKey(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.live.streams.update(r.Context(), chi.URLParam(r, "id"), func(rec *liveStream) error {
		rec.StreamKey = newStreamKey(rec.ID)
		return nil
	})
	if err != nil {
		return err
	}
	s.live.m.End(rec.ID)
	return writeJSON(w, http.StatusOK, s.liveView(rec, true))
}
