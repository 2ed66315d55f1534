package origin

import (
	"context"
	"strings"
	"time"

	"github.com/streamfront/streamfront/origin/catalog"
)

// measureStorage adds up what v keeps in S3 (its source, and everything
// under videos/{id}/), for the operator's storage bill. It runs once a
// video is final: nothing is added after that but the record itself.
func (s *core) measureStorage(ctx context.Context, v *catalog.Video) (*catalog.Storage, error) {
	st := &catalog.Storage{SourceBytes: v.Source.Size, MeasuredAt: time.Now().UTC()}
	if v.Source.Size > 0 {
		st.Objects++
	}
	prefix := catalog.VideoPrefix(v.ID)
	err := s.store.Sizes(ctx, prefix, func(key string, size int64) {
		st.Objects++
		switch rest := strings.TrimPrefix(key, prefix); {
		case strings.HasSuffix(rest, ".idx"):
			st.OtherBytes += size
		case strings.HasPrefix(rest, "r/"), strings.HasPrefix(rest, "hls/"):
			st.RenditionBytes += size
		case strings.HasPrefix(rest, "thumbs/"):
			st.ThumbnailBytes += size
		default:
			st.OtherBytes += size
		}
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}
