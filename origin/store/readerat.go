package store

import (
	"context"
	"fmt"
	"io"
)

// ReaderAt reads an object by ranged GETs. Each ReadAt is one request, so
// callers read in large pieces (the packager reads whole sample runs).
type ReaderAt struct {
	ctx  context.Context
	s    *Store
	key  string
	size int64
}

// NewReaderAt returns a ReaderAt over key, whose size the caller knows (Head).
// ctx bounds every read made through it.
func (s *Store) NewReaderAt(ctx context.Context, key string, size int64) *ReaderAt {
	return &ReaderAt{ctx: ctx, s: s, key: key, size: size}
}

// Size is the object's length.
func (r *ReaderAt) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("store: read %s at negative offset", r.key)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := int64(len(p))
	short := false
	if off+want > r.size {
		want = r.size - off
		short = true
	}
	body, err := r.s.GetRange(r.ctx, r.key, off, want)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:want])
	if err != nil {
		return n, fmt.Errorf("store: read %s [%d,+%d): %w", r.key, off, want, err)
	}
	if short {
		return n, io.EOF
	}
	return n, nil
}
