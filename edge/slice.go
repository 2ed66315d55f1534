package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/httprange"
)

// Large objects (progressive MP4) are cached as aligned slices of
// Config.SliceSize bytes: slice i holds bytes [i*S, (i+1)*S). Each slice is
// fetched from the origin with "Range: bytes=i*S-(i+1)*S-1", so a viewer
// seeking into an uncached 2 GB file costs the origin only the slices the
// viewer touches. The object's metadata (length from the 206's
// Content-Range, validators, freshness) is a kindSliced entry under the
// object's key; slices are kindSlice entries whose keys carry the object's
// validator, so a new version at the origin can never be stitched together
// with slices of the old one.

// sliceKeySep separates an object key from its slice suffix.
const sliceKeySep = '\x00'

// sliceKey names slice idx of the version of the object meta describes.
func sliceKey(meta *entry, idx int64) string {
	return meta.key + string(sliceKeySep) + meta.validatorTag() + string(sliceKeySep) + strconv.FormatInt(idx, 10)
}

// sliceFlightKey names the fill of slice idx of key, whatever the version:
// a client that does not know the object yet must join the same flight as
// one that does.
func sliceFlightKey(key string, idx int64) string {
	return key + string(sliceKeySep) + "fill" + string(sliceKeySep) + strconv.FormatInt(idx, 10)
}

// isSliced reports whether path is cached as slices. The literal suffix
// of each pattern (".mp4") is checked first, so most paths never reach
// the regexp.
func (e *Edge) isSliced(path string) bool {
	for _, g := range e.sliced {
		if strings.HasSuffix(path, g.suffix) && g.re.MatchString(path) {
			return true
		}
	}
	return false
}

// slicedPattern is one compiled Config.SlicedPaths glob.
type slicedPattern struct {
	re     *regexp.Regexp
	suffix string // the literal text after the last wildcard
}

func newSlicedPattern(glob string) (slicedPattern, error) {
	re, err := compileGlob(glob)
	if err != nil {
		return slicedPattern{}, err
	}
	suffix := glob[strings.LastIndexAny(glob, "*?")+1:]
	return slicedPattern{re: re, suffix: suffix}, nil
}

// sliceLen is the length of slice idx of an object of size bytes.
func (e *Edge) sliceLen(size, idx int64) int64 {
	return max(0, min(e.cfg.SliceSize, size-idx*e.cfg.SliceSize))
}

// joinSliceFill joins or starts the fill of slice idx of key. prev, if
// set, is the stale object metadata to revalidate on the way.
func (e *Edge) joinSliceFill(key, uri string, idx int64, prev *cached) *fill {
	fk := sliceFlightKey(key, idx)
	f, started := e.flights.Join(fk, e.newFill(fk))
	if started && !e.goFill(func(ctx context.Context) { e.runSliceFill(ctx, f, fk, key, uri, idx, prev) }) {
		e.failFill(f, errShuttingDown)
	}
	return f
}

func (e *Edge) runSliceFill(ctx context.Context, f *fill, flightKey, key, uri string, idx int64, prev *cached) {
	defer e.flights.Leave(flightKey, f)
	now := e.cfg.Now()
	// Re-check inside the flight, as in runWholeFill: a fill of this slice
	// that ended between the caller's lookup and its join has already
	// stored the metadata and the slice.
	if c, ok := e.lookup(key); ok && c.meta.fresh(now) {
		if c.meta.kind != kindSliced || e.contains(sliceKey(c.meta, idx)) {
			f.resolve(outcomeCached, c)
			return
		}
	}
	var prevMeta *entry
	if prev != nil {
		prevMeta = prev.meta
	}
	start := idx * e.cfg.SliceSize
	rangeValue := "bytes=" + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(start+e.cfg.SliceSize-1, 10)
	cond := conditionalHeaders(prevMeta)
	e.metrics.originFetches.Inc()
	resp, err := e.fetch(ctx, key, uri, func(h http.Header) {
		h.Set("Range", rangeValue)
		if cond != nil {
			cond(h)
		}
	})
	if err != nil {
		e.noteOriginFailure(err, e.cfg.Now())
		e.failFill(f, err)
		return
	}
	e.noteOriginAnswer(resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusPartialContent:
		got, total, err := httprange.ParseContentRange(resp.Header.Get("Content-Range"))
		first, last := got.Start, got.End
		if err != nil || first > start || (start < total && last < start+e.sliceLen(total, idx)-1) {
			resp.Body.Close()
			e.failFill(f, fmt.Errorf("%w: Content-Range %q for %s", errOriginBadResponse, resp.Header.Get("Content-Range"), rangeValue))
			return
		}
		e.streamSlice(f, key, idx, resp, total, first, now)
	case resp.StatusCode == http.StatusOK && resp.ContentLength >= 0:
		// The origin ignored Range: cut the slice out of the whole body.
		e.streamSlice(f, key, idx, resp, resp.ContentLength, 0, now)
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		resp.Body.Close()
		f.resolve(outcomeRefreshed, e.refresh(f, *prev, resp.Header, now))
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The slice starts past the end: the answer still tells the length.
		resp.Body.Close()
		total, err := httprange.ParseUnsatisfiedRange(resp.Header.Get("Content-Range"))
		if err != nil {
			e.failFill(f, fmt.Errorf("%w: 416 without Content-Range", errOriginBadResponse))
			return
		}
		meta := e.newEntry(key, kindSliced, http.StatusOK, resp.Header, now)
		meta.setSize(total)
		meta.storable = false // a 416 may lack the validators; learn them from a real slice
		f.startStream(meta, completeBuffer(nil))
	case resp.StatusCode >= 500 && prev != nil && prev.meta.usableOnError(now):
		resp.Body.Close()
		e.failFill(f, originStatusError{resp.StatusCode})
	default:
		// 404 and other answers, and a 200 of unknown length: a whole object.
		e.streamWhole(f, key, resp, now)
	}
}

// streamSlice stores the object metadata at once (so clients asking for
// other slices can proceed), then streams slice idx into f and stores it.
// bodyStart is the object offset of the body's first byte.
func (e *Edge) streamSlice(f *fill, key string, idx int64, resp *http.Response, total, bodyStart int64, now time.Time) {
	defer resp.Body.Close()
	meta := e.newEntry(key, kindSliced, http.StatusOK, resp.Header, now)
	meta.setSize(total)
	if cur, ok := e.lookup(key); !ok || cur.meta.kind != kindSliced || cur.meta.validatorTag() != meta.validatorTag() || !cur.meta.fresh(now) {
		// Only a new or expired version is stored: the fills of the other
		// slices of a known object must not rewrite its metadata file.
		e.storeIfCurrent(f, key, func() { e.store(meta, nil) })
	}

	start := idx * e.cfg.SliceSize
	want := e.sliceLen(total, idx)
	body := newStreamBuffer(want)
	f.slice, f.hasSlice = idx, true
	f.startStream(meta, body)

	var err error
	if skip := start - bodyStart; skip > 0 {
		if _, err = io.CopyN(io.Discard, resp.Body, skip); err != nil {
			err = fmt.Errorf("%w: skipping to slice %d: %w", errOriginBody, idx, err)
		}
	}
	sm := &entry{key: sliceKey(meta, idx), kind: kindSlice, status: http.StatusOK, date: now, storable: meta.storable}
	sm.setSize(want)
	var n int64
	if err == nil {
		n, err = body.readFrom(io.LimitReader(resp.Body, want), want, want, func(b []byte) {
			e.storeIfCurrent(f, sm.key, func() { e.storeMemory(sm, b) })
		})
		if err == nil && n != want {
			err = fmt.Errorf("%w: slice %d got %d of %d bytes", errOriginBody, idx, n, want)
		} else if err != nil {
			err = fmt.Errorf("%w: %w", errOriginBody, err)
		}
	}
	if err != nil {
		e.remove(sm.key)
		e.finishBroken(f, err)
		e.log.Warn("slice fill broke mid-body; not cached", "key", key, "slice", idx, "err", err)
		return
	}
	done, _ := body.bytes()
	if want == 0 {
		e.storeIfCurrent(f, sm.key, func() { e.storeMemory(sm, done) })
	}
	body.finish(nil)
	e.storeIfCurrent(f, sm.key, func() { e.storeDisk(sm, done) })
}

// slicedSource streams a byte range of a sliced object, slice by slice,
// from memory, disk or fills. It holds at most one slice in memory plus
// the one being prefetched.
type slicedSource struct {
	e    *Edge
	meta *entry
	uri  string
	// first is a fill already carrying one slice of this version, or nil.
	first *fill
	// ready is slice readyIdx, obtained by prepare before the answer's
	// headers went out.
	ready    bodySource
	readyIdx int64
}

// prepare obtains the slice holding byte off before anything is written,
// so that when it cannot be had (the origin is down and the slice is not
// cached) the client gets a clear error status rather than headers and a
// cut connection.
func (s *slicedSource) prepare(ctx context.Context, off int64) error {
	idx := off / s.e.cfg.SliceSize
	src, err := s.slice(ctx, idx)
	if err != nil {
		return err
	}
	s.ready, s.readyIdx = src, idx
	return nil
}

func (s *slicedSource) copyTo(ctx context.Context, w *bodyWriter, off, n int64) error {
	size := s.meta.size
	if n < 0 {
		n = size - off
	}
	end := off + n
	S := s.e.cfg.SliceSize
	for pos := off; pos < end; {
		idx := pos / S
		sliceStart := idx * S
		src, err := s.ready, error(nil)
		if src == nil || idx != s.readyIdx {
			src, err = s.slice(ctx, idx)
		}
		if err != nil {
			return err
		}
		// Prefetch the next slice while this one goes to the client, so a
		// cold progressive download does not stall at every boundary.
		if next := idx + 1; next*S < end {
			s.e.prefetchSlice(s.meta, s.uri, next)
		}
		m := min(end, sliceStart+s.e.sliceLen(size, idx)) - pos
		if m <= 0 {
			return fmt.Errorf("%w: slice %d is empty", errObjectChanged, idx)
		}
		if err := src.copyTo(ctx, w, pos-sliceStart, m); err != nil {
			return err
		}
		pos += m
	}
	return nil
}

// cachedRange reports whether every slice of [off, off+n) is cached.
func (s *slicedSource) cachedRange(off, n int64) bool {
	if n <= 0 {
		return true
	}
	S := s.e.cfg.SliceSize
	for idx := off / S; idx <= (off+n-1)/S; idx++ {
		if !s.e.contains(sliceKey(s.meta, idx)) {
			return false
		}
	}
	return true
}

// slice finds slice idx in the cache or in a fill.
func (s *slicedSource) slice(ctx context.Context, idx int64) (bodySource, error) {
	key := sliceKey(s.meta, idx)
	for range 3 {
		if f := s.first; f != nil && f.hasSlice && f.slice == idx {
			return f.body, nil
		}
		if it, ok := s.e.mem.get(key); ok {
			return bytesSource(it.body), nil
		}
		if s.e.diskTrusted() {
			if it, ok := s.e.disk.Get(key); ok {
				body, err := s.e.disk.ReadBody(it)
				if err == nil {
					s.e.mem.set(&memItem{meta: it.Meta, body: body})
					return bytesSource(body), nil
				}
				// Corrupt: dropped by readBody; fetch it again below.
			}
		}
		f := s.e.joinSliceFill(s.meta.key, s.uri, idx, nil)
		if err := f.wait(ctx); err != nil {
			return nil, err
		}
		switch f.outcome {
		case outcomeStream:
			if !f.hasSlice || f.meta.validatorTag() != s.meta.validatorTag() {
				s.e.remove(s.meta.key)
				return nil, fmt.Errorf("%w: %s", errObjectChanged, s.meta.key)
			}
			if f.slice == idx {
				return f.body, nil
			}
		case outcomeFailed:
			return nil, f.err
		case outcomePass:
			return nil, fmt.Errorf("%w: %s", errObjectChanged, s.meta.key)
		}
		// Cached or refreshed: look in the cache again.
	}
	return nil, fmt.Errorf("%w: slice %d of %s kept changing", errObjectChanged, idx, s.meta.key)
}

// prefetchSlice starts the fill of slice idx unless it is cached or
// already being filled. Nobody waits for it; the fill stores the slice.
func (e *Edge) prefetchSlice(meta *entry, uri string, idx int64) {
	if idx*e.cfg.SliceSize >= meta.size || e.contains(sliceKey(meta, idx)) || e.flights.Running(sliceFlightKey(meta.key, idx)) {
		return
	}
	e.joinSliceFill(meta.key, uri, idx, nil)
}
