package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
)

// Two origins (two catalogs on one bucket) update one record at once:
// every update lands, none is lost to a concurrent write (If-Match and
// retry on 412 against a real S3 server).
func TestCatalog_ConcurrentUpdatesFromTwoOriginsAllLand(t *testing.T) {
	s3 := testenv.StartS3(t)
	ctx := context.Background()
	var origins []*catalog.Catalog
	for range 2 {
		st, err := store.New(store.Config{Endpoint: s3.Endpoint, Bucket: "streamfront", AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, PathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.EnsureBucket(ctx); err != nil {
			t.Fatal(err)
		}
		origins = append(origins, catalog.New(st))
	}
	id := catalog.NewID(time.Now())
	if err := origins[0].Create(ctx, &catalog.Video{ID: id, Title: "shared"}); err != nil {
		t.Fatal(err)
	}
	const each = 8
	var wg sync.WaitGroup
	for o, c := range origins {
		for i := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tag := fmt.Sprintf("o%d-%d", o, i)
				if _, err := c.Update(ctx, id, func(v *catalog.Video) error {
					v.Tags = append(v.Tags, tag)
					return nil
				}); err != nil {
					t.Errorf("update %s: %v", tag, err)
				}
			}()
		}
	}
	wg.Wait()
	v, err := origins[1].Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Tags) != 2*each {
		t.Fatalf("%d of %d updates landed: %v", len(v.Tags), 2*each, v.Tags)
	}
	slices.Sort(v.Tags)
	if len(slices.Compact(v.Tags)) != 2*each {
		t.Fatalf("an update landed twice: %v", v.Tags)
	}
}
