package fmp4

import (
	"context"
	"io"
)

// Source streams byte ranges of a rendition file.
type Source interface {
	// OpenRange returns bytes [off, off+n). The caller closes it.
	OpenRange(ctx context.Context, off, n int64) (io.ReadCloser, error)
}

// ReaderAtSource serves ranges from an io.ReaderAt (a local file, a byte
// slice in tests).
type ReaderAtSource struct{ R io.ReaderAt }

// OpenRange implements Source.
func (s ReaderAtSource) OpenRange(_ context.Context, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(s.R, off, n)), nil
}
