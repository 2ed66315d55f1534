package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// maxParts is S3's limit on the parts of one multipart upload.
const maxParts = 10_000

// Upload streams r into key: a single PUT when the body fits in one part,
// else a multipart upload with UploadConcurrency parts in flight while the
// next one is read. One upload holds at most UploadConcurrency+1 part
// buffers, taken from the store's pool (24 MiB at the defaults, whatever
// the body's size). It returns the number of bytes
// read from r; a failed multipart upload is aborted, so nothing partial is
// left behind.
//
// It replaces transfermanager.UploadObject, which reads the first 16 MiB
// with io.ReadAll and makes a new part pool per call: about twice the
// memory for the same upload.
func (s *Store) Upload(ctx context.Context, key string, r io.Reader, contentType string) (int64, error) {
	cr := &countingReader{r: r}
	first := s.parts.get()
	n, err := io.ReadFull(cr, first)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		defer s.parts.put(first)
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:            &s.cfg.Bucket,
			Key:               &key,
			Body:              bytes.NewReader(first[:n]),
			ContentLength:     aws.Int64(int64(n)),
			ContentType:       optional(contentType),
			ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return cr.n, fmt.Errorf("store: upload %s: %w", key, err)
		}
		return cr.n, nil
	case err != nil:
		s.parts.put(first)
		return cr.n, err
	}
	err = s.multipart(ctx, key, cr, first, contentType)
	return cr.n, err
}

// multipart uploads first and the rest of r as the parts of key.
func (s *Store) multipart(ctx context.Context, key string, r *countingReader, first []byte, contentType string) error {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            &s.cfg.Bucket,
		Key:               &key,
		ContentType:       optional(contentType),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		s.parts.put(first)
		return fmt.Errorf("store: upload %s: %w", key, err)
	}
	id := created.UploadId
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu    sync.Mutex
		done  []s3types.CompletedPart
		wg    sync.WaitGroup
		slots = make(chan struct{}, s.cfg.UploadConcurrency)
	)
	send := func(num int32, buf []byte, n int) {
		defer wg.Done()
		defer func() { <-slots }()
		defer s.parts.put(buf)
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:            &s.cfg.Bucket,
			Key:               &key,
			UploadId:          id,
			PartNumber:        &num,
			Body:              bytes.NewReader(buf[:n]),
			ContentLength:     aws.Int64(int64(n)),
			ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			cancel(fmt.Errorf("store: upload %s: part %d: %w", key, num, err))
			return
		}
		mu.Lock()
		done = append(done, s3types.CompletedPart{ETag: out.ETag, PartNumber: &num, ChecksumCRC32: out.ChecksumCRC32})
		mu.Unlock()
	}

	buf, n := first, len(first)
	var readErr error
	for num := int32(1); buf != nil; num++ {
		if num > maxParts {
			readErr = fmt.Errorf("store: upload %s: over %d parts of %d bytes, S3's limit", key, maxParts, s.cfg.PartSize)
			s.parts.put(buf)
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			s.parts.put(buf)
			break
		}
		wg.Add(1)
		go send(num, buf, n) // buf is send's now; the loop reads into a new one
		if n < int(s.cfg.PartSize) {
			break // that was the short last part
		}
		// Read the next part while up to UploadConcurrency are in flight.
		next := s.parts.get()
		n, readErr = io.ReadFull(r, next)
		if errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF) {
			readErr = nil
		}
		if readErr != nil || n == 0 {
			s.parts.put(next)
			if readErr != nil {
				cancel(readErr) // no use finishing the parts in flight
			}
			break
		}
		buf = next
	}
	wg.Wait()
	// The body's own error (a client that went away, a size limit) is what
	// the caller needs to see, not what it did to the parts in flight.
	err = readErr
	if err == nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		slices.SortFunc(done, func(a, b s3types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
		_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          &s.cfg.Bucket,
			Key:             &key,
			UploadId:        id,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done},
		})
		if err == nil {
			return nil
		}
		err = fmt.Errorf("store: upload %s: complete: %w", key, err)
	}
	// Abort even when the caller's context is gone: parts left behind
	// cost storage until a lifecycle rule clears them.
	abortCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer stop()
	if aerr := s.abort(abortCtx, key, id); aerr != nil {
		err = fmt.Errorf("%w (and aborting the multipart upload failed: %v)", err, aerr)
	}
	return err
}

// abort aborts a multipart upload until S3 no longer knows it. A part
// whose request was cancelled may still be written by the server after
// the first abort and bring the upload back; S3's documentation says to
// abort again in that case (seen with versitygw under load).
func (s *Store) abort(ctx context.Context, key string, id *string) error {
	backoff := 50 * time.Millisecond
	for try := 0; ; try++ {
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key, UploadId: id})
		if err != nil && try == 0 {
			return err
		}
		parts, lerr := s.client.ListParts(ctx, &s3.ListPartsInput{Bucket: &s.cfg.Bucket, Key: &key, UploadId: id})
		if lerr != nil || len(parts.Parts) == 0 && try > 0 {
			return nil //nolint:nilerr // gone (NoSuchUpload), or empty after a second abort
		}
		if try == 3 {
			return fmt.Errorf("the multipart upload still has %d parts after %d aborts", len(parts.Parts), try+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// abortTimeout bounds the clean-up of a failed multipart upload.
const abortTimeout = 30 * time.Second

// partPool hands out part buffers. Buffers returned are reused by the
// next parts and uploads; like any sync.Pool it lets idle ones go after
// two garbage collections, so 24 MiB of upload buffers do not stay in the
// live heap (and, through the GC's target, double) while the origin does
// other work such as packaging.
type partPool struct {
	size int64
	pool sync.Pool
}

func newPartPool(size int64) *partPool {
	return &partPool{size: size}
}

func (p *partPool) get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, p.size)
}

func (p *partPool) put(b []byte) {
	b = b[:cap(b)]
	p.pool.Put(&b)
}
