package origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/internal/httpcond"
	"github.com/streamfront/streamfront/internal/httprange"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
)

// Cache lifetimes the origin asks of edges. Everything under a video ID
// except the master playlist is immutable: a video's media never changes,
// it is only ever deleted (and deletion invalidates edges).
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheMasterLive = "public, max-age=2"  // renditions are still being added
	cacheMasterDone = "public, max-age=60" // final; short so a delete is felt soon even without invalidation
)

const (
	typePlaylist = "application/vnd.apple.mpegurl"
	typeMP4      = "video/mp4"
)

// readyVideo loads a video that can be served, and marks the answer as
// needing a viewer token at the edges when the video is private.
func (s *Server) readyVideo(w http.ResponseWriter, r *http.Request) (*catalog.Video, error) {
	v, err := s.catalog.GetRecent(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if v.Status != catalog.Ready || !playable(v) {
		return nil, errNotFound
	}
	markAccess(w, v)
	return v, nil
}

// playable says whether v has HLS to offer: renditions, or a recording
// or a first encode's growing HLS before them.
func playable(v *catalog.Video) bool {
	return len(v.Renditions) > 0 || v.Recorded != nil || v.Growing != nil
}

func (s *Server) serveMaster(w http.ResponseWriter, r *http.Request) error {
	v, err := s.readyVideo(w, r)
	if err != nil {
		return err
	}
	body, err := s.masterPlaylist(r.Context(), v)
	if err != nil {
		return err
	}
	return serveMasterBody(w, r, v, body)
}

// setMediaDuration tells the edges the media time of the object, which
// they meter as delivered seconds (its byte share, for a range).
func setMediaDuration(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("X-Streamfront-Media-Duration", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
}

// serveMasterBody answers with a master playlist: briefly cacheable while
// renditions are still being added, longer once the video is final.
func serveMasterBody(w http.ResponseWriter, r *http.Request, v *catalog.Video, body []byte) error {
	cc := cacheMasterLive
	if v.Final {
		cc = cacheMasterDone
	}
	return serveBytes(w, r, body, typePlaylist, cc, etagOf(body), v.UpdatedAt)
}

// masterPlaylist lists the renditions of v that browsers decode, and its
// audio group. A source they cannot decode (HEVC, 10-bit or 4:2:2 H.264)
// stays a download, never a variant a player might pick and fail on.
func (s *core) masterPlaylist(ctx context.Context, v *catalog.Video) ([]byte, error) {
	renditions := make([]hls.Rendition, 0, len(v.Renditions))
	byName := map[string]*index.Index{}
	for _, rd := range v.Renditions {
		ix, err := s.indexes.get(ctx, rd.IndexKey)
		if err != nil {
			return nil, err
		}
		byName[rd.Name] = ix
		if vt := ix.Track(index.Video); vt != nil && !hls.BrowserDecodable(vt.Codec) {
			continue
		}
		renditions = append(renditions, hls.Rendition{Name: rd.Name, Index: ix})
	}
	if len(renditions) == 0 && v.Recorded != nil {
		return recordedMaster(v.Recorded)
	}
	if len(renditions) == 0 && v.Growing != nil {
		return growingMaster(v.Growing)
	}
	var audio []hls.Audio
	for _, a := range v.Audio {
		if ix := byName[a.Rendition]; ix != nil && ix.Track(index.Audio) != nil && hls.BrowserDecodable(ix.Track(index.Audio).Codec) {
			audio = append(audio, hls.Audio{Rendition: a.Rendition, Name: a.Name, Default: a.Default, Track: ix.Track(index.Audio)})
		}
	}
	return hls.Master(renditions, audio, subtitles(v)...)
}

// track finds the rendition and track a playlist or segment URL names.
func (s *Server) track(r *http.Request, v *catalog.Video, kindName string) (*catalog.Rendition, *index.Track, error) {
	rd := v.Rendition(chi.URLParam(r, "rendition"))
	if rd == nil {
		return nil, nil, errNotFound
	}
	kind := index.Video
	switch kindName {
	case "video":
	case "audio":
		kind = index.Audio
	default:
		return nil, nil, errNotFound
	}
	ix, err := s.indexes.get(r.Context(), rd.IndexKey)
	if err != nil {
		return nil, nil, err
	}
	t := ix.Track(kind)
	if t == nil {
		return nil, nil, errNotFound
	}
	return rd, t, nil
}

func (s *Server) serveMediaPlaylist(w http.ResponseWriter, r *http.Request) error {
	switch chi.URLParam(r, "rendition") {
	case growingName, captionsName, recordedName:
		v, err := s.readyVideo(w, r)
		if err != nil {
			return err
		}
		switch chi.URLParam(r, "rendition") {
		case captionsName:
			return s.serveCaptions(w, r, v, chi.URLParam(r, "playlist"))
		case recordedName:
			track, ok := strings.CutSuffix(chi.URLParam(r, "playlist"), ".m3u8")
			if !ok {
				return errNotFound
			}
			return s.serveRecorded(w, r, v, track, "")
		}
		return s.serveGrowing(w, r, v, chi.URLParam(r, "playlist"))
	}
	kindName, ok := strings.CutSuffix(chi.URLParam(r, "playlist"), ".m3u8")
	if !ok {
		return errNotFound
	}
	v, err := s.readyVideo(w, r)
	if err != nil {
		return err
	}
	if _, isTS := hls.ParseTSName(kindName); isTS {
		return s.serveTSPlaylist(w, r, v, kindName)
	}
	iframes := kindName == "iframes"
	if iframes {
		kindName = "video"
	}
	_, t, err := s.track(r, v, kindName)
	if err != nil {
		return err
	}
	var body []byte
	if iframes {
		body, err = hls.IFrames(t, hls.InitURI(t.Kind))
	} else {
		body, err = hls.Media(t, s.opt.SegmentTarget, hls.InitURI(t.Kind), func(n int) string { return hls.SegmentURI(t.Kind, n) })
	}
	if err != nil {
		return err
	}
	return serveBytes(w, r, body, typePlaylist, cacheImmutable, etagOf(body), v.CreatedAt)
}

func (s *Server) serveSegment(w http.ResponseWriter, r *http.Request) error {
	v, err := s.readyVideo(w, r)
	if err != nil {
		return err
	}
	if chi.URLParam(r, "rendition") == recordedName {
		return s.serveRecorded(w, r, v, chi.URLParam(r, "kind"), chi.URLParam(r, "file"))
	}
	if kind := chi.URLParam(r, "kind"); kind != "video" && kind != "audio" {
		if _, isTS := hls.ParseTSName(kind); isTS {
			return s.serveTSSegment(w, r, v, kind, chi.URLParam(r, "file"))
		}
	}
	rd, t, err := s.track(r, v, chi.URLParam(r, "kind"))
	if err != nil {
		return err
	}
	file := chi.URLParam(r, "file")
	if file == "init.mp4" {
		body, err := fmp4.Init(t)
		if err != nil {
			return err
		}
		return serveBytes(w, r, body, typeMP4, cacheImmutable, etagOf(body), v.CreatedAt)
	}
	num, ok := strings.CutSuffix(file, ".m4s")
	keyframe := false
	if k, isKey := strings.CutPrefix(num, "k"); isKey && t.Kind == index.Video {
		num, keyframe = k, true
	}
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 || num != strconv.Itoa(n) {
		return errNotFound
	}
	var seg *fmp4.Segment
	if keyframe {
		// One keyframe of the I-frame playlist.
		keys := hls.Keyframes(t)
		if n >= len(keys) {
			return errNotFound
		}
		seg, err = fmp4.NewSampleSegment(t, keys[n])
		file = "k" + num
	} else {
		if n >= len(t.Segments) {
			return errNotFound
		}
		seg, err = fmp4.NewSegment(t, n)
		// Delivered time counts the picture's segments (or the sound's,
		// when there is no picture): demuxed audio would count it twice.
		if t.Kind == index.Video || v.Height == 0 {
			setMediaDuration(w, t.SegmentDuration(n))
		}
	}
	if err != nil {
		return err
	}
	etag := fmt.Sprintf(`"%s-%s-%s-%s-%d"`, v.ID, rd.Name, t.Kind, file, seg.Size())
	return serveStream(w, r, seg.Size(), typeMP4, cacheImmutable, etag, v.CreatedAt,
		func(ctx context.Context, w io.Writer) error {
			_, err := seg.WriteTo(ctx, w, mp4Source{s: s.store, mp4: rd.MP4})
			return err
		})
}

func (s *Server) serveMP4(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(chi.URLParam(r, "file"), ".mp4")
	if !ok {
		return errNotFound
	}
	v, err := s.readyVideo(w, r)
	if err != nil {
		return err
	}
	rd := v.Rendition(name)
	if rd == nil {
		return errNotFound
	}
	src := mp4Source{s: s.store, mp4: rd.MP4}
	setMediaDuration(w, time.Duration(v.DurationS*float64(time.Second)))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%s.mp4"`, v.ID, name))
	return serveRanged(w, r, rd.MP4.Size, typeMP4, cacheImmutable, rd.MP4.ETag, v.CreatedAt,
		func(ctx context.Context, w io.Writer, off, n int64) error {
			body, err := src.OpenRange(ctx, off, n)
			if err != nil {
				return err
			}
			defer body.Close()
			copied, err := io.Copy(w, body)
			if err == nil && copied != n {
				err = io.ErrUnexpectedEOF
			}
			return err
		})
}

// serveThumb answers with the poster, a storyboard sprite or its WebVTT.
func (s *Server) serveThumb(w http.ResponseWriter, r *http.Request) error {
	v, err := s.readyVideo(w, r)
	if err != nil {
		return err
	}
	if v.Thumbs == nil {
		return errNotFound
	}
	file := chi.URLParam(r, "file")
	key, ctype := "", "image/jpeg"
	switch {
	case file == "poster.jpg":
		key = v.Thumbs.PosterKey
	case file == "storyboard.vtt":
		key, ctype = v.Thumbs.StoryboardKey, "text/vtt; charset=utf-8"
	default:
		want := thumbKey(v.ID, file)
		for _, k := range v.Thumbs.SpriteKeys {
			if k == want {
				key = k
			}
		}
	}
	if key == "" {
		return errNotFound
	}
	info, err := s.store.Head(r.Context(), key)
	if err != nil {
		return err
	}
	return s.serveStored(w, r, key, ctype, info)
}

// serveStored answers an immutable object of the store, ranges and
// conditionals included.
func (s *Server) serveStored(w http.ResponseWriter, r *http.Request, key, ctype string, info store.ObjectInfo) error {
	return serveRanged(w, r, info.Size, ctype, cacheImmutable, info.ETag, info.LastModified, s.storeRange(key))
}

// storeRange writes a range of an object of the store.
func (s *Server) storeRange(key string) func(ctx context.Context, w io.Writer, off, n int64) error {
	return func(ctx context.Context, w io.Writer, off, n int64) error {
		body, err := s.store.GetRange(ctx, key, off, n)
		if err != nil {
			return err
		}
		defer body.Close()
		_, err = io.Copy(w, body)
		return err
	}
}

// serveBytes answers with a small in-memory body (playlists, init
// segments), Range and conditional requests included.
func serveBytes(w http.ResponseWriter, r *http.Request, body []byte, ctype, cacheControl, etag string, modified time.Time) error {
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", cacheControl)
	http.ServeContent(w, r, "", modified, bytes.NewReader(body))
	return nil
}

// serveStream answers with a body of known size written by write. A Range
// request is served by discarding what lies outside it (segments are a
// few MB; edges ask for whole segments).
func serveStream(w http.ResponseWriter, r *http.Request, size int64, ctype, cacheControl, etag string, modified time.Time,
	write func(ctx context.Context, w io.Writer) error) error {
	return serveRanged(w, r, size, ctype, cacheControl, etag, modified, func(ctx context.Context, w io.Writer, off, n int64) error {
		return write(ctx, &windowWriter{w: w, skip: off, left: n})
	})
}

// serveRanged handles conditional and single-range requests for a body
// of known size, then streams [off, off+n) with write. Multi-range
// requests get the whole body (RFC 9110 allows it; edges send single
// ranges). An error after headers are sent aborts the connection, so a
// cache never stores a short body as complete.
func serveRanged(w http.ResponseWriter, r *http.Request, size int64, ctype, cacheControl, etag string, modified time.Time,
	write func(ctx context.Context, w io.Writer, off, n int64) error) error {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cacheControl)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	if httpcond.NotModified(r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"), etag, modified) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	off, n, status := int64(0), size, http.StatusOK
	if rh := r.Header.Get("Range"); rh != "" && httpcond.RangeApplies(r.Header.Get("If-Range"), etag, modified, time.Now()) {
		ranges, err := httprange.Parse(rh, size)
		switch {
		case errors.Is(err, httprange.ErrUnsatisfiable):
			h.Set("Content-Range", httprange.Unsatisfied(size))
			return errorf(http.StatusRequestedRangeNotSatisfiable, "The requested range is outside the file.")
		case err == nil && len(ranges) == 1:
			off, n, status = ranges[0].Start, ranges[0].Length(), http.StatusPartialContent
			h.Set("Content-Range", ranges[0].ContentRange(size))
		}
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	if err := write(r.Context(), w, off, n); err != nil {
		if r.Context().Err() != nil {
			return nil //nolint:nilerr // the client went away: nobody to answer
		}
		panic(http.ErrAbortHandler) // headers are out: only a broken connection tells the truth
	}
	return nil
}

func etagOf(b []byte) string {
	var h uint64 = 14695981039346656037 // FNV-1a: cheap, and playlists are small
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf(`"%016x"`, h)
}

// windowWriter passes on only bytes [skip, skip+left) of what is written.
type windowWriter struct {
	w          io.Writer
	skip, left int64
}

func (ww *windowWriter) Write(p []byte) (int, error) {
	n := len(p)
	if ww.skip > 0 {
		d := min(ww.skip, int64(len(p)))
		ww.skip -= d
		p = p[d:]
	}
	if int64(len(p)) > ww.left {
		p = p[:ww.left]
	}
	if len(p) > 0 {
		if _, err := ww.w.Write(p); err != nil {
			return 0, err
		}
		ww.left -= int64(len(p))
	}
	return n, nil
}
