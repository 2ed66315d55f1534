package web

import (
	"errors"
	"net/http"
	"strings"
)

// maxInvalidationPaths bounds one form's paths.
const maxInvalidationPaths = 100

// invalidationsView is the invalidations page's View.
type invalidationsView struct {
	Paths  string // the form's text
	Error  string
	Result *invalidationResult

	History      []invalidationRecord // newest first
	HistoryError string               // why the history is missing
}

func (s *Server) adminInvalidations(w http.ResponseWriter, r *http.Request, sess *session) error {
	var view invalidationsView
	if err := s.loadInvalidationHistory(r, sess, &view); err != nil {
		return err
	}
	return s.renderAdmin(w, http.StatusOK, "admin_invalidations", "Invalidations · Dashboard", "invalidations", sess, view)
}

// loadInvalidationHistory fills the view's history. An origin without the
// durable feed answers 503; the page then says so and the form still works.
func (s *Server) loadInvalidationHistory(r *http.Request, sess *session, view *invalidationsView) error {
	hist, err := s.api.invalidationHistory(r.Context(), sess.apiKey)
	if apiErr := (*apiError)(nil); errors.As(err, &apiErr) && apiErr.Status != 0 {
		view.HistoryError = "The origin could not give the history: " + apiErr.Err.Error()
		return nil
	}
	if err != nil {
		return err
	}
	view.History = hist
	return nil
}

// adminInvalidate sends the form's paths, one a line, to every edge.
func (s *Server) adminInvalidate(w http.ResponseWriter, r *http.Request, sess *session) error {
	text := r.PostForm.Get("paths")
	view := invalidationsView{Paths: text}
	var paths []string
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			paths = append(paths, line)
		}
	}
	switch {
	case len(paths) == 0:
		view.Error = "Enter at least one path, such as /videos/ID/*."
	case len(paths) > maxInvalidationPaths:
		view.Error = "Send at most 100 paths at a time."
	default:
		for _, p := range paths {
			if !strings.HasPrefix(p, "/") {
				view.Error = "Each path starts with /, e.g. /videos/ID/master.m3u8; " + p + " does not."
				break
			}
		}
	}
	if view.Error != "" {
		return s.renderAdmin(w, http.StatusBadRequest, "admin_invalidations", "Invalidations · Dashboard", "invalidations", sess, view)
	}
	res, err := s.api.invalidate(r.Context(), sess.apiKey, paths)
	apiErr := (*apiError)(nil)
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusBadRequest || apiErr.Status == http.StatusConflict) {
		view.Error = apiErr.Err.Error()
		return s.renderAdmin(w, apiErr.Status, "admin_invalidations", "Invalidations · Dashboard", "invalidations", sess, view)
	}
	if err != nil {
		return err
	}
	view.Result = res
	if err := s.loadInvalidationHistory(r, sess, &view); err != nil {
		return err
	}
	return s.renderAdmin(w, http.StatusOK, "admin_invalidations", "Invalidations · Dashboard", "invalidations", sess, view)
}

// edgesView is the edges page's View.
type edgesView struct {
	RouterConfigured bool
	Edges            []edgeStatus
	Error            string
}

func (s *Server) adminEdges(w http.ResponseWriter, r *http.Request, sess *session) error {
	view := edgesView{RouterConfigured: s.routerURL != nil}
	if s.routerURL != nil {
		edges, err := s.readEdges(r.Context())
		if err != nil {
			view.Error = "The router did not answer, so the edges are unknown: " + err.Error()
		}
		view.Edges = edges
	}
	return s.renderAdmin(w, http.StatusOK, "admin_edges", "Edges · Dashboard", "edges", sess, view)
}
