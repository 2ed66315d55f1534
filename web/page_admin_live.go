package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
)

// The live streams page, /admin/live: every live stream with its status,
// the reason its last encoder was refused, where encoders send, and its
// recordings; a stream's key can be reset and a stream deleted.

// adminLiveView is the live streams page's View.
type adminLiveView struct {
	Streams  []adminLiveStream
	NextURL  string
	Disabled bool // the origin has no live streaming
	Notice   string
	Error    string
}

func (s *Server) adminLive(w http.ResponseWriter, r *http.Request, sess *session) error {
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" && !plausibleID.MatchString(cursor) {
		return &pageError{Status: http.StatusBadRequest, Message: "That page of the list does not exist; start again from the newest live streams."}
	}
	var view adminLiveView
	switch r.URL.Query().Get("done") {
	case "reset":
		view.Notice = "The stream has a new key; the encoder using the old one was disconnected. Give the new key to the broadcaster."
	case "deleted":
		view.Notice = "The live stream was deleted; its recordings stay as videos."
	}
	list, err := s.api.listLiveAs(r.Context(), sess.apiKey, cursor)
	if apiErr := (*apiError)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		view.Disabled = true
		return s.renderAdmin(w, http.StatusOK, "admin_live", "Live streams · Dashboard", "live", sess, view)
	}
	if err != nil {
		return err
	}
	view.Streams = list.Live
	if list.NextCursor != "" {
		view.NextURL = "/admin/live?" + url.Values{"cursor": {list.NextCursor}}.Encode()
	}
	return s.renderAdmin(w, http.StatusOK, "admin_live", "Live streams · Dashboard", "live", sess, view)
}

// adminResetLiveKey gives a stream a new key.
func (s *Server) adminResetLiveKey(w http.ResponseWriter, r *http.Request, sess *session) error {
	err := s.api.resetLiveKey(r.Context(), sess.apiKey, chi.URLParam(r, "id"))
	if errors.Is(err, errLiveNotFound) {
		return &pageError{Status: http.StatusNotFound, Message: "There is no live stream with this ID; it may have been deleted."}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/live?done=reset", http.StatusSeeOther)
	return nil
}

// adminDeleteLive deletes a stream once the box is ticked.
func (s *Server) adminDeleteLive(w http.ResponseWriter, r *http.Request, sess *session) error {
	if r.PostForm.Get("confirm") != "yes" {
		return &pageError{Status: http.StatusBadRequest, Message: "Tick the box next to Delete to confirm that the live stream should be deleted."}
	}
	err := s.api.deleteLive(r.Context(), sess.apiKey, chi.URLParam(r, "id"))
	if errors.Is(err, errLiveNotFound) {
		return &pageError{Status: http.StatusNotFound, Message: "There is no live stream with this ID; it may have been deleted already."}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/live?done=deleted", http.StatusSeeOther)
	return nil
}
