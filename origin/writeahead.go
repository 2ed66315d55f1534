package origin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
)

// writeAheadUploads is how many objects write-ahead stores at once; each
// holds one part buffer of the store (8 MiB).
const writeAheadUploads = 4

// writeAhead stores every file a viewer can request of v under the same
// paths as its URLs (videos/{id}/master.m3u8, hls/…, r/{name}.mp4), so the
// bucket alone — a static host, or any CDN in front of S3 — can serve the
// video without an origin. Segments are streamed from the sample index
// into S3 exactly as the origin would serve them; memory stays bounded by
// writeAheadUploads part buffers. Private videos are not written: a plain
// bucket cannot check signed URLs.
func (s *core) writeAhead(ctx context.Context, v *catalog.Video) error {
	if v.Visibility == catalog.Private {
		s.log.Info("write-ahead skipped for a private video", slog.String("id", v.ID))
		return nil
	}
	prefix := catalog.VideoPrefix(v.ID)
	master, err := s.masterPlaylist(ctx, v)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writeAheadUploads)
	put := func(key string, body []byte) {
		g.Go(func() error { return s.store.Put(gctx, key, body, contentTypeOf(key)) })
	}
	stream := func(key string, write func(io.Writer) error) {
		g.Go(func() error {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(write(pw)) }()
			_, err := s.store.Upload(gctx, key, pr, contentTypeOf(key))
			pr.CloseWithError(err) // stops the writer if the upload failed first
			return err
		})
	}
	for _, rd := range v.Renditions {
		ix, err := s.indexes.get(ctx, rd.IndexKey)
		if err != nil {
			return err
		}
		src := mp4Source{s: s.store, mp4: rd.MP4}
		base := prefix + "hls/" + rd.Name + "/"
		for _, t := range ix.Tracks {
			playlist, err := hls.Media(t, s.opt.SegmentTarget, hls.InitURI(t.Kind), func(n int) string { return hls.SegmentURI(t.Kind, n) })
			if err != nil {
				return err
			}
			put(base+t.Kind.String()+".m3u8", playlist)
			init, err := fmp4.Init(t)
			if err != nil {
				return err
			}
			put(base+hls.InitURI(t.Kind), init)
			for n := range t.Segments {
				seg, err := fmp4.NewSegment(t, n)
				if err != nil {
					return err
				}
				stream(base+hls.SegmentURI(t.Kind, n), func(w io.Writer) error {
					_, err := seg.WriteTo(gctx, w, src)
					return err
				})
			}
			if t.Kind == index.Video {
				iframes, err := hls.IFrames(t, hls.InitURI(t.Kind))
				if err != nil {
					return err
				}
				put(base+"iframes.m3u8", iframes)
				for k, i := range hls.Keyframes(t) {
					seg, err := fmp4.NewSampleSegment(t, i)
					if err != nil {
						return err
					}
					stream(base+hls.KeyframeURI(k), func(w io.Writer) error {
						_, err := seg.WriteTo(gctx, w, src)
						return err
					})
				}
			}
		}
		if rd.MP4.Key == "" {
			// The source served as it is: its progressive MP4 is a new moov in
			// front of the source's bytes; a plain bucket needs the file.
			stream(renditionKey(v.ID, rd.Name, ".mp4"), func(w io.Writer) error {
				body, err := src.OpenRange(gctx, 0, rd.MP4.Size)
				if err != nil {
					return err
				}
				defer body.Close()
				n, err := io.Copy(w, body)
				if err == nil && n != rd.MP4.Size {
					err = fmt.Errorf("wrote %d of %d bytes", n, rd.MP4.Size)
				}
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("write ahead %s: %w", v.ID, err)
	}
	// The master last: once it is there, everything it points at is.
	return s.store.Put(ctx, prefix+"master.m3u8", master, typePlaylist)
}

func contentTypeOf(key string) string {
	switch {
	case strings.HasSuffix(key, ".m3u8"):
		return typePlaylist
	case strings.HasSuffix(key, ".mp4"), strings.HasSuffix(key, ".m4s"):
		return typeMP4
	}
	return "application/octet-stream"
}
