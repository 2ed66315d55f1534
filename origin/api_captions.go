package origin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/packager/captions"
	"github.com/streamfront/streamfront/packager/hls"
)

// Captions: PUT /api/v1/videos/{id}/captions/{lang} with a WebVTT or SRT
// file stores it as WebVTT (videos/{id}/captions/{lang}.vtt) and lists it
// in the master playlist's SUBTITLES group (hls/captions/{lang}.m3u8, a
// one-segment playlist of the whole file); DELETE removes it. The edges
// drop the master and the caption files they hold when captions change.

// captionsName is the rendition name of caption playlists in URLs; a
// ladder rung may not take it (transcode.ParseLadder refuses it).
const captionsName = "captions"

// maxCaptionTracks bounds the languages of one video.
const maxCaptionTracks = 50

func captionKey(id, lang string) string { return catalog.VideoPrefix(id) + "captions/" + lang + ".vtt" }

// captionLang is the canonical RFC 5646 form of a language in a URL.
func captionLang(s string) (language.Tag, string, error) {
	tag, err := language.Parse(s)
	if err != nil || s == "" || len(s) > 35 {
		return language.Und, "", errorf(http.StatusBadRequest, fmt.Sprintf("%q is not a language tag: use an RFC 5646 tag like en, fr or pt-BR.", s))
	}
	return tag, tag.String(), nil
}

func (s *Server) putCaption(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	tag, lang, err := captionLang(chi.URLParam(r, "lang"))
	if err != nil {
		return err
	}
	v, err := s.catalog.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if v.Status != catalog.Ready {
		return errorf(http.StatusConflict, "Captions can be added once the video is ready (it is "+string(v.Status)+").")
	}
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if name == "" {
		name = display.Self.Name(tag)
	}
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 {
		return errorf(http.StatusBadRequest, "name (the label viewers see) must be text of at most 100 characters.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, captions.MaxSize+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "The caption file could not be read: "+err.Error())
	}
	vtt, from, err := captions.ToWebVTT(body, time.Duration(v.DurationS*float64(time.Second)))
	var ie *captions.InputError
	if errors.As(err, &ie) {
		return errorf(http.StatusBadRequest, ie.Error())
	}
	if err != nil {
		return err
	}
	key := captionKey(id, lang)
	if err := s.store.Put(r.Context(), key, vtt, "text/vtt; charset=utf-8"); err != nil {
		return err
	}
	v, err = s.catalog.Update(r.Context(), id, func(v *catalog.Video) error {
		c := catalog.Caption{Lang: lang, Name: name, Key: key, From: string(from)}
		if old := v.Caption(lang); old != nil {
			*old = c
			return nil
		}
		if len(v.Captions) >= maxCaptionTracks {
			return errorf(http.StatusBadRequest, fmt.Sprintf("A video can have at most %d caption tracks.", maxCaptionTracks))
		}
		v.Captions = append(v.Captions, c)
		return nil
	})
	if err != nil {
		return err
	}
	s.invalidateCaptions(r, id)
	s.emit(r.Context(), "video.updated", id, v.UpdatedAt.Format(time.RFC3339Nano))
	return writeJSON(w, http.StatusOK, s.view(v))
}

func (s *Server) deleteCaption(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	_, lang, err := captionLang(chi.URLParam(r, "lang"))
	if err != nil {
		return err
	}
	v, err := s.catalog.Update(r.Context(), id, func(v *catalog.Video) error {
		if v.Caption(lang) == nil {
			return errorf(http.StatusNotFound, "This video has no captions in "+lang+".")
		}
		v.Captions = deleteCaption(v.Captions, lang)
		return nil
	})
	if err != nil {
		return err
	}
	_ = s.store.Delete(r.Context(), captionKey(id, lang))
	s.invalidateCaptions(r, id)
	s.emit(r.Context(), "video.updated", id, v.UpdatedAt.Format(time.RFC3339Nano))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func deleteCaption(cs []catalog.Caption, lang string) []catalog.Caption {
	out := cs[:0]
	for _, c := range cs {
		if c.Lang != lang {
			out = append(out, c)
		}
	}
	return out
}

// invalidateCaptions drops the masters and caption files edges hold.
func (s *Server) invalidateCaptions(r *http.Request, id string) {
	s.invalidatePaths(r.Context(), []string{"/videos/" + id + "/master*", "/videos/" + id + "/hls/" + captionsName + "/*"}, "captions")
}

// subtitles are v's caption tracks for its master playlist.
func subtitles(v *catalog.Video) []hls.Subtitle {
	var out []hls.Subtitle
	for _, c := range v.Captions {
		out = append(out, hls.Subtitle{Language: c.Lang, Name: c.Name, URI: "hls/" + captionsName + "/" + c.Lang + ".m3u8"})
	}
	return out
}

// serveCaptions answers a caption track's playlist or its WebVTT.
func (s *Server) serveCaptions(w http.ResponseWriter, r *http.Request, v *catalog.Video, file string) error {
	if lang, ok := strings.CutSuffix(file, ".m3u8"); ok && v.Caption(lang) != nil {
		body := captions.Playlist(lang+".vtt", time.Duration(v.DurationS*float64(time.Second)))
		return serveBytes(w, r, body, typePlaylist, cacheMasterLive, etagOf(body), v.UpdatedAt)
	}
	lang, ok := strings.CutSuffix(file, ".vtt")
	c := v.Caption(lang)
	if !ok || c == nil {
		return errNotFound
	}
	info, err := s.store.Head(r.Context(), c.Key)
	if err != nil {
		return err
	}
	// The file of a language changes when it is uploaded again: not
	// immutable, and the edges are told (invalidateCaptions).
	return serveRanged(w, r, info.Size, "text/vtt; charset=utf-8", cacheMasterLive, info.ETag, info.LastModified,
		s.storeRange(c.Key))
}
