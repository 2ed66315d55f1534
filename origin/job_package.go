package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/transcode"
)

func isInputError(err error) bool { return packager.IsInputError(err) }

func renditionKey(id, name, ext string) string { return catalog.VideoPrefix(id) + "r/" + name + ext }

// packageVideo makes video id playable. A remuxable source is indexed in
// place (no media bytes are copied: the progressive MP4 is the source
// behind a new moov); anything else is transcoded by ffmpeg first.
func (s *Server) packageVideo(ctx context.Context, id string) error {
	v, err := s.catalog.Get(ctx, id)
	if err != nil {
		return err
	}
	if v.Status == catalog.Ready || v.Status == catalog.Failed {
		return nil // already done (a retry after a crash at the very end)
	}
	progress := s.progressReporter(id)
	progress(ctx, "probing", 1)
	info, err := s.store.Head(ctx, v.Source.Key)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	src := s.store.NewReaderAt(ctx, v.Source.Key, info.Size)
	a, err := packager.Analyze(ctx, src, info.Size, packager.Options{SegmentTarget: s.cfg.SegmentTarget})
	if err != nil {
		return err
	}
	if a.Remux() {
		return s.finishRemux(ctx, v, info.Size, a, progress)
	}
	s.log.Info("transcoding", slog.String("id", id), slog.Any("why", a.Transcode), slog.Bool("not_mp4", a.NotMP4))
	return s.transcodeVideo(ctx, v, progress)
}

func (s *Server) finishRemux(ctx context.Context, v *catalog.Video, size int64, a *packager.Analysis, progress progressFunc) error {
	progress(ctx, "indexing", 50)
	const name = "src"
	mp4 := catalog.MP4{
		BodyKey:    v.Source.Key,
		BodyOffset: a.Layout.BodyOffset,
		BodyLength: a.Layout.BodyLength,
		Size:       a.Layout.Size(),
		ETag:       fmt.Sprintf(`"%s-%s-%d"`, v.ID, name, a.Layout.Size()),
	}
	if len(a.Layout.Head) > 0 {
		mp4.HeadKey, mp4.HeadSize = renditionKey(v.ID, name, ".head"), int64(len(a.Layout.Head))
		if err := s.store.Put(ctx, mp4.HeadKey, a.Layout.Head, "video/mp4"); err != nil {
			return err
		}
	}
	r, err := s.storeIndex(ctx, v.ID, name, a.Index, mp4)
	if err != nil {
		return err
	}
	return s.markReady(ctx, v.ID, []catalog.Rendition{r}, a.Index)
}

// storeIndex writes a rendition's index and describes the rendition.
func (s *Server) storeIndex(ctx context.Context, id, name string, ix *index.Index, mp4 catalog.MP4) (catalog.Rendition, error) {
	r := catalog.Rendition{Name: name, IndexKey: renditionKey(id, name, ".idx"), MP4: mp4}
	if err := s.store.Put(ctx, r.IndexKey, ix.Encode(), "application/octet-stream"); err != nil {
		return r, err
	}
	var codecs []string
	for _, t := range ix.Tracks {
		peak, avg := t.Bitrates()
		r.Bandwidth += peak
		r.AverageBandwidth += avg
		codecs = append(codecs, t.Codec)
		if t.Kind == index.Video {
			r.Width, r.Height = int(t.Width), int(t.Height)
		}
	}
	r.Codecs = strings.Join(codecs, ",")
	return r, nil
}

func (s *Server) markReady(ctx context.Context, id string, renditions []catalog.Rendition, top *index.Index) error {
	v, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
		v.Renditions = renditions
		v.AudioFrom = renditions[0].Name
		v.Status, v.Stage, v.Percent, v.Error = catalog.Ready, "", 100, ""
		v.Final = true
		v.DurationS = top.Duration().Seconds()
		if vt := top.Track(index.Video); vt != nil {
			v.Width, v.Height = int(vt.Width), int(vt.Height)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.events.publish(id, eventFor(v))
	return nil
}

// transcodeVideo re-encodes the source with ffmpeg into one H.264/AAC
// faststart MP4, stores it, and indexes it.
func (s *Server) transcodeVideo(ctx context.Context, v *catalog.Video, progress progressFunc) error {
	input, err := s.store.PresignGet(ctx, v.Source.Key, s.cfg.TranscodeTimeout+time.Hour)
	if err != nil {
		return err
	}
	tc := transcode.Config{FFmpeg: s.cfg.FFmpeg, FFprobe: s.cfg.FFprobe, Timeout: s.cfg.TranscodeTimeout}
	progress(ctx, "probing", 2)
	src, err := tc.Probe(ctx, input)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(s.cfg.WorkDir, "streamfront-"+v.ID+"-")
	if err != nil {
		return fmt.Errorf("scratch dir: %w", err)
	}
	defer os.RemoveAll(dir)
	const name = "main"
	out := filepath.Join(dir, name+".mp4")
	err = tc.Encode(ctx, input, src, out, transcode.Rendition{MaxHeight: 1080}, func(p float64) {
		progress(ctx, "transcoding", 5+p*85)
	})
	if err != nil {
		return err
	}
	progress(ctx, "storing", 92)
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	ix, err := packager.IndexRendition(ctx, f, fi.Size(), nil, packager.Options{SegmentTarget: s.cfg.SegmentTarget})
	if err != nil {
		return fmt.Errorf("index our own transcode: %w", err)
	}
	key := renditionKey(v.ID, name, ".mp4")
	if _, err := s.store.Upload(ctx, key, f, "video/mp4"); err != nil {
		return err
	}
	r, err := s.storeIndex(ctx, v.ID, name, ix, catalog.MP4{Key: key, Size: fi.Size(), ETag: fmt.Sprintf(`"%s-%s-%d"`, v.ID, name, fi.Size())})
	if err != nil {
		return err
	}
	return s.markReady(ctx, v.ID, []catalog.Rendition{r}, ix)
}

// progressFunc reports a job's stage and percent.
type progressFunc func(ctx context.Context, stage string, percent float64)

// progressReporter publishes every report and stores one in the catalog
// at most once a second (so other origin processes see it too).
func (s *Server) progressReporter(id string) progressFunc {
	var saved time.Time
	var lastStage string
	return func(ctx context.Context, stage string, percent float64) {
		ev := event{Status: string(catalog.Processing), Stage: stage, Percent: percent}
		s.events.publish(id, ev)
		if time.Since(saved) < time.Second && stage == lastStage {
			return
		}
		saved, lastStage = time.Now(), stage
		_, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
			if v.Status != catalog.Processing {
				return errNotProcessing
			}
			v.Stage, v.Percent = stage, percent
			return nil
		})
		if err != nil && !errors.Is(err, errNotProcessing) && ctx.Err() == nil {
			s.log.Warn("save progress", slog.String("id", id), slog.Any("err", err))
		}
	}
}

var errNotProcessing = errors.New("not processing")
