package origin

import (
	"context"
	"fmt"
	"strings"

	"github.com/maypok86/otter/v2"

	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/index"
)

// maxIndexBytes bounds one index object read from S3.
const maxIndexBytes = 256 << 20

// indexCache keeps decoded sample indexes in memory (W-TinyLFU, weighed by
// their size), loading each once however many requests want it at the
// same moment: every playlist and segment request needs one.
type indexCache struct {
	c *otter.Cache[string, *index.Index]
	s *store.Store
}

func newIndexCache(s *store.Store, budget int64) *indexCache {
	return &indexCache{s: s, c: otter.Must(&otter.Options[string, *index.Index]{
		MaximumWeight: uint64(budget),
		Weigher: func(_ string, ix *index.Index) uint32 {
			w := 1024
			for _, t := range ix.Tracks {
				w += len(t.Samples)*24 + len(t.Segments)*16 + len(t.SampleEntry)
			}
			return uint32(w)
		},
	})}
}

// get returns the index stored at key.
func (c *indexCache) get(ctx context.Context, key string) (*index.Index, error) {
	return c.c.Get(ctx, key, otter.LoaderFunc[string, *index.Index](func(ctx context.Context, key string) (*index.Index, error) {
		data, _, err := c.s.Get(ctx, key, maxIndexBytes)
		if err != nil {
			return nil, err
		}
		ix, err := index.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", key, err)
		}
		return ix, nil
	}))
}

// forget drops the indexes of a deleted video.
func (c *indexCache) forget(id string) {
	prefix := "videos/" + id + "/"
	for k := range c.c.Keys() {
		if strings.HasPrefix(k, prefix) {
			c.c.Invalidate(k)
		}
	}
}
