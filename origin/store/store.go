package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound means the object (or bucket) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPrecondition means a conditional write lost: the object changed
	// (If-Match) or already exists (If-None-Match: *).
	ErrPrecondition = errors.New("precondition failed")
	// ErrTooLarge means a small-object read met an object over its limit.
	ErrTooLarge = errors.New("object too large")
)

// Config says which S3 to talk to.
type Config struct {
	// Endpoint is the S3 base URL, e.g. "http://127.0.0.1:7070". Empty means
	// AWS's own endpoint for Region.
	Endpoint string
	// Region defaults to "us-east-1".
	Region string
	// Bucket holds everything (DESIGN.md's layout). Required.
	Bucket string
	// AccessKey and SecretKey are static credentials; when both are empty the
	// SDK's default chain (env, profile, instance role) is used.
	AccessKey, SecretKey string
	// PathStyle addresses buckets as endpoint/bucket rather than
	// bucket.endpoint; MinIO and versitygw want it.
	PathStyle bool
	// PartSize is the multipart upload part size. Memory used by one upload is
	// bounded by PartSize × (UploadConcurrency+1). It defaults to 8 MiB
	// (S3 allows 10,000 parts: 78 GiB per object).
	PartSize int64
	// UploadConcurrency is how many parts of one upload are in flight. It
	// defaults to 2, so one upload holds at most 3 part buffers (24 MiB),
	// pooled for the next parts and uploads: make bench measured a fresh
	// origin growing by 48-51 MiB over a 2 GiB upload.
	UploadConcurrency int
	// HTTPClient is used for S3 requests. It defaults to one with pooled
	// keep-alive connections.
	HTTPClient *http.Client
}

// Store is an S3 bucket.
type Store struct {
	cfg     Config
	client  *s3.Client
	presign *s3.PresignClient
	parts   *partPool
}

// New builds a Store; it does not touch the network.
func New(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("store: Bucket is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 8 << 20
	}
	if cfg.PartSize < 5<<20 {
		return nil, fmt.Errorf("store: PartSize %d is below S3's 5 MiB minimum", cfg.PartSize)
	}
	if cfg.UploadConcurrency <= 0 {
		cfg.UploadConcurrency = 2
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 64
		tr.ResponseHeaderTimeout = 30 * time.Second
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	opts := s3.Options{
		Region:       cfg.Region,
		UsePathStyle: cfg.PathStyle,
		HTTPClient:   cfg.HTTPClient,
		// Only send/verify checksums where S3 requires them: flexible checksums
		// on streamed bodies are not supported the same way by every S3.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           4,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		creds, err := defaultCredentials(cfg.Region)
		if err != nil {
			return nil, err
		}
		opts.Credentials = creds
	}
	client := s3.New(opts)
	return &Store{
		cfg:     cfg,
		client:  client,
		presign: s3.NewPresignClient(client),
		parts:   newPartPool(cfg.PartSize),
	}, nil
}

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// EnsureBucket creates the bucket when it is missing.
func (s *Store) EnsureBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.cfg.Bucket})
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("store: check bucket %s: %w", s.cfg.Bucket, err)
	}
	_, err = s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.cfg.Bucket})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("store: create bucket %s: %w", s.cfg.Bucket, err)
	}
	return nil
}

// Put stores a small object in one request.
func (s *Store) Put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.put(ctx, key, body, contentType, nil, nil)
	return err
}

// PutIfAbsent stores body only when key does not exist yet; otherwise it
// returns ErrPrecondition.
func (s *Store) PutIfAbsent(ctx context.Context, key string, body []byte, contentType string) (etag string, err error) {
	return s.put(ctx, key, body, contentType, nil, aws.String("*"))
}

// PutIfMatch replaces key only when its current ETag is etag; otherwise it
// returns ErrPrecondition.
func (s *Store) PutIfMatch(ctx context.Context, key string, body []byte, contentType, etag string) (string, error) {
	return s.put(ctx, key, body, contentType, aws.String(etag), nil)
}

func (s *Store) put(ctx context.Context, key string, body []byte, contentType string, ifMatch, ifNoneMatch *string) (string, error) {
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.cfg.Bucket,
		Key:           &key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   optional(contentType),
		IfMatch:       ifMatch,
		IfNoneMatch:   ifNoneMatch,
	})
	if err != nil {
		if isPrecondition(err) {
			return "", fmt.Errorf("store: put %s: %w", key, ErrPrecondition)
		}
		if ifMatch != nil && isNotFound(err) {
			return "", fmt.Errorf("store: put %s: %w", key, ErrPrecondition)
		}
		return "", fmt.Errorf("store: put %s: %w", key, err)
	}
	return aws.ToString(out.ETag), nil
}

// Get reads a small object whole; objects over limit bytes give ErrTooLarge
// (this is for JSON records and indexes, never for media).
func (s *Store) Get(ctx context.Context, key string, limit int64) (body []byte, etag string, err error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return nil, "", s.wrap("get", key, err)
	}
	defer out.Body.Close()
	if out.ContentLength != nil && *out.ContentLength > limit {
		return nil, "", fmt.Errorf("store: get %s: %d bytes: %w", key, *out.ContentLength, ErrTooLarge)
	}
	body, err = io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("store: get %s: %w", key, err)
	}
	if int64(len(body)) > limit {
		return nil, "", fmt.Errorf("store: get %s: %w", key, ErrTooLarge)
	}
	return body, aws.ToString(out.ETag), nil
}

// ObjectInfo is what HEAD tells about an object.
type ObjectInfo struct {
	Size         int64
	ETag         string
	ContentType  string
	LastModified time.Time
}

// Head returns an object's size, ETag and type.
func (s *Store) Head(ctx context.Context, key string) (ObjectInfo, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return ObjectInfo{}, s.wrap("head", key, err)
	}
	return ObjectInfo{
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		ContentType:  aws.ToString(out.ContentType),
		LastModified: aws.ToTime(out.LastModified),
	}, nil
}

// GetRange opens bytes [off, off+n) of key. The caller closes the body.
func (s *Store) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if n <= 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	rng := fmt.Sprintf("bytes=%d-%d", off, off+n-1)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key, Range: &rng})
	if err != nil {
		return nil, s.wrap("get range of", key, err)
	}
	return out.Body, nil
}

// Delete removes one object; a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("store: delete %s: %w", key, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.wrap("list", prefix, err)
		}
		// One DeleteObject per key rather than DeleteObjects: the batch call
		// needs a Content-MD5 that not every S3 computes the same way.
		for _, obj := range page.Contents {
			if err := s.Delete(ctx, aws.ToString(obj.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListPage lists up to max entries after startAfter below prefix. With a
// delimiter, CommonPrefixes come back as keys too (ending in the delimiter),
// in the order S3 lists them.
func (s *Store) ListPage(ctx context.Context, prefix, startAfter, delimiter string, max int32) (keys []string, more bool, err error) {
	in := &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &prefix, MaxKeys: aws.Int32(max)}
	if startAfter != "" {
		in.StartAfter = &startAfter
	}
	if delimiter != "" {
		in.Delimiter = &delimiter
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, s.wrap("list", prefix, err)
	}
	for _, cp := range out.CommonPrefixes {
		keys = append(keys, aws.ToString(cp.Prefix))
	}
	for _, obj := range out.Contents {
		keys = append(keys, aws.ToString(obj.Key))
	}
	return keys, aws.ToBool(out.IsTruncated), nil
}

// Sizes calls fn with the key and size of every object below prefix,
// page by page (1000 keys a request): memory stays one page however many
// objects there are.
func (s *Store) Sizes(ctx context.Context, prefix string, fn func(key string, size int64)) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return s.wrap("list", prefix, err)
		}
		for _, obj := range out.Contents {
			fn(aws.ToString(obj.Key), aws.ToInt64(obj.Size))
		}
	}
	return nil
}

// PresignGet returns a URL that reads key without credentials until ttl
// passes; ffmpeg reads sources through it (with Range seeks).
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("store: presign %s: %w", key, err)
	}
	return req.URL, nil
}

func (s *Store) wrap(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("store: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("store: %s %s: %w", op, key, err)
}

func isNotFound(err error) bool {
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	var nsb *s3types.NoSuchBucket
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nsb) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket", "404":
			return true
		}
	}
	return false
}

func isPrecondition(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict", "412":
			return true
		}
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusPreconditionFailed || re.HTTPStatusCode() == http.StatusConflict) {
		return true
	}
	return false
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

// Client is the S3 client, for libraries that speak S3 themselves (tusd's
// S3 store).
func (s *Store) Client() *s3.Client { return s.client }
