// Package store is the origin's only door to S3: streamed multipart uploads,
// ranged reads, small JSON objects with conditional writes, listing and
// deletion, through aws-sdk-go-v2 against any S3 endpoint (AWS S3, MinIO,
// versitygw).
//
// Conditional writes (If-Match / If-None-Match: *) are how several origin
// processes agree without a coordinator of their own; they surface here as
// ErrPrecondition.
package store
