package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mpegts"
)

// MPEG-TS is the option for old players and set-top boxes that read
// neither fMP4 nor separate audio: /videos/{id}/master-ts.m3u8 lists one
// variant per H.264 rendition, its video muxed with the default audio
// track, cut just in time from the same indexes as the CMAF segments.

const typeTS = "video/mp2t"

// tsVariants lists the MPEG-TS master's variants: H.264 renditions (HEVC
// is left out: old players rarely decode it) with the default audio, or
// for audio-only videos the audio itself.
func (s *Server) tsVariants(ctx context.Context, v *catalog.Video) ([]hls.TSVariant, error) {
	byName := map[string]*index.Index{}
	for _, rd := range v.Renditions {
		ix, err := s.indexes.get(ctx, rd.IndexKey)
		if err != nil {
			return nil, err
		}
		byName[rd.Name] = ix
	}
	var audio *hls.Audio
	for _, a := range v.Audio {
		if ix := byName[a.Rendition]; ix != nil && ix.Track(index.Audio) != nil && (a.Default || audio == nil) {
			audio = &hls.Audio{Rendition: a.Rendition, Name: a.Name, Default: a.Default, Track: ix.Track(index.Audio)}
		}
	}
	var out []hls.TSVariant
	for _, rd := range v.Renditions {
		ix := byName[rd.Name]
		vt := ix.Track(index.Video)
		if vt == nil || !strings.HasPrefix(vt.Codec, "avc1") {
			continue
		}
		out = append(out, hls.TSVariant{Rendition: hls.Rendition{Name: rd.Name, Index: ix}, Audio: audio})
	}
	if len(out) == 0 && audio != nil {
		out = append(out, hls.TSVariant{Rendition: hls.Rendition{Name: audio.Rendition, Index: byName[audio.Rendition]}})
	}
	return out, nil
}

func (s *Server) serveMasterTS(w http.ResponseWriter, r *http.Request) error {
	v, err := s.readyVideo(w, r)
	if err != nil {
		return err
	}
	variants, err := s.tsVariants(r.Context(), v)
	if err != nil {
		return err
	}
	if len(variants) == 0 {
		return errNotFound
	}
	body, err := hls.MasterTS(variants)
	if err != nil {
		return err
	}
	return serveMasterBody(w, r, v, body)
}

// tsTracks finds what a TS muxing name ("ts" or "ts-{audio rendition}")
// of the URL's rendition muxes.
func (s *Server) tsTracks(r *http.Request, v *catalog.Video, name string) (rd *catalog.Rendition, video, audio *index.Track, audioName string, err error) {
	audioName, ok := hls.ParseTSName(name)
	if !ok {
		return nil, nil, nil, "", errNotFound
	}
	rd = v.Rendition(chi.URLParam(r, "rendition"))
	if rd == nil {
		return nil, nil, nil, "", errNotFound
	}
	ix, err := s.indexes.get(r.Context(), rd.IndexKey)
	if err != nil {
		return nil, nil, nil, "", err
	}
	video, audio = ix.Track(index.Video), ix.Track(index.Audio)
	if audioName != "" && audioName != rd.Name {
		ard := v.Rendition(audioName)
		if ard == nil {
			return nil, nil, nil, "", errNotFound
		}
		aix, err := s.indexes.get(r.Context(), ard.IndexKey)
		if err != nil {
			return nil, nil, nil, "", err
		}
		if audio = aix.Track(index.Audio); audio == nil {
			return nil, nil, nil, "", errNotFound
		}
	}
	return rd, video, audio, audioName, nil
}

func (s *Server) serveTSPlaylist(w http.ResponseWriter, r *http.Request, v *catalog.Video, name string) error {
	rd, video, audio, audioName, err := s.tsTracks(r, v, name)
	if err != nil {
		return err
	}
	ref := video
	if ref == nil {
		ref = audio
	}
	if ref == nil {
		return errNotFound
	}
	body, err := hls.MediaTS(ref, s.opt.SegmentTarget, func(n int) string { return hls.TSSegmentURI(rd.Name, audioName, n) })
	if err != nil {
		return err
	}
	return serveBytes(w, r, body, typePlaylist, cacheImmutable, etagOf(body), v.CreatedAt)
}

func (s *Server) serveTSSegment(w http.ResponseWriter, r *http.Request, v *catalog.Video, name, file string) error {
	rd, video, audio, audioName, err := s.tsTracks(r, v, name)
	if err != nil {
		return err
	}
	num, ok := strings.CutSuffix(file, ".ts")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 || num != strconv.Itoa(n) {
		return errNotFound
	}
	seg, err := mpegts.NewSegment(video, audio, n)
	if errors.Is(err, mpegts.ErrNoSegment) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	// Video and audio may come from two renditions' files.
	videoSrc := mp4Source{s: s.store, mp4: rd.MP4}
	audioSrc := videoSrc
	if audioName != "" && audioName != rd.Name {
		audioSrc = mp4Source{s: s.store, mp4: v.Rendition(audioName).MP4}
	}
	if video != nil {
		setMediaDuration(w, video.SegmentDuration(n))
	} else if audio != nil {
		setMediaDuration(w, audio.SegmentDuration(n))
	}
	etag := fmt.Sprintf(`"%s-%s-%s-%d-%d"`, v.ID, rd.Name, hls.TSName(rd.Name, audioName), n, seg.Size())
	return serveStream(w, r, seg.Size(), typeTS, cacheImmutable, etag, v.CreatedAt,
		func(ctx context.Context, w io.Writer) error {
			_, err := seg.WriteFrom(ctx, w, videoSrc, audioSrc)
			return err
		})
}
