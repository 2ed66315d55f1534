package edge

import (
	"os"
	"sync"
	"sync/atomic"

	"github.com/streamfront/streamfront/edge/internal/disktier"
)

// The fast path sends a large hit from its disk copy with sendfile
// (fastpath/sendfile.go). Opening that file per answer is an open, a
// stat and a close per request, a fifth of the system calls of a
// 100 KiB hit; so, as nginx's open_file_cache does, the file is opened
// once, checked against its header then, and kept open beside the memory
// item (memItem.file) for every later answer of any connection.
//
// Bounds: only memory items keep one, only after a fast-path hit and only
// for bodies of fastSendfileMin or more, and an item closes its file when
// it leaves the memory tier (evicted, replaced, invalidated: the memory
// tier's OnDeletion) — so at most MemoryBytes ÷ fastSendfileMin files are
// open (4096 for the default 256 MiB). A disk file removed meanwhile (its
// disk item evicted or replaced) stays readable until then, as the same
// bytes the memory item holds; the disk space it holds is bounded by the
// memory budget too.
//
// A disk file's bytes never change after its rename into place (a new
// version is a new file), so a descriptor opened once stays right for
// every answer of that version.

// keptFile is a memory item's open disk copy.
type keptFile struct {
	cur atomic.Pointer[openCopy]
	// mu orders opening against closing, so a file opened just as the
	// item leaves the memory tier is not left open.
	mu     sync.Mutex
	closed bool
}

// openCopy is one open disk file and the disk tier's file it is.
type openCopy struct {
	file *disktier.File
	f    *os.File
}

// get returns the open file of di, opening and checking it on first use
// (tier.Open drops an item whose file is gone or of the wrong length);
// nil when that failed or the item has left the memory tier.
func (k *keptFile) get(tier *diskTier, di *diskItem) *os.File {
	if c := k.cur.Load(); c != nil && c.file == di.File {
		return c.f
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	if c := k.cur.Load(); c != nil && c.file == di.File {
		return c.f
	}
	f, err := tier.Open(di)
	if err != nil {
		return nil
	}
	if old := k.cur.Swap(&openCopy{file: di.File, f: f}); old != nil {
		old.f.Close() // an answer still sending from it finishes first
	}
	return f
}

// close closes the open file, if any, for good.
func (k *keptFile) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if old := k.cur.Swap(nil); old != nil {
		old.f.Close()
	}
}
