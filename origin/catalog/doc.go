// Package catalog keeps the video records (videos/{id}/meta.json in S3):
// create, read, update by read-modify-write with If-Match (retrying when
// another origin process won the race), list newest first, delete.
//
// S3 is the source of truth; several origin processes share one bucket
// without a coordinator of their own.
package catalog
