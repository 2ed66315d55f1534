package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// errTooLarge ends a fill whose body outgrew Config.MaxObjectBytes.
var errTooLarge = errors.New("object larger than the cacheable limit")

// streamBuffer is a body that one writer appends to while any number of
// readers stream what has arrived so far. Bytes below the published
// length never change, so a reader copies out a sub-slice under the lock
// and writes it to its client without holding the lock.
//
// Memory bound: the buffer holds one body, at most Config.MaxObjectBytes
// (or one slice, Config.SliceSize); readers hold no copies.
type streamBuffer struct {
	mu   sync.Mutex
	buf  []byte // published bytes; its backing array is shared with the writer
	done bool
	err  error
	// wake is closed and cleared on every publish; readers that find no new
	// bytes create it and wait on it.
	wake chan struct{}
}

func newStreamBuffer(capacity int64) *streamBuffer {
	return &streamBuffer{buf: make([]byte, 0, capacity)}
}

// completeBuffer is a finished buffer holding body, used to hand cached
// bytes to the same code that streams fills.
func completeBuffer(body []byte) *streamBuffer {
	return &streamBuffer{buf: body, done: true}
}

// readFrom appends r's bytes until EOF, publishing each read. It stops
// with errTooLarge past limit bytes.
//
// When expect >= 0 and the body reaches exactly expect bytes, onComplete
// gets the whole body before its last bytes are published: the fill
// stores the entry there, so a client that has read the last byte and asks
// again is sure to find it cached.
func (b *streamBuffer) readFrom(r io.Reader, limit, expect int64, onComplete func([]byte)) (int64, error) {
	b.mu.Lock()
	local := b.buf
	b.mu.Unlock()
	for {
		if len(local) == cap(local) {
			if int64(len(local)) >= limit {
				// One more read tells "exactly at the limit" from "over it".
				var probe [1]byte
				n, err := r.Read(probe[:])
				if n > 0 {
					return int64(len(local)), errTooLarge
				}
				if err == io.EOF {
					return int64(len(local)), nil
				}
				if err != nil {
					return int64(len(local)), err
				}
				continue
			}
			grown := make([]byte, len(local), min(limit, max(int64(cap(local))*2, 64<<10)))
			copy(grown, local)
			local = grown
		}
		// Reading into the spare capacity races with no reader: readers
		// only look below the published length.
		n, err := r.Read(local[len(local):cap(local)])
		if n > 0 {
			local = local[:len(local)+n]
			if int64(len(local)) == expect && onComplete != nil {
				onComplete(local)
			}
			b.publish(local)
		}
		if err == io.EOF {
			return int64(len(local)), nil
		}
		if err != nil {
			return int64(len(local)), err
		}
	}
}

func (b *streamBuffer) publish(p []byte) {
	b.mu.Lock()
	b.buf = p
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
	b.mu.Unlock()
}

// finish marks the body complete (err == nil) or broken.
func (b *streamBuffer) finish(err error) {
	b.mu.Lock()
	b.done = true
	b.err = err
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
	b.mu.Unlock()
}

// next returns the bytes from off to the published end, waiting for some
// when there are none yet. At the end of a complete body it returns
// io.EOF; on a broken one the fill's error.
func (b *streamBuffer) next(ctx context.Context, off int64) ([]byte, error) {
	for {
		b.mu.Lock()
		switch {
		case off < int64(len(b.buf)):
			p := b.buf[off:]
			b.mu.Unlock()
			return p, nil
		case b.done:
			err := b.err
			b.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return nil, err
		}
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// wait blocks until the body is complete and returns it, or the fill's
// error, or ctx's.
func (b *streamBuffer) wait(ctx context.Context) ([]byte, error) {
	for off := int64(0); ; {
		p, err := b.next(ctx, off)
		if errors.Is(err, io.EOF) {
			body, _ := b.bytes()
			return body, nil
		}
		if err != nil {
			return nil, err
		}
		off += int64(len(p))
	}
}

// bytes returns the complete body, or false if the body is not complete.
func (b *streamBuffer) bytes() ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf, b.done && b.err == nil
}

// copyTo writes bytes [off, off+n) to w as they arrive; n < 0 means to the
// end of the body. A body that ends early or breaks is an error: the
// caller must fail the client's connection, never send a short answer.
func (b *streamBuffer) copyTo(ctx context.Context, w *bodyWriter, off, n int64) error {
	end := off + n
	for n < 0 || off < end {
		p, err := b.next(ctx, off)
		if errors.Is(err, io.EOF) {
			if n < 0 {
				return nil
			}
			return fmt.Errorf("%w: body ended at %d of %d bytes", errOriginBody, off, end)
		}
		if err != nil {
			return err
		}
		if n >= 0 && int64(len(p)) > end-off {
			p = p[:end-off]
		}
		if err := w.write(p); err != nil {
			return err
		}
		off += int64(len(p))
		if !b.ahead(off) {
			// Caught up with a fill still arriving (a live part the origin
			// sends as it is made): send what is here now, rather than
			// leave it in net/http's buffer until more comes.
			w.flush()
		}
	}
	return nil
}

// ahead reports whether bytes past off are already here, or the body is
// over: a reader at off would not wait.
func (b *streamBuffer) ahead(off int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return off < int64(len(b.buf)) || b.done
}
