package edge

import (
	"fmt"
	"math"

	"github.com/maypok86/otter/v2"
)

// memItem is a memory-tier value: the entry and its whole body.
type memItem struct {
	meta *entry
	body []byte
	enc  encodedSlots // brotli and gzip variants of a text body, made on first use (compress.go)
	fast fastSlot     // header lines for the fast path, made on first use (fastpath_answer.go)
	file keptFile     // the disk copy, kept open for the fast path (fastpath_files.go)
}

// memItemOverhead approximates the bytes an item costs beyond its body
// (entry, headers, map slots, and the fast path's header lines of about
// 700 bytes once it is hit there), so a flood of tiny 404s is budgeted
// too.
const memItemOverhead = 1024

// memoryTier is a byte-budgeted W-TinyLFU cache (otter): a one-time scan of
// many objects cannot push out the popular ones, because a newcomer is only
// admitted when it is estimated to be used more often than the victim.
type memoryTier struct {
	c *otter.Cache[string, *memItem]
	// maxItem is the largest item worth admitting; bigger ones would evict
	// too much for one object. It is a quarter of the budget.
	maxItem int64
}

func newMemoryTier(budget int64) (*memoryTier, error) {
	c, err := otter.New(&otter.Options[string, *memItem]{
		MaximumWeight: uint64(budget),
		Weigher: func(key string, it *memItem) uint32 {
			return uint32(min(int64(len(key)+len(it.body)+memItemOverhead), math.MaxUint32))
		},
		// An item that leaves closes the disk file it kept open.
		OnDeletion: func(ev otter.DeletionEvent[string, *memItem]) { ev.Value.file.close() },
	})
	if err != nil {
		return nil, fmt.Errorf("memory tier: %w", err)
	}
	return &memoryTier{c: c, maxItem: budget / 4}, nil
}

func (t *memoryTier) get(key string) (*memItem, bool) { return t.c.GetIfPresent(key) }

func (t *memoryTier) set(it *memItem) {
	if int64(len(it.body)) > t.maxItem {
		t.c.Invalidate(it.meta.key)
		return
	}
	t.c.Set(it.meta.key, it)
}

func (t *memoryTier) remove(key string) { t.c.Invalidate(key) }

// bytes is the budgeted weight in use.
func (t *memoryTier) bytes() uint64 { return t.c.WeightedSize() }

// close stops the tier and closes the disk files its items kept open.
func (t *memoryTier) close() {
	t.c.StopAllGoroutines()
	for _, it := range t.c.All() {
		it.file.close()
	}
}
