package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/thumbs"
)

// Images by URL: /videos/{id}/thumbnail.{jpg,webp}?time=&width=&height=&fit=
// and /videos/{id}/animated.{gif,webp}?start=&end=&width=&fps=. Each
// distinct image (thumbs.Image.Name) is made once, from the source, and
// stored under videos/{id}/images/; the answer is immutable, so the edges
// keep it by its URL like any other object.

const (
	// imageSlots bounds the ffmpeg runs making images at once on one
	// origin; more requests wait (as long as their client does).
	imageSlots = 2
	// imageTimeout bounds one run; the bounds on size and span keep real
	// ones at a second or two.
	imageTimeout = time.Minute
)

func imageKey(id, name string) string { return catalog.VideoPrefix(id) + "images/" + name }

func (s *Server) serveImage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.readyVideo(w, r)
	if err != nil {
		return err
	}
	if v.Height == 0 {
		return errorf(http.StatusNotFound, "This video has no picture (it is audio only).")
	}
	kind, format, _ := strings.Cut(chi.URLParam(r, "image"), ".")
	var im thumbs.Image
	if kind == "animated" {
		im, err = thumbs.ParseAnimated(format, r.URL.Query(), v.DurationS)
	} else {
		im, err = thumbs.ParseStill(format, r.URL.Query(), v.DurationS)
	}
	var pe *thumbs.ParseError
	if errors.As(err, &pe) {
		return errorf(http.StatusBadRequest, pe.Error())
	}
	if err != nil {
		return err
	}
	key := imageKey(v.ID, im.Name())
	info, err := s.store.Head(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		// Made once, whoever asks meanwhile waits for the same run.
		_, err, _ = s.imageRuns.Do(key, func() (any, error) { return nil, s.makeImage(context.WithoutCancel(r.Context()), v, im, key) })
		if err == nil {
			info, err = s.store.Head(r.Context(), key)
		}
	}
	if err != nil {
		return err
	}
	return s.serveStored(w, r, key, im.ContentType(), info)
}

// makeImage runs ffmpeg on the source (read by range over a presigned
// URL, so only the bytes near the instant are fetched) and stores the
// image.
func (s *Server) makeImage(ctx context.Context, v *catalog.Video, im thumbs.Image, key string) error {
	select {
	case s.imageSlots <- struct{}{}:
		defer func() { <-s.imageSlots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, imageTimeout)
	defer cancel()
	input, err := s.store.PresignGet(ctx, v.Source.Key, imageTimeout+time.Minute)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(s.cfg.WorkDir, "streamfront-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, im.Name())
	ffmpeg := s.cfg.FFmpeg
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	cmd := exec.CommandContext(ctx, ffmpeg, im.Args(input, out)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		s.log.Warn("image not made", slog.String("id", v.ID), slog.String("image", im.Name()), slog.String("ffmpeg", lastLine(stderr.String())))
		return fmt.Errorf("make %s: %w", im.Name(), err)
	}
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := s.store.Upload(ctx, key, f, im.ContentType()); err != nil {
		return err
	}
	s.log.Info("image made", slog.String("id", v.ID), slog.String("image", im.Name()), slog.Duration("took", time.Since(start)))
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
