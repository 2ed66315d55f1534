package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
)

// adminVideosPageSize is how many videos one page of the admin list shows.
const adminVideosPageSize = 50

// adminVideosView is the videos page's View.
type adminVideosView struct {
	Videos  []video
	NextURL string
	Notice  string // after a delete
}

func (s *Server) adminVideos(w http.ResponseWriter, r *http.Request, sess *session) error {
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" && !plausibleID.MatchString(cursor) {
		return &pageError{Status: http.StatusBadRequest, Message: "That page of the list does not exist; start again from the newest videos."}
	}
	list, err := s.api.listVideosAs(r.Context(), sess.apiKey, cursor, adminVideosPageSize)
	if err != nil {
		return err
	}
	view := adminVideosView{Videos: list.Videos}
	if list.NextCursor != "" {
		view.NextURL = "/admin/videos?" + url.Values{"cursor": {list.NextCursor}}.Encode()
	}
	if r.URL.Query().Get("deleted") == "1" {
		view.Notice = "The video was deleted, and the edges were told to drop their copies."
	}
	return s.renderAdmin(w, http.StatusOK, "admin_videos", "Videos · Dashboard", "videos", sess, view)
}

// adminVideoView is the edit page's View.
type adminVideoView struct {
	Video  *video
	Tags   string // comma-separated, as in the form
	Error  string
	Notice string
}

func (s *Server) adminVideo(w http.ResponseWriter, r *http.Request, sess *session) error {
	v, err := s.api.getVideoAs(r.Context(), sess.apiKey, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	view := adminVideoView{Video: v, Tags: strings.Join(v.Tags, ", ")}
	if r.URL.Query().Get("saved") == "1" {
		view.Notice = "Saved."
	}
	return s.renderAdmin(w, http.StatusOK, "admin_video", titleOr(v.Title)+" · Dashboard", "videos", sess, view)
}

// adminEditVideo saves the title, description, tags and visibility.
func (s *Server) adminEditVideo(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := chi.URLParam(r, "id")
	f := r.PostForm
	edit := videoEdit{
		Title:       strings.TrimSpace(f.Get("title")),
		Description: strings.TrimSpace(f.Get("description")),
		Tags:        splitTags(f.Get("tags")),
		Visibility:  f.Get("visibility"),
	}
	var problem string
	switch {
	case edit.Visibility != "public" && edit.Visibility != "private":
		problem = "Choose whether the video is public or private."
	case utf8.RuneCountInString(edit.Title) > 200:
		problem = "The title is too long: keep it to 200 characters."
	case utf8.RuneCountInString(edit.Description) > 5000:
		problem = "The description is too long: keep it to 5,000 characters."
	case len(edit.Tags) > 30:
		problem = "Too many tags: keep it to 30."
	}
	if problem == "" {
		err := s.api.editVideo(r.Context(), sess.apiKey, id, edit)
		apiErr := (*apiError)(nil)
		switch {
		case err == nil:
			http.Redirect(w, r, "/admin/videos/"+url.PathEscape(id)+"?saved=1", http.StatusSeeOther)
			return nil
		case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
			problem = apiErr.Err.Error() // the API's sentence says what to fix
		default:
			return err
		}
	}
	// Show the form again with what was typed and the reason.
	v, err := s.api.getVideoAs(r.Context(), sess.apiKey, id)
	if err != nil {
		return err
	}
	v.Title, v.Description, v.Visibility = edit.Title, edit.Description, edit.Visibility
	view := adminVideoView{Video: v, Tags: f.Get("tags"), Error: problem}
	return s.renderAdmin(w, http.StatusBadRequest, "admin_video", titleOr(v.Title)+" · Dashboard", "videos", sess, view)
}

// adminDeleteVideo deletes a video once the operator ticked the
// confirmation box.
func (s *Server) adminDeleteVideo(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := chi.URLParam(r, "id")
	if r.PostForm.Get("confirm") != "yes" {
		v, err := s.api.getVideoAs(r.Context(), sess.apiKey, id)
		if err != nil {
			return err
		}
		view := adminVideoView{Video: v, Tags: strings.Join(v.Tags, ", "), Error: "Tick the box to confirm that the video and all its files should be deleted."}
		return s.renderAdmin(w, http.StatusBadRequest, "admin_video", titleOr(v.Title)+" · Dashboard", "videos", sess, view)
	}
	if err := s.api.deleteVideo(r.Context(), sess.apiKey, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/videos?deleted=1", http.StatusSeeOther)
	return nil
}

// splitTags reads "a, b,,c " as [a b c]; never nil, so the API gets [].
func splitTags(s string) []string {
	tags := []string{}
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

func titleOr(title string) string {
	if title == "" {
		return "Untitled video"
	}
	return title
}
