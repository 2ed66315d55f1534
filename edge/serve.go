package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/streamfront/streamfront/internal/httprange"
	"github.com/streamfront/streamfront/internal/livehdr"
)

// promoteLimit is the largest disk item copied into memory on a disk hit;
// larger ones are streamed from the file (sendfile) instead.
const promoteLimit = 16 << 20

// serveCacheable answers GET and HEAD of cached paths from the cache,
// filling it on a miss. A corrupt disk file found on the way is dropped
// and the request starts over once, as a miss.
func (e *Edge) serveCacheable(w http.ResponseWriter, r *http.Request) error {
	key := e.cacheKey(r)
	sliced := e.isSliced(r.URL.Path)
	peer := e.fromPeerEdge(r)
	if v := r.Header[livehdr.Viewers]; peer && len(v) > 0 {
		e.live.notePeerReport(r.URL.Path, v)
	}
	var err error
	for range 2 {
		err = e.serveKey(w, r, key, sliced, peer)
		if !errors.Is(err, errCorrupt) || headersSent(w) {
			return err
		}
	}
	return err
}

// serveKey decides between hit, stale, refresh and miss for one key.
// Every answer from the cache or a fill goes through serveEntry or
// serveFill, which enforce the object's access requirement (access.go)
// unless peer says another edge asks.
func (e *Edge) serveKey(w http.ResponseWriter, r *http.Request, key string, sliced, peer bool) error {
	now := e.cfg.Now()
	c, ok := e.lookup(key)
	var prev, stored *cached
	if ok {
		stored = &c
		reusable := c.meta.varyMatches(r.Header)
		switch {
		case c.meta.kind == kindPass && c.meta.fresh(now):
			return e.passThrough(w, r)
		case c.meta.kind == kindPass:
			// An expired pass marker: try caching again.
		case !reusable:
			// Another variant (Vary): a miss that replaces it.
		case c.meta.fresh(now):
			return e.serveEntry(w, r, c, xcacheHit, peer)
		case c.meta.usableWhileRevalidating(now):
			e.revalidateInBackground(key, requestURIOf(r), c, sliced, r)
			return e.serveEntry(w, r, c, xcacheStale, peer)
		case c.meta.usableOnError(now) && e.originDown(now):
			// The origin failed moments ago: answer from the stale copy at
			// once and let one background revalidation probe the origin.
			e.revalidateInBackground(key, requestURIOf(r), c, sliced, r)
			return e.serveEntry(w, r, c, xcacheStale, peer)
		default:
			prev = &c
		}
	}

	uri := requestURIOf(r) // only now: a hit does not need it
	var f *fill
	if sliced {
		f = e.joinSliceFill(key, uri, e.firstSliceWanted(r), prev)
	} else {
		var storedMeta *entry
		if stored != nil && stored.meta.kind != kindPass {
			storedMeta = stored.meta
		}
		f = e.joinWholeFill(key, uri, prev, r, storedMeta)
	}
	if err := f.waitHinting(w, r); err != nil {
		return err
	}
	switch f.outcome {
	case outcomeCached:
		return e.serveEntry(w, r, f.hit, xcacheHit, peer)
	case outcomeRefreshed:
		return e.serveEntry(w, r, f.hit, xcacheRefreshHit, peer)
	case outcomePass:
		return e.passThrough(w, r)
	case outcomeFailed:
		if prev != nil && prev.meta.usableOnError(now) {
			return e.serveEntry(w, r, *prev, xcacheStale, peer)
		}
		return f.err
	}
	if !f.answers(r) {
		return e.passThrough(w, r)
	}
	return e.serveFill(w, r, f, uri, peer)
}

// answers reports whether the answer a whole fill streams may go to r.
// It always may to the request that started the fill. One that joined
// gets it only if a shared cache could reuse it: an answer that turned
// out private, personal (Set-Cookie, or for someone's credentials),
// otherwise unstorable, or varying on fields r has other values for (or
// on "*") is not r's, so r asks the origin itself. Errors (5xx) are
// shared, so a failing origin is not asked once per waiting client.
func (f *fill) answers(r *http.Request) bool {
	if f.starter == nil || f.starter == r {
		return true
	}
	return (f.meta.storable || f.meta.status >= 500) && f.meta.varyMatches(r.Header)
}

// serveFill answers a miss from the fill that carries its body, once the
// origin's headers say whether the object needs a token.
func (e *Edge) serveFill(w http.ResponseWriter, r *http.Request, f *fill, uri string, peer bool) error {
	g, err := e.checkAccess(r, f.meta, peer)
	if err != nil {
		return err
	}
	if g != nil && !f.hasSlice {
		body, err := f.body.wait(r.Context())
		if err != nil {
			return err
		}
		return e.writeRewritten(w, r, f.meta, body, g, xcacheMiss)
	}
	var src bodySource = f.body
	if f.hasSlice {
		src = &slicedSource{e: e, meta: f.meta, uri: uri, first: f}
	}
	return e.writeObject(w, r, f.meta, src, xcacheMiss)
}

// firstSliceWanted guesses, before the object's length is known, which
// slice a request starts in: the slice of an explicit first byte, else 0.
func (e *Edge) firstSliceWanted(r *http.Request) int64 {
	specs, err := httprange.ParseSpecs(r.Header.Get("Range"))
	if err != nil || r.Method != http.MethodGet {
		return 0
	}
	first := int64(-1)
	for _, s := range specs {
		if s.Suffix >= 0 {
			return 0
		}
		if first < 0 || s.First < first {
			first = s.First
		}
	}
	return max(0, first) / e.cfg.SliceSize
}

// revalidateInBackground starts (or joins) a refresh of a stale entry
// that nobody waits for.
func (e *Edge) revalidateInBackground(key, uri string, c cached, sliced bool, r *http.Request) {
	if sliced && c.meta.kind == kindSliced {
		e.joinSliceFill(key, uri, 0, &c)
		return
	}
	e.joinWholeFill(key, uri, &c, r, c.meta)
}

// serveEntry answers from a cached entry, after checking its access
// requirement. A public entry costs one bool test here.
func (e *Edge) serveEntry(w http.ResponseWriter, r *http.Request, c cached, x xcache, peer bool) error {
	if c.meta.signed {
		g, err := e.checkAccess(r, c.meta, peer)
		if err != nil {
			return err
		}
		if g != nil {
			body, err := e.entryBody(c)
			if err != nil {
				return err
			}
			return e.writeRewritten(w, r, c.meta, body, g, x)
		}
	}
	switch {
	case c.meta.kind == kindSliced:
		src := &slicedSource{e: e, meta: c.meta, uri: requestURIOf(r)}
		return e.writeObject(w, r, c.meta, src, x)
	case c.mem != nil:
		if c.meta.compressible && r.Header.Get("Range") == "" {
			if cd := preferredCoding(r); cd != codingIdentity {
				v := c.mem.encoded(cd)
				return e.writeObject(w, r, v.meta, bytesSource(v.body), x)
			}
		}
		return e.writeObject(w, r, c.meta, bytesSource(c.mem.body), x)
	case c.disk != nil && c.meta.size <= promoteLimit:
		body, err := e.disk.ReadBody(c.disk)
		if err != nil {
			return err
		}
		e.mem.set(&memItem{meta: c.meta, body: body})
		return e.writeObject(w, r, c.meta, bytesSource(body), x)
	case c.disk != nil:
		f, err := e.disk.Open(c.disk)
		if err != nil {
			return err
		}
		defer f.Close()
		return e.writeObject(w, r, c.meta, &diskSource{tier: e.disk, item: c.disk, f: f}, x)
	}
	return fmt.Errorf("cache entry %s has no body", c.meta.key)
}

// entryBody reads the whole body of a cached whole entry.
func (e *Edge) entryBody(c cached) ([]byte, error) {
	switch {
	case c.mem != nil:
		return c.mem.body, nil
	case c.disk != nil:
		return e.disk.ReadBody(c.disk)
	}
	return nil, fmt.Errorf("cache entry %s has no body", c.meta.key)
}

// bodySource writes bytes [off, off+n) of a body; n < 0 means to the end
// of a body whose length is not known yet.
type bodySource interface {
	copyTo(ctx context.Context, w *bodyWriter, off, n int64) error
}

// bytesSource is a body held in memory.
type bytesSource []byte

func (b bytesSource) copyTo(_ context.Context, w *bodyWriter, off, n int64) error {
	if n < 0 {
		n = int64(len(b)) - off
	}
	return w.write(b[off : off+n])
}

// diskSource streams a large body from its cache file; net/http turns the
// copy into sendfile.
type diskSource struct {
	tier *diskTier
	item *diskItem
	f    *os.File
}

func (d *diskSource) copyTo(_ context.Context, w *bodyWriter, off, n int64) error {
	if n < 0 {
		n = d.item.Meta.size - off
	}
	if _, err := d.f.Seek(d.item.BodyOffset+off, io.SeekStart); err != nil {
		return err
	}
	for n > 0 {
		chunk := min(n, diskCopyChunk)
		w.extendDeadline()
		copied, err := io.CopyN(w.w, d.f, chunk)
		n -= copied
		if errors.Is(err, io.EOF) {
			d.tier.Drop(d.item, err)
			return fmt.Errorf("disk tier: %s shorter than its header: %w", d.item.Meta.key, errCorrupt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// diskCopyChunk is how much one sendfile call may send before the write
// deadline is pushed forward again.
const diskCopyChunk = 4 << 20

// bodyWriteChunk bounds one Write to the client, so the write deadline can
// be pushed forward between pieces of a large body.
const bodyWriteChunk = 256 << 10

// bodyWriter writes a response body, pushing the connection's write
// deadline forward by WriteTimeout before each piece (see doc.go).
type bodyWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	// long is set for bodies that are large or arrive over time (fills):
	// only those push the deadline.
	long bool
}

func (e *Edge) newBodyWriter(w http.ResponseWriter, long bool) *bodyWriter {
	return &bodyWriter{w: w, timeout: e.cfg.WriteTimeout, long: long}
}

func (bw *bodyWriter) extendDeadline() {
	if bw.rc == nil {
		bw.rc = http.NewResponseController(bw.w)
	}
	// An error means the writer cannot set deadlines (e.g. a test
	// recorder); the server's WriteTimeout still applies then.
	_ = bw.rc.SetWriteDeadline(time.Now().Add(bw.timeout))
}

// flush sends the bytes buffered so far to the client. An error means the
// writer cannot flush (a test recorder); the bytes then go at the end.
func (bw *bodyWriter) flush() {
	if bw.rc == nil {
		bw.rc = http.NewResponseController(bw.w)
	}
	_ = bw.rc.Flush()
}

func (bw *bodyWriter) write(p []byte) error {
	if !bw.long {
		// Small bodies fit in the deadline the server set for the request.
		_, err := bw.w.Write(p)
		return err
	}
	for len(p) > 0 {
		chunk := p[:min(len(p), bodyWriteChunk)]
		bw.extendDeadline()
		if _, err := bw.w.Write(chunk); err != nil {
			return err
		}
		p = p[len(chunk):]
	}
	return nil
}
