package origin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/apikeys"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// The webhook endpoints' API (admin key): register, list, get, delete, the
// attempt log, and a test event.
func (s *Server) webhookRoutes(r chi.Router) {
	r.Use(s.requireScope(apikeys.Admin))
	r.Post("/", s.handle(s.createWebhook))
	r.Get("/", s.handle(s.listWebhooks))
	r.Get("/{id}", s.handle(s.getWebhook))
	r.Delete("/{id}", s.handle(s.deleteWebhook))
	r.Get("/{id}/attempts", s.handle(s.webhookAttempts))
	r.Post("/{id}/test", s.handle(s.testWebhook))
}

// hooksReady is the webhook service, once the queue is open.
func (s *Server) hooksReady() (*webhooks.Service, error) {
	if s.webhooks == nil {
		return nil, errorf(http.StatusServiceUnavailable, "Webhooks are starting; try again in a few seconds.")
	}
	return s.webhooks, nil
}

func webhookErr(err error) error {
	var in *webhooks.InputError
	switch {
	case errors.As(err, &in):
		return errorf(http.StatusBadRequest, in.Error())
	case errors.Is(err, webhooks.ErrNotFound):
		return errorf(http.StatusNotFound, "There is no webhook endpoint with this ID.")
	}
	return err
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hooksReady()
	if err != nil {
		return err
	}
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		return errorf(http.StatusBadRequest, `The body must be JSON like {"url": "https://example.com/hook", "events": ["video.ready"]}.`)
	}
	ep, err := hs.Create(r.Context(), in.URL, in.Events)
	if err != nil {
		return webhookErr(err)
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+ep.ID)
	return writeJSON(w, http.StatusCreated, ep)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hooksReady()
	if err != nil {
		return err
	}
	eps, err := hs.List(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhooks": eps})
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hooksReady()
	if err != nil {
		return err
	}
	ep, err := hs.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return webhookErr(err)
	}
	return writeJSON(w, http.StatusOK, ep)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hooksReady()
	if err != nil {
		return err
	}
	if err := hs.Delete(r.Context(), chi.URLParam(r, "id")); err != nil {
		return webhookErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) webhookAttempts(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hooksReady()
	if err != nil {
		return err
	}
	log, err := hs.Attempts(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return webhookErr(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"attempts": log})
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hooksReady()
	if err != nil {
		return err
	}
	ev, err := hs.SendTest(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return webhookErr(err)
	}
	return writeJSON(w, http.StatusAccepted, ev)
}

// renderEvent is an event's data: the video as the API shows it (to the
// key holder), or its ID once it is gone.
func (s *Server) renderEvent(ctx context.Context, ev webhooks.Event) (any, error) {
	if ev.Object.Type == "live_stream" && s.live != nil {
		rec, err := s.live.streams.get(ctx, ev.Object.ID)
		if errors.Is(err, errNoLiveStream) {
			return map[string]string{"id": ev.Object.ID, "status": "deleted"}, nil
		}
		if err != nil {
			return nil, err
		}
		return s.liveView(rec, false), nil
	}
	if ev.Object.Type != "video" {
		return nil, nil
	}
	v, err := s.catalog.Get(ctx, ev.Object.ID)
	if errors.Is(err, catalog.ErrNotFound) {
		return map[string]string{"id": ev.Object.ID, "status": "deleted"}, nil
	}
	if err != nil {
		return nil, err
	}
	return s.view(v), nil
}
