package disktier

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"math"
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
//	H bytes            the header, made by the Codec (the edge: JSON with
//	                   key, status, headers, body length…)
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

// ErrCorrupt reports a disk file that disagrees with its header.
var ErrCorrupt = errors.New("corrupt cache file")

// Codec turns the caller's metadata M into a file header and back.
type Codec[M any] interface {
	// Encode returns the header of an item with body length bodyLen.
	Encode(key string, m M, bodyLen int64) ([]byte, error)
	// Decode reads a header made by Encode.
	Decode(hdr []byte) (key string, bodyLen int64, m M, err error)
	// Newer reports whether a is a newer version than b: of two files
	// for one key found at start, the newer is kept.
	Newer(a, b M) bool
}

// File is one file on disk. Several index items may share it (a 304
// refresh updates the index entry but keeps the file), so the file is
// deleted only when no current item points at it.
type File struct {
	Path string
	Size int64 // the whole file's
}

// Item is an index value. The whole index lives in memory, so a lookup
// costs no I/O.
type Item[M any] struct {
	Key        string
	Meta       M
	File       *File
	BodyOffset int64 // where the body starts in File
}

// Tier stores items as files under a directory with a byte budget, using
// W-TinyLFU admission (otter), as the edge's memory tier does.
type Tier[M any] struct {
	dir   string
	log   *slog.Logger
	codec Codec[M]
	idx   *otter.Cache[string, *Item[M]]
	seq   atomic.Uint64
}

// Open opens the tier in dir (made if missing) and rebuilds its index
// from the files there.
func Open[M any](dir string, budget int64, codec Codec[M], log *slog.Logger) (*Tier[M], error) {
	t := &Tier[M]{dir: dir, log: log, codec: codec}
	for _, sub := range []string{"objects", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("disk tier: %w", err)
		}
	}
	idx, err := otter.New(&otter.Options[string, *Item[M]]{
		MaximumWeight: uint64(budget),
		Weigher: func(_ string, it *Item[M]) uint32 {
			return uint32(min(it.File.Size, math.MaxUint32))
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
func (t *Tier[M]) onDeletion(ev otter.DeletionEvent[string, *Item[M]]) {
	if cur, ok := t.idx.GetIfPresent(ev.Key); ok && cur.File == ev.Value.File {
		return
	}
	if err := os.Remove(ev.Value.File.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.log.Warn("disk tier: remove evicted file", "path", ev.Value.File.Path, "err", err)
	}
}

// Get returns the item of key, without I/O.
func (t *Tier[M]) Get(key string) (*Item[M], bool) { return t.idx.GetIfPresent(key) }

// Remove forgets key (its file is deleted).
func (t *Tier[M]) Remove(key string) { t.idx.Invalidate(key) }

// Keys ranges over the keys held.
func (t *Tier[M]) Keys() iter.Seq[string] { return t.idx.Keys() }

// Bytes is the budgeted weight in use.
func (t *Tier[M]) Bytes() uint64 { return t.idx.WeightedSize() }

// Close stops the index's goroutines.
func (t *Tier[M]) Close() { t.idx.StopAllGoroutines() }

// UpdateMeta replaces the metadata of a stored item without touching its
// file (after a 304) and returns the new item. The file's own header
// keeps the old metadata, so after a restart the item is merely
// revalidated once more.
func (t *Tier[M]) UpdateMeta(old *Item[M], meta M) *Item[M] {
	it := &Item[M]{Key: old.Key, Meta: meta, File: old.File, BodyOffset: old.BodyOffset}
	t.idx.Set(old.Key, it)
	return it
}

// Write stores meta and body under key: to a temp file first, renamed
// into place when complete, so a reader (or a restart) never sees a
// half-written file.
func (t *Tier[M]) Write(key string, meta M, body []byte) error {
	hdr, err := t.codec.Encode(key, meta, int64(len(body)))
	if err != nil {
		return fmt.Errorf("disk tier: encode %s: %w", key, err)
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
		return fmt.Errorf("disk tier: write %s: %w", key, err)
	}
	final := t.pathFor(key)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("disk tier: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("disk tier: rename %s: %w", key, err)
	}
	bodyOffset := int64(diskPrefixLen + len(hdr))
	t.idx.Set(key, &Item[M]{
		Key:        key,
		Meta:       meta,
		File:       &File{Path: final, Size: bodyOffset + int64(len(body))},
		BodyOffset: bodyOffset,
	})
	return nil
}

// pathFor names a new file for key: a hash fan-out directory, and a unique
// suffix so a new version never overwrites a file a reader has open.
func (t *Tier[M]) pathFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:16])
	name := h + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" +
		strconv.FormatUint(t.seq.Add(1), 36) + diskFileSuffix
	return filepath.Join(t.dir, "objects", h[:2], name)
}

// Open opens the item's file for reading its body (at it.BodyOffset) and
// checks its length against the header. A mismatch drops the item (and
// its file) and returns ErrCorrupt, so the caller refetches.
func (t *Tier[M]) Open(it *Item[M]) (*os.File, error) {
	f, err := os.Open(it.File.Path)
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && st.Size() != it.File.Size {
			err = fmt.Errorf("%w: %s is %d bytes, header says %d", ErrCorrupt, it.File.Path, st.Size(), it.File.Size)
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		t.Drop(it, err)
		return nil, fmt.Errorf("disk tier: open %s: %w", it.Key, ErrCorrupt)
	}
	return f, nil
}

// ReadBody reads the whole body of a (small) item, verifying its length.
func (t *Tier[M]) ReadBody(it *Item[M]) ([]byte, error) {
	f, err := t.Open(it)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body := make([]byte, it.File.Size-it.BodyOffset)
	if _, err := f.ReadAt(body, it.BodyOffset); err != nil {
		t.Drop(it, err)
		return nil, fmt.Errorf("disk tier: read %s: %w", it.Key, ErrCorrupt)
	}
	return body, nil
}

// Drop removes a damaged item, if it is still the current one.
func (t *Tier[M]) Drop(it *Item[M], cause error) {
	t.log.Warn("disk tier: dropping unreadable cache file", "key", it.Key, "path", it.File.Path, "err", cause)
	t.idx.ComputeIfPresent(it.Key, func(cur *Item[M]) (*Item[M], otter.ComputeOp) {
		if cur.File == it.File {
			return nil, otter.InvalidateOp
		}
		return cur, otter.CancelOp
	})
	os.Remove(it.File.Path)
}

// rebuild fills the index from the files on disk: temp files left by a
// crash are removed, corrupt files are removed, and of two files for one
// key the newer wins.
func (t *Tier[M]) rebuild() error {
	tmpDir := filepath.Join(t.dir, "tmp")
	if ents, err := os.ReadDir(tmpDir); err == nil {
		for _, de := range ents {
			os.Remove(filepath.Join(tmpDir, de.Name()))
		}
	}
	found := make(map[string]*Item[M])
	var kept, dropped int
	err := filepath.WalkDir(filepath.Join(t.dir, "objects"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, diskFileSuffix) {
			return err
		}
		it, err := t.readItem(path)
		if err != nil {
			t.log.Warn("disk tier: removing unreadable cache file", "path", path, "err", err)
			os.Remove(path)
			dropped++
			return nil
		}
		if old, ok := found[it.Key]; ok {
			loser := it
			if t.codec.Newer(it.Meta, old.Meta) {
				loser, found[it.Key] = old, it
			}
			os.Remove(loser.File.Path)
			return nil
		}
		found[it.Key] = it
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

// readItem reads and checks the header of one cache file.
func (t *Tier[M]) readItem(path string) (*Item[M], error) {
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
		return nil, fmt.Errorf("%w: short prefix", ErrCorrupt)
	}
	if string(prefix[:4]) != diskMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	hlen := int64(binary.BigEndian.Uint32(prefix[4:]))
	if hlen > maxDiskHeader || diskPrefixLen+hlen > st.Size() {
		return nil, fmt.Errorf("%w: header length %d", ErrCorrupt, hlen)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	key, bodyLen, meta, err := t.codec.Decode(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if key == "" || bodyLen < 0 || diskPrefixLen+hlen+bodyLen != st.Size() {
		return nil, fmt.Errorf("%w: file is %d bytes, header says %d", ErrCorrupt, st.Size(), diskPrefixLen+hlen+bodyLen)
	}
	return &Item[M]{Key: key, Meta: meta, File: &File{Path: path, Size: st.Size()}, BodyOffset: diskPrefixLen + hlen}, nil
}
