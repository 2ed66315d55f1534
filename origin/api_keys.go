package origin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/apikeys"
)

// The keys' API (admin key): create, list, revoke.

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name          string          `json:"name"`
		Scopes        []apikeys.Scope `json:"scopes"`
		RatePerMinute *int            `json:"rate_per_minute"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil {
		return errorf(http.StatusBadRequest, `The body must be JSON like {"name": "ci uploads", "scopes": ["upload"], "rate_per_minute": 600}.`)
	}
	rpm := 600 // a default that no person, and few scripts, reach
	if in.RatePerMinute != nil {
		rpm = *in.RatePerMinute
	}
	key, token, err := s.keys.Create(r.Context(), in.Name, in.Scopes, rpm)
	if err != nil {
		return keyErr(err)
	}
	w.Header().Set("Location", "/api/v1/keys/"+key.ID)
	return writeJSON(w, http.StatusCreated, struct {
		*apikeys.Key
		Secret string `json:"key"` // shown this once
	}{key, token})
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.keys.List(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.keys.Revoke(r.Context(), chi.URLParam(r, "id")); err != nil {
		return keyErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func keyErr(err error) error {
	var in *apikeys.InputError
	switch {
	case errors.As(err, &in):
		return errorf(http.StatusBadRequest, in.Error())
	case errors.Is(err, apikeys.ErrNotFound):
		return errorf(http.StatusNotFound, "There is no API key with this ID (revoked already?).")
	}
	return err
}
