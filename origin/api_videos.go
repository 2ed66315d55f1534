package origin

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/openapi"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// Limits on metadata, so a record stays small whatever a client sends.
const (
	maxTitle       = 200
	maxDescription = 5000
	maxTags        = 30
	maxTag         = 50
)

// page reads a list call's limit (1–100, default 20) and cursor (an ID
// the API gave out as next_cursor).
func page(r *http.Request) (limit int, cursor string, err error) {
	limit = 20
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return 0, "", errorf(http.StatusBadRequest, "limit must be a number from 1 to 100.")
		}
		limit = n
	}
	cursor = r.URL.Query().Get("cursor")
	if cursor != "" && !catalog.ValidID(cursor) {
		return 0, "", errorf(http.StatusBadRequest, "cursor is not one this API gave out; start again without it.")
	}
	return limit, cursor, nil
}

func (s *Server) listVideos(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := page(r)
	if err != nil {
		return err
	}
	videos, next, err := s.catalog.List(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	out := struct {
		Videos     []videoView `json:"videos"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}{Videos: []videoView{}, NextCursor: next}
	// Private videos are unlisted: only the key holder sees them in the
	// list (whoever has a video's ID, as the owner chose to share it, can
	// still get it and its signed URLs).
	all := s.hasKey(r)
	for _, v := range videos {
		if v.Visibility == catalog.Private && !all {
			continue
		}
		out.Videos = append(out.Videos, s.view(v))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getVideo(w http.ResponseWriter, r *http.Request) error {
	v, err := s.catalog.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	out := s.view(v)
	out.QueuePosition = s.queuePosition(r.Context(), v)
	if u, err := s.videoUsage.of(r.Context(), v.ID); err == nil {
		out.Usage = u
	} else if r.Context().Err() == nil {
		s.log.Warn("video usage not read", slog.String("id", v.ID), slog.Any("err", err))
	}
	return writeJSON(w, http.StatusOK, out)
}

// videoPatch is what PATCH may change; absent fields stay as they are.
type videoPatch struct {
	Title       *string   `json:"title"`
	Description *string   `json:"description"`
	Tags        *[]string `json:"tags"`
	Visibility  *string   `json:"visibility"`
}

func (s *Server) patchVideo(w http.ResponseWriter, r *http.Request) error {
	var p videoPatch
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return errorf(http.StatusBadRequest, "The body must be JSON with any of title, description, tags, visibility: "+err.Error())
	}
	meta := metadata{}
	if p.Title != nil {
		meta.title = p.Title
	}
	if p.Description != nil {
		meta.description = p.Description
	}
	if p.Tags != nil {
		meta.tags = p.Tags
	}
	if p.Visibility != nil {
		meta.visibility = p.Visibility
	}
	if err := meta.validate(); err != nil {
		return err
	}
	wasPrivate := false
	v, err := s.catalog.Update(r.Context(), chi.URLParam(r, "id"), func(v *catalog.Video) error {
		wasPrivate = v.Visibility == catalog.Private
		meta.apply(v)
		return nil
	})
	if err != nil {
		return err
	}
	if wasPrivate != (v.Visibility == catalog.Private) {
		// Edges hold the media with the old access requirement.
		s.invalidateVideo(r.Context(), v.ID, "visibility changed to "+v.Visibility)
	}
	s.emit(r.Context(), webhooks.VideoUpdated, v.ID, v.UpdatedAt.Format(time.RFC3339Nano))
	// Edges that serve the site hold its pages: they show the old title.
	s.invalidatePaths(r.Context(), sitePagesOf(v.ID), "updated")
	return writeJSON(w, http.StatusOK, s.view(v))
}

func (s *Server) deleteVideo(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if _, err := s.catalog.Get(r.Context(), id); err != nil {
		return err
	}
	if err := s.catalog.Delete(r.Context(), id); err != nil {
		return err
	}
	_ = s.store.Delete(r.Context(), leaseKey(id))
	s.indexes.forget(id)
	s.invalidateVideo(r.Context(), id, "deleted")
	s.events.publish(id, event{Status: "deleted"})
	s.emit(r.Context(), webhooks.VideoDeleted, id, "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// metadata is user-supplied description of a video, validated before it is
// stored. nil fields are not being set.
type metadata struct {
	title, description, visibility *string
	tags                           *[]string
}

func (m *metadata) validate() error {
	if m.title != nil {
		t := strings.TrimSpace(*m.title)
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxTitle {
			return errorf(http.StatusBadRequest, "The title must be UTF-8 text of at most 200 characters.")
		}
		m.title = &t
	}
	if m.description != nil {
		d := strings.TrimSpace(*m.description)
		if !utf8.ValidString(d) || utf8.RuneCountInString(d) > maxDescription {
			return errorf(http.StatusBadRequest, "The description must be UTF-8 text of at most 5000 characters.")
		}
		m.description = &d
	}
	if m.tags != nil {
		var clean []string
		seen := map[string]bool{}
		for _, t := range *m.tags {
			t = strings.ToLower(strings.TrimSpace(t))
			if t == "" || seen[t] {
				continue
			}
			if !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxTag {
				return errorf(http.StatusBadRequest, "Each tag must be UTF-8 text of at most 50 characters.")
			}
			seen[t] = true
			clean = append(clean, t)
		}
		if len(clean) > maxTags {
			return errorf(http.StatusBadRequest, "A video can have at most 30 tags.")
		}
		m.tags = &clean
	}
	if m.visibility != nil && *m.visibility != catalog.Public && *m.visibility != catalog.Private {
		return errorf(http.StatusBadRequest, `visibility must be "public" or "private".`)
	}
	return nil
}

func (m *metadata) apply(v *catalog.Video) {
	if m.title != nil {
		v.Title = *m.title
	}
	if m.description != nil {
		v.Description = *m.description
	}
	if m.tags != nil {
		v.Tags = *m.tags
	}
	if m.visibility != nil {
		v.Visibility = *m.visibility
	}
}

// splitTags reads "a, b,c" as tags.
func splitTags(s string) *[]string {
	tags := strings.Split(s, ",")
	return &tags
}

var errEmptyUpload = errors.New("empty upload")

// serveOpenAPI is the API's contract (origin/openapi).
func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	doc, err := openapi.JSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(doc)
	return err
}
