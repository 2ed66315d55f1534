package origin

import (
	"context"
	"errors"
	"io"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/fmp4"
)

// mp4Source reads a rendition's progressive MP4 bytes, wherever they live:
// one object, or a stored head followed by a range of the source.
type mp4Source struct {
	s   *store.Store
	mp4 catalog.MP4
}

var _ fmp4.Source = mp4Source{}

// OpenRange implements fmp4.Source. Each part opens its ranged GET only
// when the reader reaches it.
func (m mp4Source) OpenRange(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	if off < 0 || n < 0 || off+n > m.mp4.Size {
		return nil, errors.New("origin: range outside the rendition")
	}
	if m.mp4.Key != "" {
		return m.s.GetRange(ctx, m.mp4.Key, off, n)
	}
	var parts []part
	if off < m.mp4.HeadSize {
		k := min(n, m.mp4.HeadSize-off)
		parts = append(parts, part{key: m.mp4.HeadKey, off: off, n: k})
		off, n = off+k, n-k
	}
	if n > 0 {
		parts = append(parts, part{key: m.mp4.BodyKey, off: m.mp4.BodyOffset + off - m.mp4.HeadSize, n: n})
	}
	return &partsReader{ctx: ctx, s: m.s, parts: parts}, nil
}

type part struct {
	key    string
	off, n int64
}

// partsReader reads parts one after the other, holding one S3 response at
// a time.
type partsReader struct {
	ctx   context.Context
	s     *store.Store
	parts []part
	cur   io.ReadCloser
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if len(p.parts) == 0 {
				return 0, io.EOF
			}
			next := p.parts[0]
			p.parts = p.parts[1:]
			body, err := p.s.GetRange(p.ctx, next.key, next.off, next.n)
			if err != nil {
				return 0, err
			}
			p.cur = body
		}
		n, err := p.cur.Read(b)
		if errors.Is(err, io.EOF) {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *partsReader) Close() error {
	if p.cur != nil {
		return p.cur.Close()
	}
	return nil
}
