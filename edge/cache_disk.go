package edge

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// Disk file format, one cached item per file:
//
//	"SFC1"             magic, 4 bytes
//	uint32 big-endian  length H of the JSON header
//	H bytes            diskHeader as JSON (key, status, headers, body length…)
//	body               exactly BodyLen bytes
//
// A file whose length is not 8+H+BodyLen is corrupt (a crash mid-write on
// a file system that reordered, a disk full, a hand edit): it is deleted
// and the object refetched, never served.
const (
	diskMagic      = "SFC1"
	diskPrefixLen  = 8
	maxDiskHeader  = 1 << 20 // a header larger than this is corrupt: bounds the allocation.
	diskFileSuffix = ".sfc"
)

// errCorrupt reports a disk file that disagrees with its header.
var errCorrupt = errors.New("corrupt cache file")

type diskHeader struct {
	Key        string      `json:"key"`
	Kind       entryKind   `json:"kind"`
	Status     int         `json:"status"`
	Header     http.Header `json:"header"`
	Size       int64       `json:"size"`
	BodyLen    int64       `json:"body_len"`
	Date       int64       `json:"date_unix_nano"`
	InitialAge int64       `json:"initial_age_ns"`
	FreshFor   int64       `json:"fresh_for_ns"`
	SWR        int64       `json:"swr_ns"`
	SIE        int64       `json:"sie_ns"`
}

// diskFile is one file on disk. Several index items may share it (a 304
// refresh updates the index entry but keeps the file), so the file is
// deleted only when no current item points at it.
type diskFile struct {
	path string
	size int64
}

// diskItem is a disk-tier index value. The whole index lives in memory, so
// a lookup costs no I/O.
type diskItem struct {
	meta       *entry
	file       *diskFile
	bodyOffset int64
}

// diskTier stores items as files under dir with a byte budget, using the
// same W-TinyLFU admission as the memory tier.
type diskTier struct {
	dir string
	log *slog.Logger
	idx *otter.Cache[string, *diskItem]
	seq atomic.Uint64
}

func openDiskTier(dir string, budget int64, log *slog.Logger) (*diskTier, error) {
	t := &diskTier{dir: dir, log: log}
	for _, sub := range []string{"objects", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("disk tier: %w", err)
		}
	}
	idx, err := otter.New(&otter.Options[string, *diskItem]{
		MaximumWeight: uint64(budget),
		Weigher: func(_ string, it *diskItem) uint32 {
			return uint32(min(it.file.size, math.MaxUint32))
		},
		OnDeletion: t.onDeletion,
	})
	if err != nil {
		return nil, fmt.Errorf("disk tier: %w", err)
	}
	t.idx = idx
	if err := t.rebuild(); err != nil {
		return nil, err
	}
	return t, nil
}

// onDeletion removes the file of an item leaving the index, unless the
// key's current item still uses it (a refresh replaced only metadata).
func (t *diskTier) onDeletion(ev otter.DeletionEvent[string, *diskItem]) {
	if cur, ok := t.idx.GetIfPresent(ev.Key); ok && cur.file == ev.Value.file {
		return
	}
	if err := os.Remove(ev.Value.file.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.log.Warn("disk tier: remove evicted file", "path", ev.Value.file.path, "err", err)
	}
}

func (t *diskTier) get(key string) (*diskItem, bool) { return t.idx.GetIfPresent(key) }

func (t *diskTier) remove(key string) { t.idx.Invalidate(key) }

func (t *diskTier) bytes() uint64 { return t.idx.WeightedSize() }

func (t *diskTier) close() { t.idx.StopAllGoroutines() }

// updateMeta replaces the metadata of a stored item without touching its
// file (after a 304). The file's own header keeps the old freshness, so
// after a restart the item is merely revalidated once more.
func (t *diskTier) updateMeta(old *diskItem, meta *entry) {
	t.idx.Set(meta.key, &diskItem{meta: meta, file: old.file, bodyOffset: old.bodyOffset})
}

// write stores meta and body: to a temp file first, renamed into place when
// complete, so a reader (or a restart) never sees a half-written file.
func (t *diskTier) write(meta *entry, body []byte) error {
	hdr, err := json.Marshal(diskHeader{
		Key: meta.key, Kind: meta.kind, Status: meta.status, Header: meta.header,
		Size: meta.size, BodyLen: int64(len(body)), Date: meta.date.UnixNano(),
		InitialAge: int64(meta.initialAge), FreshFor: int64(meta.freshFor),
		SWR: int64(meta.swr), SIE: int64(meta.sie),
	})
	if err != nil {
		return fmt.Errorf("disk tier: encode %s: %w", meta.key, err)
	}
	tmp, err := os.CreateTemp(filepath.Join(t.dir, "tmp"), "fill-*")
	if err != nil {
		return fmt.Errorf("disk tier: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	prefix := make([]byte, diskPrefixLen, diskPrefixLen+len(hdr))
	copy(prefix, diskMagic)
	binary.BigEndian.PutUint32(prefix[4:], uint32(len(hdr)))
	_, err = tmp.Write(append(prefix, hdr...))
	if err == nil {
		_, err = tmp.Write(body)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("disk tier: write %s: %w", meta.key, err)
	}
	final := t.pathFor(meta.key)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("disk tier: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("disk tier: rename %s: %w", meta.key, err)
	}
	bodyOffset := int64(diskPrefixLen + len(hdr))
	t.idx.Set(meta.key, &diskItem{
		meta:       meta,
		file:       &diskFile{path: final, size: bodyOffset + int64(len(body))},
		bodyOffset: bodyOffset,
	})
	return nil
}

// pathFor names a new file for key: a hash fan-out directory, and a unique
// suffix so a new version never overwrites a file a reader has open.
func (t *diskTier) pathFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:16])
	name := h + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" +
		strconv.FormatUint(t.seq.Add(1), 36) + diskFileSuffix
	return filepath.Join(t.dir, "objects", h[:2], name)
}

// open opens the item's file for reading its body and checks its length
// against the header. A mismatch drops the item (and its file) and returns
// errCorrupt, so the caller refetches.
func (t *diskTier) open(it *diskItem) (*os.File, error) {
	f, err := os.Open(it.file.path)
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && st.Size() != it.file.size {
			err = fmt.Errorf("%w: %s is %d bytes, header says %d", errCorrupt, it.file.path, st.Size(), it.file.size)
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		t.drop(it, err)
		return nil, fmt.Errorf("disk tier: open %s: %w", it.meta.key, errCorrupt)
	}
	return f, nil
}

// readBody reads the whole body of a (small) item, verifying its length.
func (t *diskTier) readBody(it *diskItem) ([]byte, error) {
	f, err := t.open(it)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body := make([]byte, it.file.size-it.bodyOffset)
	if _, err := f.ReadAt(body, it.bodyOffset); err != nil {
		t.drop(it, err)
		return nil, fmt.Errorf("disk tier: read %s: %w", it.meta.key, errCorrupt)
	}
	return body, nil
}

// drop removes a damaged item, if it is still the current one.
func (t *diskTier) drop(it *diskItem, cause error) {
	t.log.Warn("disk tier: dropping unreadable cache file", "key", it.meta.key, "path", it.file.path, "err", cause)
	t.idx.ComputeIfPresent(it.meta.key, func(cur *diskItem) (*diskItem, otter.ComputeOp) {
		if cur.file == it.file {
			return nil, otter.InvalidateOp
		}
		return cur, otter.CancelOp
	})
	os.Remove(it.file.path)
}

// rebuild fills the index from the files on disk: temp files left by a
// crash are removed, corrupt files are removed, and of two files for one
// key the newer wins.
func (t *diskTier) rebuild() error {
	tmpDir := filepath.Join(t.dir, "tmp")
	if ents, err := os.ReadDir(tmpDir); err == nil {
		for _, de := range ents {
			os.Remove(filepath.Join(tmpDir, de.Name()))
		}
	}
	found := make(map[string]*diskItem)
	var kept, dropped int
	err := filepath.WalkDir(filepath.Join(t.dir, "objects"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, diskFileSuffix) {
			return err
		}
		it, err := readDiskItem(path)
		if err != nil {
			t.log.Warn("disk tier: removing unreadable cache file", "path", path, "err", err)
			os.Remove(path)
			dropped++
			return nil
		}
		if old, ok := found[it.meta.key]; ok {
			loser := it
			if it.meta.date.After(old.meta.date) {
				loser, found[it.meta.key] = old, it
			}
			os.Remove(loser.file.path)
			return nil
		}
		found[it.meta.key] = it
		return nil
	})
	if err != nil {
		return fmt.Errorf("disk tier: scan %s: %w", t.dir, err)
	}
	for k, it := range found {
		t.idx.Set(k, it)
		kept++
	}
	t.log.Info("disk tier: index rebuilt", "dir", t.dir, "items", kept, "removed", dropped)
	return nil
}

// readDiskItem reads and checks the header of one cache file.
func readDiskItem(path string) (*diskItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var prefix [diskPrefixLen]byte
	if _, err := io.ReadFull(f, prefix[:]); err != nil {
		return nil, fmt.Errorf("%w: short prefix", errCorrupt)
	}
	if string(prefix[:4]) != diskMagic {
		return nil, fmt.Errorf("%w: bad magic", errCorrupt)
	}
	hlen := int64(binary.BigEndian.Uint32(prefix[4:]))
	if hlen > maxDiskHeader || diskPrefixLen+hlen > st.Size() {
		return nil, fmt.Errorf("%w: header length %d", errCorrupt, hlen)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%w: short header", errCorrupt)
	}
	var h diskHeader
	if err := json.Unmarshal(buf, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", errCorrupt, err)
	}
	if h.Key == "" || h.BodyLen < 0 || diskPrefixLen+hlen+h.BodyLen != st.Size() {
		return nil, fmt.Errorf("%w: file is %d bytes, header says %d", errCorrupt, st.Size(), diskPrefixLen+hlen+h.BodyLen)
	}
	meta := &entry{
		key: h.Key, kind: h.Kind, status: h.Status, header: h.Header,
		date: time.Unix(0, h.Date), initialAge: time.Duration(h.InitialAge),
		freshFor: time.Duration(h.FreshFor), swr: time.Duration(h.SWR), sie: time.Duration(h.SIE),
		storable: true,
	}
	if meta.header == nil {
		meta.header = http.Header{}
	}
	meta.setValidators()
	meta.setAccess()
	meta.setSize(h.Size)
	return &diskItem{meta: meta, file: &diskFile{path: path, size: st.Size()}, bodyOffset: diskPrefixLen + hlen}, nil
}
