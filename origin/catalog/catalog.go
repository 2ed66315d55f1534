package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/sync/errgroup"

	"github.com/streamfront/streamfront/origin/store"
)

// ErrNotFound means there is no such video.
var ErrNotFound = errors.New("video not found")

// maxRecord bounds a meta.json read (hostile or corrupt objects).
const maxRecord = 1 << 20

// RecentTTL is how old a record GetRecent may return.
const RecentTTL = time.Second

// Catalog is the set of video records in a bucket.
type Catalog struct {
	s   *store.Store
	now func() time.Time
	// recent keeps records read for serving media, for RecentTTL: every
	// playlist and segment request needs its video's record, and reading
	// it from S3 each time would double the origin's S3 round trips.
	recent *otter.Cache[string, *Video]
}

// New returns a Catalog over s.
func New(s *store.Store) *Catalog {
	return &Catalog{s: s, now: time.Now, recent: otter.Must(&otter.Options[string, *Video]{
		MaximumSize:      100_000,
		ExpiryCalculator: otter.ExpiryCreating[string, *Video](RecentTTL),
	})}
}

// GetRecent reads a record that may be up to RecentTTL old (a change made
// by this process shows at once; one made by another origin process within
// RecentTTL). Concurrent reads of one record share one S3 request. The
// returned record is shared: callers must not modify it.
func (c *Catalog) GetRecent(ctx context.Context, id string) (*Video, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	return c.recent.Get(ctx, id, otter.LoaderFunc[string, *Video](func(ctx context.Context, id string) (*Video, error) {
		return c.Get(ctx, id)
	}))
}

// VideoPrefix is where everything of video id lives.
func VideoPrefix(id string) string { return "videos/" + id + "/" }

func metaKey(id string) string { return VideoPrefix(id) + "meta.json" }

// Create stores a new record; it fails if the ID is taken.
func (c *Catalog) Create(ctx context.Context, v *Video) error {
	v.CreatedAt = c.now().UTC()
	v.UpdatedAt = v.CreatedAt
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := c.s.PutIfAbsent(ctx, metaKey(v.ID), body, "application/json"); err != nil {
		return fmt.Errorf("catalog: create %s: %w", v.ID, err)
	}
	return nil
}

// Get reads a record.
func (c *Catalog) Get(ctx context.Context, id string) (*Video, error) {
	v, _, err := c.get(ctx, id)
	return v, err
}

func (c *Catalog) get(ctx context.Context, id string) (*Video, string, error) {
	if !ValidID(id) {
		return nil, "", ErrNotFound
	}
	body, etag, err := c.s.Get(ctx, metaKey(id), maxRecord)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("catalog: get %s: %w", id, err)
	}
	var v Video
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, "", fmt.Errorf("catalog: record %s is corrupt: %w", id, err)
	}
	return &v, etag, nil
}

// Update applies fn to the current record and stores the result only if
// nobody changed the record meanwhile (If-Match), retrying on a lost race.
// fn may be called several times; it returns an error to abandon.
func (c *Catalog) Update(ctx context.Context, id string, fn func(*Video) error) (*Video, error) {
	for attempt := 0; ; attempt++ {
		v, etag, err := c.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := fn(v); err != nil {
			return nil, err
		}
		v.UpdatedAt = c.now().UTC()
		body, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		_, err = c.s.PutIfMatch(ctx, metaKey(id), body, "application/json", etag)
		if err == nil {
			c.recent.Invalidate(id)
			return v, nil
		}
		if !errors.Is(err, store.ErrPrecondition) || attempt >= 20 {
			return nil, fmt.Errorf("catalog: update %s: %w", id, err)
		}
		// Lost a race with another writer: read again and reapply.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}

// List returns up to limit records after cursor (an ID), newest first, and
// the cursor of the next page ("" at the end).
func (c *Catalog) List(ctx context.Context, cursor string, limit int) ([]*Video, string, error) {
	after := ""
	if cursor != "" {
		if !ValidID(cursor) {
			return nil, "", fmt.Errorf("catalog: bad cursor")
		}
		after = VideoPrefix(cursor) + "\xff"
	}
	keys, more, err := c.s.ListPage(ctx, "videos/", after, "/", int32(limit))
	if err != nil {
		return nil, "", fmt.Errorf("catalog: list: %w", err)
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, "videos/"), "/")
		if ValidID(id) {
			ids = append(ids, id)
		}
	}
	videos := make([]*Video, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range ids {
		g.Go(func() error {
			v, err := c.Get(gctx, id)
			if errors.Is(err, ErrNotFound) {
				return nil // deleted meanwhile, or an upload's first write not landed yet
			}
			videos[i] = v
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, "", err
	}
	out := videos[:0]
	for _, v := range videos {
		if v != nil {
			out = append(out, v)
		}
	}
	next := ""
	if more && len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	return out, next, nil
}

// Delete removes every object of the video: record, renditions, source.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	defer c.recent.Invalidate(id)
	if err := c.s.Delete(ctx, "sources/"+id); err != nil {
		return err
	}
	// The record goes last: until it is gone the video is listed, so a
	// failure half way leaves something a person can delete again.
	if err := c.s.DeletePrefix(ctx, VideoPrefix(id)+"r/"); err != nil {
		return err
	}
	if err := c.s.DeletePrefix(ctx, VideoPrefix(id)); err != nil {
		return err
	}
	return nil
}

// SourceKey is where the upload of video id is stored.
func SourceKey(id string) string { return "sources/" + id }
